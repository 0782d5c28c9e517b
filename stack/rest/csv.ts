// `Accept: text/csv`: PostgREST's CSV (a header row, then one line per row, RFC 4180 quoting;
// null is an empty field, nested JSON is written as its JSON text).
function field(v: unknown): string {
	if (v === null || v === undefined) return '';
	const text = typeof v === 'object' ? JSON.stringify(v) : String(v);
	return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function toCsv(json: string): string {
	const rows = JSON.parse(json) as Record<string, unknown>[];
	if (rows.length === 0) return '';
	const columns = Object.keys(rows[0]);
	const lines = [columns.map(field).join(',')];
	for (const row of rows) lines.push(columns.map((c) => field(row[c])).join(','));
	return lines.join('\n');
}

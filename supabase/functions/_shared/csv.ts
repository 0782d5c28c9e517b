// RFC 4180 output: CRLF line ends, fields holding a comma, quote, CR or LF quoted, quotes doubled.
// Text cells that a spreadsheet would read as a formula are prefixed with an apostrophe.

/** Excel reads a BOM-less CSV as the legacy code page, so exports start with one by default. */
export const utf8Bom = new Uint8Array([0xef, 0xbb, 0xbf]);

const formulaStart = /^[=+\-@\t\r\n]/;

/** Prefixes text a spreadsheet would evaluate (`=`, `+`, `-`, `@`, tab, CR, LF) with `'`. */
export function neutralise(text: string): string {
	return formulaStart.test(text) ? `'${text}` : text;
}

const needsQuotes = /[",\r\n]/;

/** Quotes a field when it holds a comma, quote, CR or LF, doubling its quotes. */
export function csvQuote(text: string): string {
	return needsQuotes.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One CSV field; strings are neutralised, other values written as they are. */
export function csvField(value: unknown): string {
	if (value === null || value === undefined) return '';
	if (typeof value === 'string') return csvQuote(neutralise(value));
	if (value instanceof Date) return value.toISOString();
	return csvQuote(String(value));
}

export function csvRow(values: readonly unknown[]): string {
	return values.map(csvField).join(',') + '\r\n';
}

// RFC 4180 output: CRLF line ends, fields holding a comma, quote, CR or LF quoted, quotes doubled.
// Text cells that a spreadsheet would read as a formula are prefixed with an apostrophe.

/** Excel reads a BOM-less CSV as the legacy code page, so exports start with one by default. */
export const utf8Bom = new Uint8Array([0xef, 0xbb, 0xbf]);

const formulaStart = /^[=+\-@\t\r\n]/;

/** Prefixes text a spreadsheet would evaluate (`=`, `+`, `-`, `@`, tab, CR, LF) with `'`. */
export function neutralise(text: string): string {
	return formulaStart.test(text) ? `'${text}` : text;
}

/** One CSV field; strings are neutralised, other values written as they are. */
export function csvField(value: unknown): string {
	if (value === null || value === undefined) return '';
	let text: string;
	if (typeof value === 'string') text = neutralise(value);
	else if (value instanceof Date) text = value.toISOString();
	else text = String(value);
	return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvRow(values: readonly unknown[]): string {
	return values.map(csvField).join(',') + '\r\n';
}

/**
 * SQL that neutralises a text expression the same way `neutralise` does, for rows that
 * Postgres formats itself (COPY ... TO STDOUT).
 */
export function sqlNeutralise(expr: string): string {
	return `case when left(${expr}, 1) in ('=', '+', '-', '@', E'\\t', E'\\r', E'\\n') then '''' || ${expr} else ${expr} end`;
}

const LF = 0x0a;
const QUOTE = 0x22;

/**
 * Rewrites Postgres' CSV (LF record ends) to CRLF record ends. Line feeds inside quoted
 * fields are data and stay as they are; the quote state carries across chunks.
 */
export class CrlfRecords {
	#quoted = false;

	// Postgres quotes every field holding a CR, so an unquoted LF always ends a record.
	convert(chunk: Uint8Array): Uint8Array {
		let ends = 0;
		let quoted = this.#quoted;
		for (let i = 0; i < chunk.length; i++) {
			const b = chunk[i];
			if (b === QUOTE) quoted = !quoted;
			else if (b === LF && !quoted) ends++;
		}
		if (ends === 0) {
			this.#quoted = quoted;
			return chunk;
		}
		const out = new Uint8Array(chunk.length + ends);
		let j = 0;
		quoted = this.#quoted;
		for (let i = 0; i < chunk.length; i++) {
			const b = chunk[i];
			if (b === QUOTE) quoted = !quoted;
			else if (b === LF && !quoted) out[j++] = 0x0d;
			out[j++] = b;
		}
		this.#quoted = quoted;
		return out;
	}
}

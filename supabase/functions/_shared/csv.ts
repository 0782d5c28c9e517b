// RFC 4180 output: CRLF line ends, fields holding a comma, quote, CR or LF quoted, quotes doubled.
// Text cells that a spreadsheet would read as a formula are prefixed with an apostrophe.

/** Excel reads a BOM-less CSV as the legacy code page, so exports start with one by default. */
export const utf8Bom = new Uint8Array([0xef, 0xbb, 0xbf]);

/**
 * First characters that make a spreadsheet evaluate a cell. The fullwidth forms count too:
 * spreadsheets in CJK locales read `＝ ＋ － ＠` as their ASCII forms.
 */
export const formulaLeads = ['=', '+', '-', '@', '\t', '\r', '\n', '＝', '＋', '－', '＠'] as const;

/** Prefixes text a spreadsheet would evaluate (see `formulaLeads`) with `'`. */
export function neutralise(text: string): string {
	return (formulaLeads as readonly string[]).includes(text.charAt(0)) ? `'${text}` : text;
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

/** `formulaLeads` as code points: SQL compares `ascii(text)` (the first character's code point). */
const leadCodePoints = formulaLeads.map((c) => c.codePointAt(0)).join(', ');

/**
 * SQL that neutralises a text expression the same way `neutralise` does, for rows that
 * Postgres formats itself (COPY ... TO STDOUT). An integer test on the first code point: a
 * text comparison per lead made Postgres spend a third of an export on it.
 */
export function sqlNeutralise(expr: string): string {
	return `case when ascii(${expr}) in (${leadCodePoints}) then '''' || ${expr} else ${expr} end`;
}

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;

/**
 * Rewrites Postgres' CSV (LF record ends) to CRLF record ends and counts records. Line feeds
 * inside quoted fields are data and stay; the quote state carries across chunks. Postgres
 * quotes every field holding a CR or LF, so an unquoted LF always ends a record.
 */
export class CrlfRecords {
	#quoted = false;
	records = 0;

	/** Positions of the record-ending LFs of a chunk; the quote state carries to the next. */
	#ends(chunk: Uint8Array): number[] {
		// Native indexOf does the scanning; positions found are cached so each byte is seen once.
		const ends: number[] = [];
		const n = chunk.length;
		let quoted = this.#quoted;
		let i = 0;
		let nextQuote = -1;
		let nextLf = -1;
		while (i < n) {
			if (nextQuote !== Infinity && nextQuote < i) {
				const q = chunk.indexOf(QUOTE, i);
				nextQuote = q < 0 ? Infinity : q;
			}
			if (quoted) {
				if (nextQuote === Infinity) break;
				quoted = false;
				i = nextQuote + 1;
				continue;
			}
			if (nextLf !== Infinity && nextLf < i) {
				const l = chunk.indexOf(LF, i);
				nextLf = l < 0 ? Infinity : l;
			}
			if (nextLf < nextQuote) {
				ends.push(nextLf);
				i = nextLf + 1;
			} else if (nextQuote !== Infinity) {
				quoted = true;
				i = nextQuote + 1;
			} else break;
		}
		this.#quoted = quoted;
		this.records += ends.length;
		return ends;
	}

	/**
	 * The chunks, in order, as one buffer with CRLF record ends: one allocation however many
	 * chunks (a lone chunk without record ends is returned as it is).
	 */
	convert(...chunks: Uint8Array[]): Uint8Array {
		const ends = chunks.map((chunk) => this.#ends(chunk));
		const added = ends.reduce((sum, e) => sum + e.length, 0);
		if (chunks.length === 1 && added === 0) return chunks[0];
		const out = new Uint8Array(chunks.reduce((sum, c) => sum + c.length, added));
		let to = 0;
		chunks.forEach((chunk, k) => {
			let from = 0;
			for (const end of ends[k]) {
				out.set(chunk.subarray(from, end), to);
				to += end - from;
				out[to++] = CR;
				out[to++] = LF;
				from = end + 1;
			}
			out.set(chunk.subarray(from), to);
			to += chunk.length - from;
		});
		return out;
	}
}

// Counts CSV records as the bytes stream past, without keeping them: a record ends at a line
// break outside double quotes (a quoted cell may hold line breaks; "" inside quotes toggles
// twice, so it needs no special case).
const QUOTE = 0x22;
const LF = 0x0a;

export class CsvProgress {
	bytes = 0;
	/** Line breaks outside quotes seen so far (records, the header included). */
	private lines = 0;
	private quoted = false;

	push(chunk: Uint8Array): void {
		this.bytes += chunk.byteLength;
		let quoted = this.quoted;
		let lines = 0;
		for (let i = 0; i < chunk.length; i++) {
			const b = chunk[i];
			if (b === QUOTE) quoted = !quoted;
			else if (b === LF && !quoted) lines++;
		}
		this.quoted = quoted;
		this.lines += lines;
	}

	/** Data rows written so far (the header line is not a row). */
	get rows(): number {
		return Math.max(0, this.lines - 1);
	}
}

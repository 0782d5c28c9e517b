// Streams an export from the app's same-origin export endpoint (which forwards the user's
// session to export-csv) into a file the user picked, chunk by chunk: the page never holds the
// file, only the piece in flight. Cancel aborts the request (the server stops the query) and
// discards the partial file.
import { CsvProgress } from './csv-progress';

export type ExportProgress = { rows: number; bytes: number };

export class ExportError extends Error {}

/** Where the bytes go: the File System Access API's writable, or any WritableStream. */
export type FileSink = WritableStream<Uint8Array> & { abort(reason?: unknown): Promise<void> };

type SaveFilePicker = (options: {
	suggestedName: string;
	types: { description: string; accept: Record<string, string[]> }[];
}) => Promise<{ createWritable(): Promise<FileSink> }>;

/** The save dialog where the browser has one (Chromium desktop); null elsewhere. */
export function savePicker(): SaveFilePicker | null {
	const w = globalThis as unknown as { showSaveFilePicker?: SaveFilePicker };
	return typeof w.showSaveFilePicker === 'function' ? w.showSaveFilePicker.bind(globalThis) : null;
}

/** Asks where to save; null when the user closes the dialog. Call it from the click itself. */
export async function pickFile(picker: SaveFilePicker, name: string): Promise<FileSink | null> {
	try {
		const handle = await picker({
			suggestedName: name,
			types: [{ description: 'CSV file', accept: { 'text/csv': ['.csv'] } }]
		});
		return await handle.createWritable();
	} catch (err) {
		if ((err as Error).name === 'AbortError') return null;
		throw err;
	}
}

async function errorMessage(res: Response): Promise<string> {
	const body = await res.text().catch(() => '');
	try {
		const parsed = JSON.parse(body) as { message?: string; error?: { message?: string } };
		const message = parsed.message ?? parsed.error?.message;
		if (message) return message;
	} catch {
		// not JSON: fall through
	}
	return `The export failed (HTTP ${res.status}). Try again, or narrow the range.`;
}

/**
 * Downloads `url` into `sink`, reporting progress after each chunk. Resolves with the totals
 * once the file is complete and closed; rejects (and aborts the sink) on error or cancel.
 */
export async function streamExport(
	url: string,
	sink: FileSink,
	{ signal, onProgress }: { signal: AbortSignal; onProgress: (p: ExportProgress) => void }
): Promise<ExportProgress> {
	const progress = new CsvProgress();
	let writer: WritableStreamDefaultWriter<Uint8Array> | null = null;
	try {
		const res = await fetch(url, { signal, headers: { accept: 'text/csv' } });
		if (!res.ok || !res.body) throw new ExportError(await errorMessage(res));
		writer = sink.getWriter();
		const reader = res.body.getReader();
		for (;;) {
			const { done, value } = await reader.read();
			if (done) break;
			// Backpressure: the next read waits until the disk has taken this chunk.
			await writer.write(value);
			progress.push(value);
			onProgress({ rows: progress.rows, bytes: progress.bytes });
		}
		await writer.close();
		return { rows: progress.rows, bytes: progress.bytes };
	} catch (err) {
		// A partial file is worse than none: discard it.
		await (writer ? writer.abort(err) : sink.abort(err)).catch(() => {});
		throw err;
	}
}

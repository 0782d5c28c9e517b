// Reading one COPY ... TO STDOUT of an export as buffers, and sizing the time windows an export
// is read in.
import type { Connection } from './pool.ts';
import { CrlfRecords } from '../_shared/csv.ts';

// Each window is plain SQL over the tables, so COPY streams its rows as the index scan reads
// them. Windows exist for the role's statement_timeout (one statement each) and keep a slow
// client's statement short (see nextWindowMs); each costs a probe and a plan, so they are large.
export const firstWindowMs = 15 * 60_000;
const rowsPerWindow = 100_000;
/**
 * No window reads more raw rows than this: growing past an empty stretch into a dense one
 * must not make one statement that outlives the role's statement_timeout.
 */
export const maxWindowRows = 2 * rowsPerWindow;

/**
 * The next window, from the last one's row count (towards rowsPerWindow) and how long the
 * client took to receive it: each window is one statement under the role's statement_timeout,
 * so a slow client gets smaller windows (aiming at budgetMs each) instead of a timeout.
 */
export function nextWindowMs(lastMs: number, rows: number, tookMs: number, budgetMs: number) {
	const byRows = rows === 0 ? 4 : rowsPerWindow / rows;
	const byTime = tookMs > 0 ? budgetMs / tookMs : 4;
	const factor = Math.min(4, Math.max(0.25, Math.min(byRows, byTime)));
	return Math.max(1000, lastMs * factor);
}

type NodeReadable = {
	read(): Uint8Array | null;
	readableEnded: boolean;
	destroyed: boolean;
	on(event: string, listener: (arg?: unknown) => void): void;
	once(event: string, listener: (arg?: unknown) => void): void;
	off(event: string, listener: (arg?: unknown) => void): void;
};

/**
 * Everything the COPY stream holds so far as one buffer (null at its end). Postgres sends a
 * message per row; taking them in bulk instead of one promise per row is most of the speed.
 */
function readBuffered(stream: NodeReadable): Promise<Uint8Array | null> {
	const data = stream.read();
	if (data !== null) return Promise.resolve(data);
	if (stream.readableEnded || stream.destroyed) return Promise.resolve(null);
	return new Promise((resolve, reject) => {
		const settle = () => {
			stream.off('readable', settle);
			stream.off('end', settle);
			stream.off('error', fail);
			resolve(readBuffered(stream));
		};
		const fail = (err?: unknown) => {
			stream.off('readable', settle);
			stream.off('end', settle);
			reject(err);
		};
		stream.once('readable', settle);
		stream.once('end', settle);
		stream.once('error', fail);
	});
}

export type Copy = {
	/**
	 * The next CRLF records, at least `minBytes` of them unless the window ends first; null at
	 * the end of the window. Postgres sends a message per row: handing each on alone would make
	 * every proxy between here and the browser pay per row.
	 */
	next: (minBytes: number) => Promise<Uint8Array | null>;
	/** Records read so far. */
	records: () => number;
	/** Call once next() returned null (see below). */
	finish: () => void;
	/** When the window's statement started. */
	startedAt: number;
};

/** Starts a COPY on the connection; the query text must be trusted (see query.ts). */
export async function openCopy(conn: Connection, query: string): Promise<Copy> {
	const startedAt = performance.now();
	const copy = conn.unsafe(`copy (${query}) to stdout (format csv)`);
	const rows = (await copy.readable()) as unknown as NodeReadable & { _read(size: number): void };
	// A failure (a timeout, a connection closed by a cut-off) also rejects the query and errors
	// the stream while nobody may be reading: kept for the next read instead of ending the
	// process as an unhandled error, and never mistaken for the end of the rows.
	let failure: unknown;
	copy.catch((err) => (failure ??= err));
	rows.on('error', (err) => (failure ??= err));
	const crlf = new CrlfRecords();
	let ended = false;
	return {
		next: async (minBytes) => {
			const pieces: Uint8Array[] = [];
			let size = 0;
			while (!ended && size < minBytes) {
				if (failure) throw failure;
				const data = await readBuffered(rows);
				if (failure) throw failure;
				if (data === null) ended = true;
				else {
					pieces.push(data);
					size += data.byteLength;
				}
			}
			return size === 0 ? null : crlf.convert(...pieces);
		},
		records: () => crlf.records,
		// postgres.js pauses its socket when a push meets a full buffer and resumes it only from
		// _read, which a finished stream no longer gets; without this nudge the closing
		// ReadyForQuery can stay unread and the next query would wait forever.
		finish: () => rows._read(0),
		startedAt
	};
}

// Change capture: a durable logical replication slot streamed with pgoutput over a walsender
// connection. Durable (not temporary), so changes committed while the server was down or the
// database restarted are still in the slot; we confirm a position only after its changes went
// out to the sockets, which makes restarts lose nothing that was committed.
//
// pgoutput without `streaming` sends a transaction only after it committed, but it sends it
// change by change: we hand changes on in chunks as they arrive instead of collecting the whole
// transaction, so a 1M-row commit costs a chunk's memory, not a million rows'. The consumer
// pauses the stream when it falls behind, which stops reading the socket: the walsender waits.
import postgres from 'postgres';
import { decodeMessage, pgNow, type Change, type RelationInfo } from './pgoutput.ts';

export { lsnFromString, lsnToString } from './pgoutput.ts';
export type { Change, RelationInfo, TupleValue } from './pgoutput.ts';

/** A run of one committed transaction's changes, in commit order. */
export interface ChangeChunk {
	/** the commit record's position (from BEGIN): orders transactions, known before any change */
	commitLsn: bigint;
	commitTime: Date;
	changes: Change[];
	/** their size on the wire: what the consumer's memory bound counts */
	bytes: number;
	/** on the transaction's final chunk only: the position to confirm once it went out */
	endLsn: bigint | null;
	/** performance.now() when the chunk was handed on */
	receivedAt: number;
}

/** Changes per chunk: large enough to batch RLS checks, small enough to bound memory. */
export const CHUNK_CHANGES = 2000;
/** Wide rows close a chunk earlier. */
const CHUNK_BYTES = 512 * 1024;

export interface ReplicationOptions {
	dbUrl: string;
	slot: string;
	publication: string;
	/** Runs before each reconnect: recreates the slot if a database reset dropped it. */
	beforeReconnect?: () => Promise<void>;
	/**
	 * Takes the next chunk. Every chunk of a transaction, the final one included (even when it
	 * is empty), comes once per process: a replay after a reconnect resumes after the last
	 * change handed on. The consumer calls `confirm` with the final chunk's `endLsn`.
	 */
	onChunk(chunk: ChangeChunk): void;
	/**
	 * Whether a table's changes in the transaction committed at `commitLsn` may reach anyone;
	 * the others are not kept, so a bulk load into an unwatched table costs no memory here.
	 */
	wants?(schema: string, table: string, commitLsn: bigint): boolean;
	chunkChanges?: number;
	log(msg: string): void;
}

interface OpenTransaction {
	commitLsn: bigint;
	commitTime: Date;
	changes: Change[];
	bytes: number;
	/** row changes seen so far in this transaction, kept or not (a replay sees the same) */
	seen: number;
}

/** One walsender stream with reconnects; `confirm(lsn)` acknowledges delivered positions. */
export class ReplicationStream {
	private sql: postgres.Sql | null = null;
	private stream: import('node:stream').Duplex | null = null;
	private relations = new Map<number, RelationInfo>();
	private current: OpenTransaction | null = null;
	/** How far changes were handed on: a replay skips up to here. */
	private taken = { commitLsn: -1n, commitTime: new Date(0), seen: 0, complete: true };
	private confirmed = 0n;
	private lastReceived = 0n;
	/** transactions with a chunk handed on and their final chunk not yet confirmed */
	private pendingTx = 0;
	private closed = false;
	private retryMs = 200;
	private statusTimer: NodeJS.Timeout | null = null;
	private readonly chunkChanges: number;
	/** Called once streaming is established (again). */
	onStreaming: (() => void) | null = null;
	streaming = false;

	constructor(private readonly opts: ReplicationOptions) {
		this.chunkChanges = opts.chunkChanges ?? CHUNK_CHANGES;
	}

	async start(): Promise<void> {
		this.closed = false;
		await this.connect();
		// Asking for a reply makes the walsender send a keepalive with its position: pgoutput
		// skips transactions with nothing published, so without this the slot would not
		// advance over WAL that carries no changes for us. Paused, the timer still answers, so
		// the walsender does not time us out while the consumer catches up.
		this.statusTimer = setInterval(() => this.sendStatus(true), 1000);
		this.statusTimer.unref();
	}

	/** Marks everything up to `lsn` (a final chunk's `endLsn`) as delivered. */
	confirm(lsn: bigint, txCount: number) {
		this.pendingTx -= txCount;
		if (lsn > this.confirmed) this.confirmed = lsn;
		this.sendStatus(false);
	}

	/** Stops reading the walsender's socket (backpressure): it waits until `resume()`. */
	pause() {
		this.stream?.pause();
	}
	resume() {
		this.stream?.resume();
	}

	private async connect(): Promise<void> {
		const { dbUrl, slot, publication } = this.opts;
		try {
			const sql = postgres(dbUrl, {
				max: 1,
				fetch_types: false,
				idle_timeout: 0,
				max_lifetime: null,
				connection: { replication: 'database', application_name: 'botflow_realtime' },
				onnotice: () => {}
			} as postgres.Options<Record<string, postgres.PostgresType>>);
			this.sql = sql;
			const stream = (await sql
				.unsafe(
					`START_REPLICATION SLOT "${slot}" LOGICAL 0/0 (proto_version '1', publication_names '${publication}')`
				)
				.writable()) as unknown as import('node:stream').Duplex;
			this.stream = stream;
			this.relations.clear();
			this.current = null;
			this.retryMs = 200;
			this.streaming = true;
			stream.on('data', (d: Buffer) => this.onData(d));
			const lost = (e?: Error) => {
				if (this.stream !== stream) return;
				this.stream = null;
				this.streaming = false;
				if (!this.closed) {
					this.opts.log(`replication stream lost (${e?.message ?? 'closed'}); reconnecting`);
					this.reconnect();
				}
			};
			stream.on('error', lost);
			stream.on('close', () => lost());
			this.onStreaming?.();
		} catch (e) {
			this.streaming = false;
			if (this.closed) return;
			this.opts.log(
				`replication connect failed (${(e as Error).message}); retrying in ${this.retryMs} ms`
			);
			this.reconnect();
		}
	}

	private reconnect() {
		const old = this.sql;
		this.sql = null;
		old?.end({ timeout: 0 }).catch(() => {});
		const wait = this.retryMs;
		this.retryMs = Math.min(this.retryMs * 2, 3000);
		setTimeout(async () => {
			if (this.closed) return;
			try {
				await this.opts.beforeReconnect?.();
			} catch (e) {
				this.opts.log(`preparing the replication slot failed: ${(e as Error).message}`);
			}
			if (!this.closed) void this.connect();
		}, wait).unref();
	}

	private onData(d: Buffer) {
		if (d[0] === 0x77) {
			// XLogData: start(8) end(8) time(8), then one pgoutput message
			this.decode(d.subarray(25));
		} else if (d[0] === 0x6b) {
			// keepalive: walEnd(8) time(8) replyRequested(1)
			const walEnd = d.readBigInt64BE(1);
			if (walEnd > this.lastReceived) this.lastReceived = walEnd;
			this.sendStatus(d[17] === 1);
		}
	}

	/** Whether the change numbered `seen` of the transaction at `commitLsn` was handed on. */
	private alreadyTaken(commitLsn: bigint, seen: number) {
		const t = this.taken;
		return commitLsn < t.commitLsn || (commitLsn === t.commitLsn && (t.complete || seen <= t.seen));
	}

	/** Whether the transaction at `commitLsn` was handed on with its final chunk. */
	private takenWhole(commitLsn: bigint) {
		const t = this.taken;
		return commitLsn < t.commitLsn || (commitLsn === t.commitLsn && t.complete);
	}

	private decode(buf: Buffer) {
		const m = decodeMessage(buf);
		const tx = this.current;
		switch (m.tag) {
			case 'B': {
				const t = this.taken;
				// A transaction cut short by a reconnect comes again first, in commit order; a later
				// one instead means it is gone (slot recreated): close it so the counts stay right.
				if (!t.complete && m.commitLsn > t.commitLsn)
					this.handOn(
						{
							commitLsn: t.commitLsn,
							commitTime: t.commitTime,
							changes: [],
							bytes: 0,
							seen: t.seen
						},
						t.commitLsn
					);
				this.current = {
					commitLsn: m.commitLsn,
					commitTime: m.commitTime,
					changes: [],
					bytes: 0,
					seen: 0
				};
				break;
			}
			case 'R':
				this.relations.set(m.relation.oid, m.relation);
				break;
			case 'I':
			case 'U':
			case 'D': {
				if (!tx) break;
				tx.seen++;
				if (this.alreadyTaken(tx.commitLsn, tx.seen)) break;
				const relation = this.relations.get(m.oid)!;
				if (!(this.opts.wants?.(relation.schema, relation.table, tx.commitLsn) ?? true)) break;
				tx.changes.push(m.read(relation));
				tx.bytes += buf.length;
				if (tx.changes.length >= this.chunkChanges || tx.bytes >= CHUNK_BYTES)
					this.handOn(tx, null);
				break;
			}
			case 'C':
				this.current = null;
				if (m.endLsn > this.lastReceived) this.lastReceived = m.endLsn;
				// a transaction already handed on whole before a reconnect is not pending again
				if (tx && !this.takenWhole(tx.commitLsn)) this.handOn(tx, m.endLsn);
				break;
		}
	}

	private handOn(tx: OpenTransaction, endLsn: bigint | null) {
		const t = this.taken;
		if (t.commitLsn !== tx.commitLsn) this.pendingTx++;
		this.taken = {
			commitLsn: tx.commitLsn,
			commitTime: tx.commitTime,
			seen: tx.seen,
			complete: endLsn !== null
		};
		const { changes, bytes } = tx;
		tx.changes = [];
		tx.bytes = 0;
		this.opts.onChunk({
			commitLsn: tx.commitLsn,
			commitTime: tx.commitTime,
			changes,
			bytes,
			endLsn,
			receivedAt: performance.now()
		});
	}

	/** Standby status: flush = delivered position, or the stream end when nothing is in flight. */
	private sendStatus(replyRequested: boolean) {
		const stream = this.stream;
		if (!stream) return;
		let flush = this.confirmed;
		if (this.pendingTx === 0 && this.current === null && this.lastReceived > flush)
			flush = this.lastReceived;
		const b = Buffer.alloc(34);
		b[0] = 0x72; // r
		b.writeBigInt64BE(flush, 1);
		b.writeBigInt64BE(flush, 9);
		b.writeBigInt64BE(flush, 17);
		b.writeBigInt64BE(pgNow(), 25);
		b[33] = replyRequested ? 1 : 0;
		try {
			stream.write(b);
		} catch {
			// the close handler reconnects
		}
	}

	async close(): Promise<void> {
		this.closed = true;
		if (this.statusTimer) clearInterval(this.statusTimer);
		this.sendStatus(false);
		const sql = this.sql;
		this.sql = null;
		this.stream = null;
		await sql?.end({ timeout: 1 }).catch(() => {});
	}
}

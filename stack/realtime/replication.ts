// Change capture: a durable logical replication slot streamed with pgoutput over a walsender
// connection. Durable (not temporary), so changes committed while the server was down or the
// database restarted are still in the slot; we confirm a position only after its changes went
// out to the sockets, which makes restarts lose nothing that was committed.
import postgres from 'postgres';

export interface RelationInfo {
	oid: number;
	schema: string;
	table: string;
	/** 'd' default, 'f' full, 'i' index, 'n' nothing */
	replicaIdentity: string;
	columns: { name: string; typeOid: number; key: boolean }[];
}

export type TupleValue = string | null | undefined; // undefined: unchanged TOAST value

export interface Change {
	kind: 'INSERT' | 'UPDATE' | 'DELETE';
	relation: RelationInfo;
	newTuple: TupleValue[] | null;
	oldTuple: TupleValue[] | null;
	/** 'K' when the old tuple holds key columns only, 'O' when it is the full old row */
	oldKind: 'K' | 'O' | null;
}

export interface Transaction {
	endLsn: bigint;
	commitTime: Date;
	changes: Change[];
	receivedAt: number;
}

const PG_EPOCH_MS = Date.UTC(2000, 0, 1);

export function lsnToString(lsn: bigint): string {
	return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

export function lsnFromString(s: string): bigint {
	const [hi, lo] = s.split('/');
	return (BigInt('0x' + hi) << 32n) | BigInt('0x' + lo);
}

class Reader {
	off = 0;
	constructor(readonly buf: Buffer) {}
	u8() {
		return this.buf[this.off++];
	}
	i16() {
		const v = this.buf.readInt16BE(this.off);
		this.off += 2;
		return v;
	}
	i32() {
		const v = this.buf.readInt32BE(this.off);
		this.off += 4;
		return v;
	}
	u32() {
		const v = this.buf.readUInt32BE(this.off);
		this.off += 4;
		return v;
	}
	i64() {
		const v = this.buf.readBigInt64BE(this.off);
		this.off += 8;
		return v;
	}
	cstr() {
		const end = this.buf.indexOf(0, this.off);
		const s = this.buf.toString('utf8', this.off, end);
		this.off = end + 1;
		return s;
	}
	tuple(): TupleValue[] {
		const n = this.i16();
		const out: TupleValue[] = new Array(n);
		for (let i = 0; i < n; i++) {
			const t = this.u8();
			if (t === 0x6e)
				out[i] = null; // n
			else if (t === 0x75)
				out[i] = undefined; // u
			else {
				const len = this.i32();
				out[i] = this.buf.toString('utf8', this.off, this.off + len);
				this.off += len;
			}
		}
		return out;
	}
}

export interface ReplicationOptions {
	dbUrl: string;
	slot: string;
	publication: string;
	/** Runs before each reconnect: recreates the slot if a database reset dropped it. */
	beforeReconnect?: () => Promise<void>;
	/** Takes a committed transaction; false if it was already taken before a reconnect. */
	onTransaction(tx: Transaction): boolean;
	/**
	 * Whether a table's changes in the transaction ending at `finalLsn` may reach anyone; the
	 * others are not kept, so a bulk load into an unwatched table costs no memory here.
	 */
	wants?(schema: string, table: string, finalLsn: bigint): boolean;
	log(msg: string): void;
}

/** One walsender stream with reconnects; `confirm(lsn)` acknowledges delivered positions. */
export class ReplicationStream {
	private sql: postgres.Sql | null = null;
	private stream: import('node:stream').Duplex | null = null;
	private relations = new Map<number, RelationInfo>();
	private current: Transaction | null = null;
	private currentFinalLsn = 0n;
	private confirmed = 0n;
	private lastReceived = 0n;
	private pendingTx = 0;
	private closed = false;
	private retryMs = 200;
	private statusTimer: NodeJS.Timeout | null = null;
	/** Called once streaming is established (again). */
	onStreaming: (() => void) | null = null;
	streaming = false;

	constructor(private readonly opts: ReplicationOptions) {}

	async start(): Promise<void> {
		this.closed = false;
		await this.connect();
		// Asking for a reply makes the walsender send a keepalive with its position: pgoutput
		// skips transactions with nothing published, so without this the slot would not
		// advance over WAL that carries no changes for us.
		this.statusTimer = setInterval(() => this.sendStatus(true), 1000);
		this.statusTimer.unref();
	}

	/** Marks everything up to `lsn` (a transaction end) as delivered. */
	confirm(lsn: bigint, txCount: number) {
		this.pendingTx -= txCount;
		if (lsn > this.confirmed) this.confirmed = lsn;
		this.sendStatus(false);
	}

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

	private keeps(relation: RelationInfo): boolean {
		return this.opts.wants?.(relation.schema, relation.table, this.currentFinalLsn) ?? true;
	}

	private decode(buf: Buffer) {
		const r = new Reader(buf);
		const tag = String.fromCharCode(r.u8());
		switch (tag) {
			case 'B': {
				this.currentFinalLsn = r.i64();
				const ts = r.i64();
				this.current = {
					endLsn: 0n,
					commitTime: new Date(PG_EPOCH_MS + Number(ts / 1000n)),
					changes: [],
					receivedAt: 0
				};
				break;
			}
			case 'C': {
				r.u8();
				r.i64();
				const end = r.i64();
				const tx = this.current;
				this.current = null;
				if (end > this.lastReceived) this.lastReceived = end;
				if (!tx) break;
				tx.endLsn = end;
				tx.receivedAt = performance.now();
				// a replay of what was already taken (after a reconnect) is refused, not pending
				this.pendingTx++;
				if (this.opts.onTransaction(tx) === false) this.pendingTx--;
				break;
			}
			case 'R': {
				const oid = r.u32();
				const schema = r.cstr();
				const table = r.cstr();
				const replicaIdentity = String.fromCharCode(r.u8());
				const n = r.i16();
				const columns = [];
				for (let i = 0; i < n; i++) {
					const flags = r.u8();
					const name = r.cstr();
					const typeOid = r.u32();
					r.i32();
					columns.push({ name, typeOid, key: (flags & 1) === 1 });
				}
				this.relations.set(oid, { oid, schema, table, replicaIdentity, columns });
				break;
			}
			case 'I': {
				const relation = this.relations.get(r.u32())!;
				if (!this.keeps(relation)) break;
				r.u8(); // 'N'
				this.current?.changes.push({
					kind: 'INSERT',
					relation,
					newTuple: r.tuple(),
					oldTuple: null,
					oldKind: null
				});
				break;
			}
			case 'U': {
				const relation = this.relations.get(r.u32())!;
				if (!this.keeps(relation)) break;
				const t = String.fromCharCode(r.u8());
				let oldTuple: TupleValue[] | null = null;
				let oldKind: 'K' | 'O' | null = null;
				if (t === 'K' || t === 'O') {
					oldKind = t;
					oldTuple = r.tuple();
					r.u8(); // 'N' precedes the new tuple
				}
				this.current?.changes.push({
					kind: 'UPDATE',
					relation,
					newTuple: r.tuple(),
					oldTuple,
					oldKind
				});
				break;
			}
			case 'D': {
				const relation = this.relations.get(r.u32())!;
				if (!this.keeps(relation)) break;
				const oldKind = String.fromCharCode(r.u8()) as 'K' | 'O';
				this.current?.changes.push({
					kind: 'DELETE',
					relation,
					newTuple: null,
					oldTuple: r.tuple(),
					oldKind
				});
				break;
			}
			default:
				// Origin, Type, Truncate and Message carry nothing hosted Realtime forwards.
				break;
		}
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
		b.writeBigInt64BE(BigInt(Date.now() - PG_EPOCH_MS) * 1000n, 25);
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

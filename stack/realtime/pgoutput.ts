// pgoutput (protocol version 1) messages decoded one at a time: relations, row changes and the
// transaction boundaries around them. Pure: the stream that feeds it lives in replication.ts.

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

/** One decoded message; row changes name their relation's oid, resolved by the caller. */
export type Message =
	| { tag: 'B'; commitLsn: bigint; commitTime: Date }
	| { tag: 'C'; commitLsn: bigint; endLsn: bigint }
	| { tag: 'R'; relation: RelationInfo }
	| { tag: 'I' | 'U' | 'D'; oid: number; read: (relation: RelationInfo) => Change }
	| { tag: 'other' };

const PG_EPOCH_MS = Date.UTC(2000, 0, 1);

/** Microseconds since 2000-01-01, as the replication protocol counts time. */
export const pgNow = () => BigInt(Date.now() - PG_EPOCH_MS) * 1000n;

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

/**
 * Decodes one pgoutput message. A row change's tuples are read only when `read` is called, so
 * changes to tables nobody watches cost no string decoding.
 */
export function decodeMessage(buf: Buffer): Message {
	const r = new Reader(buf);
	const tag = String.fromCharCode(r.u8());
	switch (tag) {
		case 'B': {
			const commitLsn = r.i64();
			const ts = r.i64();
			return { tag, commitLsn, commitTime: new Date(PG_EPOCH_MS + Number(ts / 1000n)) };
		}
		case 'C': {
			r.u8(); // flags
			const commitLsn = r.i64();
			return { tag, commitLsn, endLsn: r.i64() };
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
				r.i32(); // type modifier
				columns.push({ name, typeOid, key: (flags & 1) === 1 });
			}
			return { tag, relation: { oid, schema, table, replicaIdentity, columns } };
		}
		case 'I':
		case 'U':
		case 'D':
			return { tag, oid: r.u32(), read: (relation) => readChange(tag, relation, r) };
		default:
			// Origin, Type, Truncate and Message carry nothing hosted Realtime forwards.
			return { tag: 'other' };
	}
}

function readChange(tag: 'I' | 'U' | 'D', relation: RelationInfo, r: Reader): Change {
	if (tag === 'I') {
		r.u8(); // 'N'
		return { kind: 'INSERT', relation, newTuple: r.tuple(), oldTuple: null, oldKind: null };
	}
	if (tag === 'D') {
		const oldKind = String.fromCharCode(r.u8()) as 'K' | 'O';
		return { kind: 'DELETE', relation, newTuple: null, oldTuple: r.tuple(), oldKind };
	}
	const t = String.fromCharCode(r.u8());
	let oldTuple: TupleValue[] | null = null;
	let oldKind: 'K' | 'O' | null = null;
	if (t === 'K' || t === 'O') {
		oldKind = t;
		oldTuple = r.tuple();
		r.u8(); // 'N' precedes the new tuple
	}
	return { kind: 'UPDATE', relation, newTuple: r.tuple(), oldTuple, oldKind };
}

// pgoutput messages as the walsender sends them (protocol version 1): the transaction bounds,
// a relation, and row changes with new, old-key, full-old and unchanged-TOAST tuples.
import { describe, expect, it } from 'vitest';
import { decodeMessage, lsnFromString, lsnToString, type RelationInfo } from './pgoutput.ts';

const u8 = (n: number) => Buffer.from([n]);
const i16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
function i32(n: number) {
	const b = Buffer.alloc(4);
	b.writeInt32BE(n);
	return b;
}
function i64(n: bigint) {
	const b = Buffer.alloc(8);
	b.writeBigInt64BE(n);
	return b;
}
const cstr = (s: string) => Buffer.concat([Buffer.from(s), u8(0)]);
const tag = (t: string) => Buffer.from(t);

/** A tuple: strings as text values, null as SQL null, undefined as an unchanged TOAST value. */
function tuple(values: (string | null | undefined)[]) {
	return Buffer.concat([
		i16(values.length),
		...values.map((v) => {
			if (v === null) return tag('n');
			if (v === undefined) return tag('u');
			const bytes = Buffer.from(v);
			return Buffer.concat([tag('t'), i32(bytes.length), bytes]);
		})
	]);
}

const relation: RelationInfo = {
	oid: 16384,
	schema: 'public',
	table: 'messages',
	replicaIdentity: 'f',
	columns: [
		{ name: 'id', typeOid: 20, key: true },
		{ name: 'content', typeOid: 25, key: false }
	]
};

describe('decodeMessage', () => {
	it('reads BEGIN with the commit position and time, and COMMIT with the end position', () => {
		const micros = 820_540_800_000_000n; // 2026-01-01T00:00:00Z, counted from 2000-01-01
		const begin = decodeMessage(
			Buffer.concat([tag('B'), i64(0x1_0000_0010n), i64(micros), i32(7)])
		);
		expect(begin).toEqual({
			tag: 'B',
			commitLsn: 0x1_0000_0010n,
			commitTime: new Date('2026-01-01T00:00:00Z')
		});
		const commit = decodeMessage(
			Buffer.concat([tag('C'), u8(0), i64(0x1_0000_0010n), i64(0x1_0000_0040n), i64(micros)])
		);
		expect(commit).toEqual({ tag: 'C', commitLsn: 0x1_0000_0010n, endLsn: 0x1_0000_0040n });
	});

	it('reads a relation with its replica identity and key columns', () => {
		const m = decodeMessage(
			Buffer.concat([
				tag('R'),
				i32(16384),
				cstr('public'),
				cstr('messages'),
				tag('f'),
				i16(2),
				u8(1),
				cstr('id'),
				i32(20),
				i32(-1),
				u8(0),
				cstr('content'),
				i32(25),
				i32(-1)
			])
		);
		expect(m).toEqual({ tag: 'R', relation });
	});

	it('reads row changes: insert, update with the full old row, delete with the key', () => {
		const insert = decodeMessage(
			Buffer.concat([tag('I'), i32(16384), tag('N'), tuple(['1', 'héllo'])])
		);
		expect(insert.tag === 'I' && insert.oid).toBe(16384);
		if (insert.tag !== 'I') throw new Error('not an insert');
		expect(insert.read(relation)).toEqual({
			kind: 'INSERT',
			relation,
			newTuple: ['1', 'héllo'],
			oldTuple: null,
			oldKind: null
		});

		const update = decodeMessage(
			Buffer.concat([
				tag('U'),
				i32(16384),
				tag('O'),
				tuple(['1', null]),
				tag('N'),
				tuple(['1', undefined])
			])
		);
		if (update.tag !== 'U') throw new Error('not an update');
		expect(update.read(relation)).toMatchObject({
			kind: 'UPDATE',
			oldKind: 'O',
			oldTuple: ['1', null],
			newTuple: ['1', undefined]
		});

		const plainUpdate = decodeMessage(
			Buffer.concat([tag('U'), i32(16384), tag('N'), tuple(['2', 'x'])])
		);
		if (plainUpdate.tag !== 'U') throw new Error('not an update');
		expect(plainUpdate.read(relation)).toMatchObject({
			oldKind: null,
			oldTuple: null,
			newTuple: ['2', 'x']
		});

		const del = decodeMessage(Buffer.concat([tag('D'), i32(16384), tag('K'), tuple(['3', null])]));
		if (del.tag !== 'D') throw new Error('not a delete');
		expect(del.read(relation)).toMatchObject({
			kind: 'DELETE',
			oldKind: 'K',
			oldTuple: ['3', null],
			newTuple: null
		});
	});

	it('passes over messages Realtime does not forward', () => {
		expect(decodeMessage(Buffer.concat([tag('T'), i32(0), i32(1), u8(0), i32(16384)]))).toEqual({
			tag: 'other'
		});
	});
});

describe('LSN text form', () => {
	it('round-trips the hi/lo hexadecimal form Postgres prints', () => {
		expect(lsnToString(0x16_b374_d848n)).toBe('16/B374D848');
		expect(lsnFromString('16/B374D848')).toBe(0x16_b374_d848n);
		expect(lsnFromString(lsnToString(0n))).toBe(0n);
	});
});

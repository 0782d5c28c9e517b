// The Phoenix frames @supabase/realtime-js exchanges, in both serializers: decoded from what a
// client sends, encoded as a client expects, and refused with a reason when malformed.
import { describe, expect, it } from 'vitest';
import {
	FrameError,
	broadcastPayload,
	decodeFrame,
	encodeFrame,
	encodeReply,
	encodeUserBroadcast,
	userBroadcastFromJson
} from './protocol.ts';

const text = (v: unknown) => Buffer.from(JSON.stringify(v));

/** A kind-3 binary push as realtime-js 2.x builds it for `send()` with bytes. */
function binaryPush(
	parts: { joinRef: string; ref: string; topic: string; event: string },
	body: Buffer,
	encoding = 0
) {
	const fields = [parts.joinRef, parts.ref, parts.topic, parts.event, ''].map((s) =>
		Buffer.from(s)
	);
	return Buffer.concat([
		Buffer.from([3, ...fields.map((f) => f.length), encoding]),
		...fields,
		body
	]);
}

describe('decoding', () => {
	it('reads 1.0.0 objects and 2.0.0 arrays into the same frame', () => {
		const v1 = decodeFrame(
			'1.0.0',
			text({ topic: 'realtime:room', event: 'phx_join', payload: { a: 1 }, ref: 1, join_ref: '1' }),
			false
		);
		const v2 = decodeFrame('2.0.0', text(['1', '1', 'realtime:room', 'phx_join', { a: 1 }]), false);
		const expected = {
			joinRef: '1',
			ref: '1',
			topic: 'realtime:room',
			event: 'phx_join',
			payload: { a: 1 }
		};
		expect(v1).toEqual(expected);
		expect(v2).toEqual(expected);
	});

	it('reads a binary broadcast push without touching its bytes', () => {
		const body = Buffer.from([0, 255, 1, 2]);
		const f = decodeFrame(
			'2.0.0',
			binaryPush({ joinRef: '4', ref: '9', topic: 'realtime:room', event: 'cursor' }, body),
			true
		);
		expect(f).toMatchObject({ joinRef: '4', ref: '9', topic: 'realtime:room', event: 'broadcast' });
		expect(f.broadcast).toEqual({ event: 'cursor', encoding: 0, body, meta: '' });
	});

	it('refuses malformed frames with a reason a developer can act on', () => {
		const refused = (vsn: '1.0.0' | '2.0.0', data: Buffer, binary = false) => {
			try {
				decodeFrame(vsn, data, binary);
			} catch (e) {
				expect(e).toBeInstanceOf(FrameError);
				return (e as Error).message;
			}
			throw new Error('expected a FrameError');
		};
		expect(refused('1.0.0', Buffer.from('{oops'))).toBe('frame is not valid JSON');
		expect(refused('2.0.0', text({ topic: 't', event: 'e' }))).toBe(
			'vsn 2.0.0 frames are [join_ref, ref, topic, event, payload]'
		);
		expect(refused('1.0.0', text([null, null, 't', 'e', {}]))).toBe(
			'vsn 1.0.0 frames are {topic, event, payload, ref}'
		);
		expect(refused('1.0.0', text({ topic: 1, event: 'e' }))).toBe(
			'topic and event must be strings'
		);
		expect(refused('1.0.0', text({ topic: 't', event: 'e', ref: {} }))).toBe(
			'ref and join_ref must be strings or null'
		);
		expect(refused('1.0.0', Buffer.from([3]), true)).toBe(
			'binary frames need serializer vsn=2.0.0'
		);
		expect(refused('2.0.0', Buffer.from([4, 0, 0, 0, 0, 0, 0]), true)).toContain(
			'only user broadcast pushes'
		);
		const truncated = binaryPush(
			{ joinRef: '1', ref: '2', topic: 'realtime:t', event: 'e' },
			Buffer.alloc(0)
		);
		expect(refused('2.0.0', truncated.subarray(0, 10), true)).toBe('binary frame is truncated');
	});
});

describe('encoding', () => {
	it('writes replies as each serializer expects them (1.0.0 carries no join_ref)', () => {
		expect(JSON.parse(encodeReply('2.0.0', '1', '2', 'realtime:t', 'ok', { x: 1 }))).toEqual([
			'1',
			'2',
			'realtime:t',
			'phx_reply',
			{ status: 'ok', response: { x: 1 } }
		]);
		expect(
			JSON.parse(
				encodeFrame('1.0.0', { joinRef: '1', ref: null, topic: 't', event: 'e', payload: {} })
			)
		).toEqual({
			topic: 't',
			event: 'e',
			payload: {},
			ref: null
		});
	});

	it('relays a JSON broadcast to 1.0.0 and binary clients alike', () => {
		const b = userBroadcastFromJson({ event: 'note', payload: { text: 'hi' } });
		expect(broadcastPayload(b)).toEqual({
			type: 'broadcast',
			event: 'note',
			payload: { text: 'hi' }
		});
		const frame = encodeUserBroadcast('realtime:t', b)!;
		expect([...frame.subarray(0, 5)]).toEqual([4, 10, 4, 0, 1]);
		expect(frame.subarray(5).toString()).toBe('realtime:tnote{"text":"hi"}');
	});

	it('cannot express raw bytes to a 1.0.0 client, nor names over 255 bytes in a binary frame', () => {
		const bytes = { event: 'e', encoding: 0 as const, body: Buffer.from([1]), meta: '' };
		expect(broadcastPayload(bytes)).toBeNull();
		expect(encodeUserBroadcast('x'.repeat(256), bytes)).toBeNull();
	});
});

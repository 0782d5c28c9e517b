// Broadcast and presence through realtime-js with both serializers, and the protocol edges:
// garbage frames, unknown topics, oversized messages, slow readers. Whatever one client does,
// the others keep being served.
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { config } from '../config.ts';
import { until, userToken } from '../testing.ts';
import { realtimeClient, sleep, subscribed, type TestClient, type Vsn } from './spec-helpers.ts';

const clients: TestClient[] = [];
const sockets: WebSocket[] = [];

afterAll(async () => {
	for (const s of sockets) s.terminate();
	await Promise.allSettled(clients.map((c) => c.close()));
});

async function client(vsn: Vsn) {
	const c = await realtimeClient(vsn, await userToken(crypto.randomUUID()));
	clients.push(c);
	return c;
}

const wsUrl = (vsn: Vsn) =>
	`${config.api.url.replace('http', 'ws')}/realtime/v1/websocket?apikey=${config.keys.anon}&vsn=${vsn}`;

/** A bare Phoenix client, to send what realtime-js never would. */
async function raw(vsn: Vsn) {
	const ws = new WebSocket(wsUrl(vsn));
	sockets.push(ws);
	const received: unknown[] = [];
	const closed = new Promise<{ code: number; reason: string }>((resolve) =>
		ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))
	);
	ws.on('message', (d, isBinary) => received.push(isBinary ? d : JSON.parse(d.toString())));
	await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
	return { ws, received, closed };
}

/** A realtime-js pair on one broadcast topic, proving service continues for everyone else. */
async function witness(topic: string) {
	const [a, b] = [await client('2.0.0'), await client('1.0.0')];
	const got: unknown[] = [];
	const rx = await subscribed(
		b.supabase.channel(topic).on('broadcast', { event: 'ping' }, (m) => got.push(m.payload))
	);
	const tx = await subscribed(a.supabase.channel(topic));
	return {
		async stillServed(n: number) {
			await tx.send({ type: 'broadcast', event: 'ping', payload: { n } });
			await until(
				() => got.some((p) => (p as { n: number }).n === n),
				`broadcast ${n} to reach the other client`
			);
			return rx;
		}
	};
}

describe.each(['1.0.0', '2.0.0'] as const)('broadcast and presence with serializer %s', (vsn) => {
	it('relays broadcasts, echoes to self only when asked, and acknowledges when asked', async () => {
		const topic = `room-${vsn}-${Date.now()}`;
		const [a, b] = [await client(vsn), await client(vsn === '1.0.0' ? '2.0.0' : '1.0.0')];
		const gotA: unknown[] = [];
		const gotB: unknown[] = [];
		const chA = await subscribed(
			a.supabase
				.channel(topic, { config: { broadcast: { self: true, ack: true } } })
				.on('broadcast', { event: 'cursor' }, (m) => gotA.push(m.payload))
		);
		const chB = await subscribed(
			b.supabase.channel(topic).on('broadcast', { event: 'cursor' }, (m) => gotB.push(m.payload))
		);
		expect(
			await chA.send({ type: 'broadcast', event: 'cursor', payload: { x: 1, text: 'héllo ✓' } })
		).toBe('ok');
		await until(() => gotA.length === 1 && gotB.length === 1, 'the broadcast on both sides');
		expect(gotA).toEqual([{ x: 1, text: 'héllo ✓' }]);
		expect(gotB).toEqual([{ x: 1, text: 'héllo ✓' }]);
		// B has self off: its own message reaches A only
		await chB.send({ type: 'broadcast', event: 'cursor', payload: { x: 2 } });
		await until(() => gotA.length === 2, 'B’s broadcast at A');
		await sleep(200);
		expect(gotB).toHaveLength(1);
	});

	it('tracks presence joins and leaves between two clients', async () => {
		const topic = `lobby-${vsn}-${Date.now()}`;
		const [a, b] = [await client(vsn), await client(vsn)];
		const joins: string[] = [];
		const leaves: string[] = [];
		const chA = await subscribed(
			a.supabase
				.channel(topic, { config: { presence: { key: 'alice' } } })
				.on('presence', { event: 'join' }, ({ key }) => joins.push(key))
				.on('presence', { event: 'leave' }, ({ key }) => leaves.push(key))
		);
		expect(await chA.track({ status: 'online' })).toBe('ok');
		const chB = await subscribed(
			b.supabase
				.channel(topic, { config: { presence: { key: 'bob' } } })
				.on('presence', { event: 'sync' }, () => {})
		);
		await until(
			() => Object.keys(chB.presenceState()).includes('alice'),
			'bob to see alice in the initial state'
		);
		expect(chB.presenceState().alice[0]).toMatchObject({ status: 'online' });
		expect(await chB.track({ status: 'typing' })).toBe('ok');
		await until(() => joins.includes('bob'), 'alice to see bob join');
		expect(chA.presenceState().bob[0]).toMatchObject({ status: 'typing' });
		await b.supabase.removeChannel(chB);
		await until(() => leaves.includes('bob'), 'alice to see bob leave');
		expect(Object.keys(chA.presenceState())).toEqual(['alice']);
	});
});

describe('binary broadcast', () => {
	it('relays bytes between vsn 2.0.0 clients unchanged', async () => {
		const topic = `bytes-${Date.now()}`;
		const [a, b] = [await client('2.0.0'), await client('2.0.0')];
		const got: unknown[] = [];
		await subscribed(
			b.supabase.channel(topic).on('broadcast', { event: 'blob' }, (m) => got.push(m.payload))
		);
		const tx = await subscribed(
			a.supabase.channel(topic, { config: { broadcast: { ack: true } } })
		);
		const bytes = new Uint8Array([0, 1, 2, 250, 255]);
		expect(await tx.send({ type: 'broadcast', event: 'blob', payload: bytes.buffer })).toBe('ok');
		await until(() => got.length === 1, 'the bytes');
		expect(got[0]).toBeInstanceOf(ArrayBuffer);
		expect([...new Uint8Array(got[0] as ArrayBuffer)]).toEqual([0, 1, 2, 250, 255]);
	});
});

describe('protocol edges', () => {
	it('answers heartbeats and refuses unknown topics and unjoined channels as Phoenix does', async () => {
		const { ws, received } = await raw('2.0.0');
		ws.send(JSON.stringify([null, '1', 'phoenix', 'heartbeat', {}]));
		ws.send(JSON.stringify(['2', '2', 'room:lobby', 'phx_join', {}]));
		ws.send(
			JSON.stringify([
				null,
				'3',
				'realtime:never-joined',
				'broadcast',
				{ type: 'broadcast', event: 'x', payload: {} }
			])
		);
		ws.send(JSON.stringify(['4', '4', 'realtime:', 'phx_join', { config: {} }]));
		await until(() => received.length === 4, 'four replies');
		expect(received).toEqual([
			[null, '1', 'phoenix', 'phx_reply', { status: 'ok', response: {} }],
			[
				'2',
				'2',
				'room:lobby',
				'phx_reply',
				{ status: 'error', response: { reason: 'unmatched topic' } }
			],
			[
				null,
				'3',
				'realtime:never-joined',
				'phx_reply',
				{ status: 'error', response: { reason: 'unmatched topic' } }
			],
			[
				'4',
				'4',
				'realtime:',
				'phx_reply',
				{
					status: 'error',
					response: { reason: 'TopicNameRequired: You must provide a topic name' }
				}
			]
		]);
	});

	it('refuses a join without a valid token and keeps serving the socket', async () => {
		const { ws, received } = await raw('1.0.0');
		ws.send(
			JSON.stringify({
				topic: 'realtime:x',
				event: 'phx_join',
				payload: { config: {}, access_token: 'garbage' },
				ref: '1',
				join_ref: '1'
			})
		);
		ws.send(JSON.stringify({ topic: 'phoenix', event: 'heartbeat', payload: {}, ref: '2' }));
		await until(() => received.length === 2, 'two replies');
		expect(received[0]).toEqual({
			topic: 'realtime:x',
			event: 'phx_reply',
			payload: {
				status: 'error',
				response: { reason: 'MalformedJWT: The token provided is not a valid JWT' }
			},
			ref: '1'
		});
		expect(received[1]).toMatchObject({ event: 'phx_reply', payload: { status: 'ok' } });
	});

	it('closes a socket that sends garbage, and only that socket', async () => {
		const w = await witness(`garbage-${Date.now()}`);
		for (const frame of ['not json at all', '{"topic": 1}', '[1,2]', Buffer.from([9, 9, 9])]) {
			const { ws, closed } = await raw('2.0.0');
			ws.send(frame);
			const { code, reason } = await closed;
			expect(code).toBe(1011);
			expect(reason).toMatch(/^invalid message: /);
		}
		await w.stillServed(1);
	});

	it('closes a socket that sends an oversized frame with 1009, and only that socket', async () => {
		const w = await witness(`oversized-${Date.now()}`);
		const { ws, closed } = await raw('2.0.0');
		ws.send(
			JSON.stringify([null, '1', 'realtime:x', 'broadcast', { pad: 'x'.repeat(2 * 1024 * 1024) }])
		);
		expect((await closed).code).toBe(1009);
		await w.stillServed(2);
	});

	it('refuses an oversized broadcast payload with an error reply when ack is on', async () => {
		const c = await client('2.0.0');
		const ch = await subscribed(
			c.supabase.channel(`big-${Date.now()}`, { config: { broadcast: { ack: true } } })
		);
		expect(
			await ch.send({ type: 'broadcast', event: 'big', payload: { pad: 'x'.repeat(300 * 1024) } })
		).toBe('error');
		expect(await ch.send({ type: 'broadcast', event: 'small', payload: { ok: true } })).toBe('ok');
	});

	it('disconnects a client that stops reading, without slowing the others', async () => {
		const topic = `flood-${Date.now()}`;
		const w = await witness(`bystander-${Date.now()}`);
		const slow = await raw('1.0.0');
		slow.ws.send(
			JSON.stringify({
				topic: `realtime:${topic}`,
				event: 'phx_join',
				payload: { config: {} },
				ref: '1',
				join_ref: '1'
			})
		);
		await until(() => slow.received.length >= 1, 'the slow client to join');
		// stop reading: the kernel buffers fill, then the server-side queue grows
		(slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
		const sender = await client('2.0.0');
		const tx = await subscribed(sender.supabase.channel(topic));
		const pad = 'x'.repeat(200 * 1024);
		// more than the kernel's socket buffers and the server's bound together
		for (let i = 0; i < 160; i++)
			await tx.send({ type: 'broadcast', event: 'flood', payload: { i, pad } });
		await w.stillServed(3);
		(slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
		const { code } = await slow.closed;
		expect([1013, 1006]).toContain(code);
	});
});

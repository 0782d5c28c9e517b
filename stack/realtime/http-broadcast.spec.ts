// Broadcast over HTTP, as realtime-js sends it with `httpSend()` and when `send()` falls back to
// REST before the channel has joined. Served by the standalone server (the gateway routes only
// WebSocket upgrades under /realtime/v1 so far).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminSql, until, userToken } from '../testing.ts';
import {
	dropSlot,
	realtimeClient,
	startStandalone,
	subscribed,
	type TestClient
} from './spec-helpers.ts';

const sql = adminSql();
const slot = `realtime_http_spec_${process.pid}`;
let url = '';
const clients: TestClient[] = [];
let server: { kill(): void } | null = null;

beforeAll(async () => {
	const started = await startStandalone(0, slot);
	url = started.url;
	server = started;
});

afterAll(async () => {
	await Promise.allSettled(clients.map((c) => c.close()));
	server?.kill();
	await dropSlot(sql, slot);
	await sql.end();
});

describe('HTTP broadcast', () => {
	it('delivers httpSend() and the REST fallback of send() to subscribers of both serializers', async () => {
		const topic = `http-${Date.now()}`;
		const got: unknown[] = [];
		for (const vsn of ['1.0.0', '2.0.0'] as const) {
			const c = await realtimeClient(vsn, await userToken(crypto.randomUUID()), url);
			clients.push(c);
			await subscribed(
				c.supabase
					.channel(topic)
					.on('broadcast', { event: 'note' }, (m) => got.push([vsn, m.payload]))
			);
		}
		const sender = await realtimeClient('2.0.0', await userToken(crypto.randomUUID()), url);
		clients.push(sender);
		const ch = sender.supabase.channel(topic);
		expect(await ch.httpSend('note', { via: 'httpSend' })).toEqual({ success: true });
		// not subscribed: realtime-js posts to the batch endpoint instead
		const warn = console.warn;
		console.warn = () => {};
		try {
			expect(
				await ch.send({ type: 'broadcast', event: 'note', payload: { via: 'fallback' } })
			).toBe('ok');
		} finally {
			console.warn = warn;
		}
		await until(() => got.length === 4, 'both messages at both subscribers');
		expect(got).toEqual(
			expect.arrayContaining([
				['1.0.0', { via: 'httpSend' }],
				['2.0.0', { via: 'httpSend' }],
				['1.0.0', { via: 'fallback' }],
				['2.0.0', { via: 'fallback' }]
			])
		);
	});

	it('answers malformed requests with a status and a message that says what to send', async () => {
		const res = await fetch(`${url}/realtime/v1/api/broadcast`, {
			method: 'POST',
			body: '{"nope": 1}'
		});
		expect(res.status).toBe(400);
		expect((await res.json()).message).toMatch(/messages/);
	});
});

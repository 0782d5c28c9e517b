// The client against a small HTTP server that answers as ingest does (429 with Retry-After,
// 5xx, 401, per-event results), so waiting, resending and counting are checked on a real socket.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { IngestEvent } from './conversation.ts';
import { IngestClient, InvalidKeyError, maxBatchEvents, toBatches } from './ingest-client.ts';
import { Stats } from './stats.ts';

type Handler = (body: { events: IngestEvent[] }, res: ServerResponse, req: IncomingMessage) => void;
let close: (() => void) | undefined;
afterEach(() => close?.());

async function serve(handlers: Handler[]): Promise<{ url: string; requests: () => number }> {
	let n = 0;
	const server = createServer((req, res) => {
		let raw = '';
		req.on('data', (c) => (raw += c));
		req.on('end', () => handlers[Math.min(n++, handlers.length - 1)](JSON.parse(raw), res, req));
	});
	await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
	close = () => server.close();
	return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, requests: () => n };
}

const answer =
	(status: 'accepted' | 'duplicate'): Handler =>
	(body, res) => {
		res.writeHead(200, { 'content-type': 'application/json' });
		res.end(JSON.stringify({ results: body.events.map((_, index) => ({ index, status })) }));
	};
const events: IngestEvent[] = [
	{ type: 'conversation_started', conversation_id: 'c', timestamp: '2026-11-30T12:00:00Z' },
	{
		type: 'message',
		conversation_id: 'c',
		message_id: 'm',
		role: 'user',
		content: 'hi',
		timestamp: '2026-11-30T12:00:01Z'
	}
];

function client(url: string, signal = new AbortController().signal) {
	const stats = new Stats();
	const lines: string[] = [];
	const c = new IngestClient({ url, stats, signal, log: (l) => lines.push(l), maxBackoffMs: 50 });
	return { c, stats, lines };
}

describe('ingest client', () => {
	it('waits out a 429 for as long as Retry-After says, then resends the batch', async () => {
		const server = await serve([
			(_, res) => {
				res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' });
				res.end(
					JSON.stringify({
						error: { code: 'rate_limited', message: 'Over the rate', retry_after: 1 }
					})
				);
			},
			answer('accepted')
		]);
		const { c, stats, lines } = client(server.url);
		const t0 = Date.now();
		await c.send('key', 'bot', events);
		expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
		expect(server.requests()).toBe(2);
		expect(stats).toMatchObject({ sent: 2, accepted: 2, throttled: 1, rejected: 0 });
		expect(lines).toEqual([expect.stringContaining('over its ingest rate (429)')]);
	});

	it('backs off while ingest fails, with one line per failure streak', async () => {
		const fail: Handler = (_, res) => {
			res.writeHead(503, { 'content-type': 'application/json' });
			res.end(JSON.stringify({ error: { code: 'boot_error', message: 'function is booting' } }));
		};
		// The third attempt finds the batch already stored by an attempt that got no answer.
		const server = await serve([fail, fail, answer('duplicate')]);
		const { c, stats, lines } = client(server.url);
		await c.send('key', 'bot', events);
		expect(lines).toEqual([
			'simulate: ingest answered 503: function is booting; retrying with back-off',
			'simulate: ingest accepts events again'
		]);
		expect(stats).toMatchObject({ failedAttempts: 2, accepted: 2, duplicate: 0 });
		expect(stats.acceptedByType).toMatchObject({ conversation_started: 1, message: 1 });
	});

	it('counts a duplicate on a first attempt as a duplicate, not as stored by this run', async () => {
		const server = await serve([answer('duplicate')]);
		const { c, stats } = client(server.url);
		await c.send('key', 'bot', events);
		expect(stats).toMatchObject({ sent: 2, accepted: 0, duplicate: 2 });
	});

	it('stops on a refused key, and counts a batch as unsent when the run stops while waiting', async () => {
		const server = await serve([
			(_, res) => {
				res.writeHead(401, { 'content-type': 'application/json' });
				res.end(
					JSON.stringify({ error: { code: 'invalid_api_key', message: 'The API key is unknown' } })
				);
			}
		]);
		const refused = client(server.url).c.send('bad', 'bot', events);
		await expect(refused).rejects.toBeInstanceOf(InvalidKeyError);
		await expect(refused).rejects.toThrow(/refused the key of bot \(401\): The API key is unknown/);

		const stop = new AbortController();
		const unreachable = client('http://127.0.0.1:1/', stop.signal);
		const sending = unreachable.c.send('key', 'bot', events);
		setTimeout(() => stop.abort(), 100);
		await sending;
		expect(unreachable.stats).toMatchObject({ unsent: 2, accepted: 0 });
	});
});

describe('batches', () => {
	it('keep within ingest limits of 1,000 events and 1 MiB, in order', () => {
		const many = Array.from({ length: 2500 }, (_, i) => ({ ...events[1], message_id: `m${i}` }));
		const batches = toBatches(many);
		expect(batches.map((b) => b.length)).toEqual([maxBatchEvents, maxBatchEvents, 500]);
		expect(batches.flat()).toEqual(many);
		const big = Array.from({ length: 100 }, (_, i) => ({
			...events[1],
			message_id: `b${i}`,
			content: 'x'.repeat(30_000)
		}));
		for (const b of toBatches(big)) {
			expect(Buffer.byteLength(JSON.stringify({ events: b }))).toBeLessThan(1024 * 1024);
		}
	});
});

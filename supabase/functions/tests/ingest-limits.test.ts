// Ingest's limits end to end: the key is checked before the body, sizes, and the per-bot rate
// limit (requests and events, atomic under concurrency, shared by the bot's keys).
import assert from 'node:assert/strict';
import {
	adminSql as sql,
	createBot,
	ingest,
	message,
	signUp,
	test,
	uid,
	type Bot
} from './fixtures.ts';

type Body = {
	accepted: number;
	results: { index: number; status: string }[];
	error?: { code: string; message: string; retry_after?: number };
};

async function send(key: string | null, body: unknown, init?: RequestInit) {
	const res = await ingest(key, body, init);
	return { status: res.status, headers: res.headers, body: (await res.json()) as Body };
}

const owner = await signUp('ingest-limits');
const bot = await createBot(owner, 'Limits bot');

/** A bot whose buckets an admin set (columns of private.ingest_rate_limits). */
async function limitedBot(limits: Record<string, number>): Promise<Bot> {
	const limited = await createBot(owner, 'Limited bot');
	await sql`insert into private.ingest_rate_limits ${sql({ bot_id: limited.id, ...limits })}`;
	return limited;
}

/** Messages of the bot stored under the given conversation ids. */
async function storedMessages(botId: string, conversations: string[]): Promise<number> {
	const [{ n }] = await sql`select count(*)::int as n from public.messages m
		join public.conversations c on c.id = m.conversation_id
		where c.bot_id = ${botId} and c.external_id = any (${conversations})`;
	return n;
}

test('a bad key gets 401 whatever the body: the key is checked before the body is read', async () => {
	const badKey = 'bf_live_' + '0'.repeat(64);
	const bodies: [string, unknown][] = [
		['an empty batch', { events: [] }],
		['invalid JSON', '{"events": ['],
		['an unknown field', { events: [message(uid('conv'))], debug: true }],
		['1,001 events', { events: Array.from({ length: 1001 }, () => message('c')) }],
		['a body over 1 MiB', 'x'.repeat(2 * 1024 * 1024)]
	];
	for (const [what, body] of bodies) {
		const { status, body: answer } = await send(badKey, body);
		assert.equal(status, 401, what);
		assert.equal(answer.error!.code, 'invalid_api_key', what);
	}
});

test('an unknown key, a malformed header or no key at all is refused with 401', async () => {
	const batch = { events: [message(uid('conv'))] };
	for (const key of ['bf_live_' + '0'.repeat(64), 'not-a-key']) {
		const { status, body } = await send(key, batch);
		assert.equal(status, 401);
		assert.equal(body.error!.code, 'invalid_api_key');
	}
	const none = await send(null, batch);
	assert.equal(none.status, 401);
	assert.match(none.body.error!.message, /Authorization: Bearer/);
});

test('a revoked key is refused with 401 and writes nothing', async () => {
	const other = await createBot(owner, 'Revoked bot');
	const { error } = await owner.client
		.from('bot_api_keys')
		.update({ revoked_at: new Date().toISOString() })
		.eq('id', other.keyId);
	assert.equal(error, null);
	const m = message(uid('conv'));
	const { status } = await send(other.key, { events: [m] });
	assert.equal(status, 401);
	const rows = await sql`select 1 from public.messages where external_id = ${m.message_id}`;
	assert.equal(rows.length, 0);
});

test('more than 1,000 events is refused with 413', async () => {
	const conv = uid('conv');
	const { status, body } = await send(bot.key, {
		events: Array.from({ length: 1001 }, () => message(conv, { content: 'x' }))
	});
	assert.equal(status, 413);
	assert.equal(body.error!.code, 'too_many_events');
	const ok = await send(bot.key, {
		events: Array.from({ length: 1000 }, () => message(conv, { content: 'x' }))
	});
	assert.equal(ok.status, 200);
	assert.equal(ok.body.accepted, 1000);
});

test('a body over 1 MiB is refused with 413, also when streamed without a length', async () => {
	const big = JSON.stringify({
		events: Array.from({ length: 40 }, () => message(uid('conv'), { content: 'x'.repeat(30_000) }))
	});
	assert.ok(big.length > 1024 * 1024);
	const { status, body } = await send(bot.key, big);
	assert.equal(status, 413);
	assert.equal(body.error!.code, 'payload_too_large');

	// A chunked upload that would go on for 64 MiB: only a limit checked while reading answers
	// before the end. A proxy may reset the connection instead of relaying the early answer
	// while the upload is still being written, so a clean 413 gets a few attempts.
	let answered = false;
	for (let attempt = 0; attempt < 3 && !answered; attempt++) {
		let sent = 0;
		const endless = new ReadableStream<Uint8Array>({
			async pull(controller) {
				if (sent > 64 * 1024 * 1024) return controller.close();
				const chunk = new TextEncoder().encode(
					sent === 0 ? '{"events":[' + ' '.repeat(65_524) : ' '.repeat(65_536)
				);
				sent += chunk.length;
				controller.enqueue(chunk);
				await new Promise((r) => setTimeout(r, 2));
			}
		});
		try {
			const streamed = await send(bot.key, endless, { duplex: 'half' } as RequestInit);
			assert.equal(streamed.status, 413);
			answered = true;
		} catch (err) {
			if (!(err instanceof TypeError)) throw err;
		} finally {
			await endless.cancel().catch(() => {});
		}
		assert.ok(sent < 16 * 1024 * 1024, `read ${sent} bytes before refusing`);
	}
	assert.ok(answered, 'no 413 in three attempts');
});

test('a bot over its rate gets 429 with Retry-After before its body is read, then recovers', async () => {
	// 2 requests back to back, then one every 2 seconds.
	const limited = await limitedBot({ request_burst: 2, requests_per_second: 0.5 });
	const batch = () => ({ events: [message(uid('conv'))] });
	assert.equal((await send(limited.key, batch())).status, 200);
	assert.equal((await send(limited.key, batch())).status, 200);
	// Even a body that would fail validation is refused for the rate: nothing of it was read.
	const refused = await send(limited.key, { events: [] });
	assert.equal(refused.status, 429);
	assert.equal(refused.body.error!.code, 'rate_limited');
	const retryAfter = Number(refused.headers.get('Retry-After'));
	assert.ok(
		Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 2,
		`Retry-After: ${retryAfter}`
	);
	await new Promise((r) => setTimeout(r, retryAfter * 1000));
	assert.equal((await send(limited.key, batch())).status, 200);
});

test('concurrent requests over the rate are refused: exactly the burst gets through', async () => {
	const limited = await limitedBot({ request_burst: 5, requests_per_second: 0.001 });
	const convs = Array.from({ length: 16 }, () => uid('conv'));
	const answers = await Promise.all(convs.map((c) => send(limited.key, { events: [message(c)] })));
	const statuses = answers.map((a) => a.status).sort();
	assert.deepEqual(statuses, [...Array(5).fill(200), ...Array(11).fill(429)]);
	assert.equal(await storedMessages(limited.id, convs), 5);
});

test('the rate counts events: concurrent batches beyond the event bucket are refused whole', async () => {
	// 1,000 events back to back (one full batch), nearly no refill.
	const limited = await limitedBot({ event_burst: 1000, events_per_second: 0.001 });
	const convs = Array.from({ length: 4 }, () => uid('conv'));
	const answers = await Promise.all(
		convs.map((c) => send(limited.key, { events: Array.from({ length: 400 }, () => message(c)) }))
	);
	const ok = answers.filter((a) => a.status === 200);
	const refused = answers.filter((a) => a.status === 429);
	// 2 x 400 fit in 1,000; a third batch would not.
	assert.equal(ok.length, 2, JSON.stringify(answers.map((a) => a.status)));
	assert.equal(refused.length, 2);
	for (const r of refused) {
		assert.equal(r.body.error!.code, 'rate_limited');
		assert.ok(Number(r.headers.get('Retry-After')) >= 1);
	}
	// A refused batch writes nothing, not even its conversations.
	assert.equal(await storedMessages(limited.id, convs), 800);
	const [{ n }] = await sql`select count(*)::int as n from public.conversations
		where bot_id = ${limited.id} and external_id = any (${convs})`;
	assert.equal(n, 2);
});

test('the rate is per bot: a second API key buys no more requests', async () => {
	const limited = await limitedBot({ request_burst: 4, requests_per_second: 0.001 });
	const { data: keys, error } = await owner.client.rpc('create_bot_api_key', {
		p_bot_id: limited.id,
		p_name: 'second key'
	});
	assert.equal(error, null);
	const second = (Array.isArray(keys) ? keys[0] : keys).key as string;
	const statuses: number[] = [];
	for (let i = 0; i < 3; i++) {
		for (const key of [limited.key, second]) {
			statuses.push((await send(key, { events: [message(uid('conv'))] })).status);
		}
	}
	assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429]);
});

test('the default rate lets a busy bot send each message as it happens (25 requests/s)', async () => {
	const busy = await createBot(owner, 'Busy support bot');
	const conv = uid('conv');
	const statuses: number[] = [];
	const started = Date.now();
	// 150 single-message requests paced at 25 a second: a bot answering 25 messages/s one by one.
	const sends: Promise<void>[] = [];
	for (let i = 0; i < 150; i++) {
		const due = started + i * 40;
		await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
		sends.push(
			send(busy.key, { events: [message(conv)] }).then((a) => void statuses.push(a.status))
		);
	}
	await Promise.all(sends);
	assert.deepEqual(
		statuses.filter((s) => s !== 200),
		[]
	);
	assert.equal(await storedMessages(busy.id, [conv]), 150);
});

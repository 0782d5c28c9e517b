// The ingest function end to end: a bot's HTTP calls through the gateway, rows checked in SQL.
import assert from 'node:assert/strict';
import {
	adminSql as sql,
	createBot,
	ingest,
	message,
	minutesAgo,
	signUp,
	test,
	uid
} from '../_shared/testing.ts';

type Body = {
	accepted: number;
	duplicate: number;
	rejected: number;
	results: { index: number; status: string; reason?: string }[];
	error?: { code: string; message: string; issues?: { path: string; message: string }[] };
};

async function send(key: string | null, body: unknown, init?: RequestInit) {
	const res = await ingest(key, body, init);
	return { status: res.status, headers: res.headers, body: (await res.json()) as Body };
}

const owner = await signUp('ingest-owner');
const bot = await createBot(owner, 'Ingest bot');

test('a batch of messages and lifecycle events is recorded with per-event results', async () => {
	const conv = uid('conv');
	const events = [
		{
			type: 'conversation_started',
			conversation_id: conv,
			timestamp: minutesAgo(30),
			channel: 'whatsapp',
			end_user_id: 'u-1'
		},
		message(conv, { role: 'user', content: 'Hi, where is order 42?', timestamp: minutesAgo(29) }),
		message(conv, {
			role: 'bot',
			content: 'It ships today.',
			timestamp: minutesAgo(28),
			response_time_ms: 850,
			success: true,
			intent: 'order_status',
			tokens_in: 120,
			tokens_out: 30,
			cost_usd: 0.0021,
			model: 'gpt-4o-mini'
		}),
		message(conv, {
			role: 'bot',
			content: '',
			timestamp: minutesAgo(27),
			error_code: 'llm_timeout'
		}),
		{
			type: 'conversation_handed_off',
			conversation_id: conv,
			timestamp: minutesAgo(26),
			reason: 'asked for a human'
		},
		{ type: 'conversation_ended', conversation_id: conv, timestamp: minutesAgo(20) }
	];
	const { status, body } = await send(bot.key, { events });
	assert.equal(status, 200, JSON.stringify(body));
	assert.deepEqual(
		body.results.map((r) => r.status),
		Array(6).fill('accepted')
	);
	assert.equal(body.accepted, 6);

	const [c] =
		await sql`select * from public.conversations where bot_id = ${bot.id} and external_id = ${conv}`;
	assert.equal(c.channel, 'whatsapp');
	assert.equal(c.end_user_id, 'u-1');
	assert.equal(c.status, 'handed_off');
	assert.equal(c.metadata.handoff_reason, 'asked for a human');
	assert.ok(c.ended_at && c.handed_off_at);
	assert.equal(
		c.last_message_at.toISOString(),
		new Date(events[3].timestamp as string).toISOString()
	);
	const messages = await sql`select role, success, error_code, tokens_in, cost_usd, model
		from public.messages where conversation_id = ${c.id} order by sent_at`;
	assert.equal(messages.length, 3);
	assert.equal(messages[1].model, 'gpt-4o-mini');
	assert.equal(Number(messages[1].cost_usd), 0.0021);
	assert.equal(messages[2].success, false);
	assert.equal(messages[2].error_code, 'llm_timeout');
});

test('a message for an unknown conversation opens it; a later start event fills in its details', async () => {
	const conv = uid('conv');
	let res = await send(bot.key, { events: [message(conv, { timestamp: minutesAgo(5) })] });
	assert.equal(res.body.accepted, 1);
	res = await send(bot.key, {
		events: [
			{
				type: 'conversation_started',
				conversation_id: conv,
				timestamp: minutesAgo(6),
				channel: 'telegram'
			}
		]
	});
	assert.equal(res.body.results[0].status, 'accepted');
	const [c] =
		await sql`select channel, status from public.conversations where bot_id = ${bot.id} and external_id = ${conv}`;
	assert.deepEqual({ ...c }, { channel: 'telegram', status: 'active' });
});

test('the API key records when it was last used', async () => {
	await sql`update public.bot_api_keys set last_used_at = null where id = ${bot.keyId}`;
	const { status } = await send(bot.key, { events: [message(uid('conv'))] });
	assert.equal(status, 200);
	const [k] = await sql`select last_used_at from public.bot_api_keys where id = ${bot.keyId}`;
	assert.ok(k.last_used_at instanceof Date && Date.now() - k.last_used_at.getTime() < 60_000);
});

test('a retried batch is reported as duplicates and writes nothing', async () => {
	const conv = uid('conv');
	const events = [
		{ type: 'conversation_started', conversation_id: conv, timestamp: minutesAgo(15) },
		message(conv),
		message(conv),
		message(conv),
		{
			type: 'conversation_ended',
			conversation_id: conv,
			timestamp: minutesAgo(1),
			status: 'abandoned'
		}
	];
	const first = await send(bot.key, { events });
	assert.equal(first.body.accepted, 5);
	const retry = await send(bot.key, { events });
	assert.equal(retry.status, 200);
	assert.deepEqual(
		retry.body.results.map((r) => r.status),
		Array(5).fill('duplicate')
	);
	const [{ n }] = await sql`select count(*)::int as n from public.messages m
		join public.conversations c on c.id = m.conversation_id where c.bot_id = ${bot.id} and c.external_id = ${conv}`;
	assert.equal(n, 3);
});

test('the same message id twice in one batch is stored once', async () => {
	const conv = uid('conv');
	const m = message(conv);
	const { body } = await send(bot.key, { events: [m, { ...m, content: 'changed' }] });
	assert.deepEqual(
		body.results.map((r) => r.status),
		['accepted', 'duplicate']
	);
});

test('concurrent identical batches never duplicate a row', async () => {
	const convs = Array.from({ length: 10 }, () => uid('conv'));
	const events = Array.from({ length: 300 }, (_, i) =>
		message(convs[i % 10], { content: `m${i}` })
	);
	const answers = await Promise.all(Array.from({ length: 6 }, () => send(bot.key, { events })));
	for (const a of answers) assert.equal(a.status, 200, JSON.stringify(a.body));
	// Every event is accepted by exactly one of the requests and a duplicate in the others.
	for (let i = 0; i < events.length; i++) {
		const accepted = answers.filter((a) => a.body.results[i].status === 'accepted').length;
		assert.equal(accepted, 1, `event ${i} accepted ${accepted} times`);
	}
	const [{ messages, conversations }] = await sql`
		select count(*)::int as messages, count(distinct c.id)::int as conversations
		from public.messages m join public.conversations c on c.id = m.conversation_id
		where c.bot_id = ${bot.id} and c.external_id = any (${convs})`;
	assert.equal(messages, 300);
	assert.equal(conversations, 10);
});

test('timestamps far in the future or past are rejected per event, the rest accepted', async () => {
	const conv = uid('conv');
	const events = [
		message(conv, { timestamp: new Date(Date.now() + 60 * 60_000).toISOString() }),
		message(conv, { timestamp: new Date(Date.now() + 60_000).toISOString() }), // within clock skew
		message(conv, { timestamp: '2020-01-01T00:00:00Z' }),
		message(conv)
	];
	const { status, body } = await send(bot.key, { events });
	assert.equal(status, 200);
	assert.deepEqual(
		body.results.map((r) => r.status),
		['rejected', 'accepted', 'rejected', 'accepted']
	);
	assert.match(body.results[0].reason!, /future/);
	assert.match(body.results[2].reason!, /past/);
	assert.equal(body.rejected, 2);
	const [{ n }] = await sql`select count(*)::int as n from public.messages where bot_id = ${bot.id}
		and external_id = any (${events.map((e) => e.message_id)})`;
	assert.equal(n, 2);
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

test('invalid input is refused with 400 naming the exact field path', async () => {
	const conv = uid('conv');
	const wrongRole = await send(bot.key, {
		events: [message(conv), message(conv, { role: 'robot' })]
	});
	assert.equal(wrongRole.status, 400);
	assert.equal(wrongRole.body.error!.issues![0].path, 'events[1].role');
	assert.match(wrongRole.body.error!.message, /^events\[1\]\.role: /);

	const unknown = await send(bot.key, { events: [message(conv, { sentiment: 'happy' })] });
	assert.equal(unknown.status, 400);
	assert.deepEqual(
		unknown.body.error!.issues!.map((i) => i.path),
		['events[0].sentiment']
	);

	const extraTop = await send(bot.key, { events: [message(conv)], debug: true });
	assert.equal(extraTop.status, 400);
	assert.equal(extraTop.body.error!.issues![0].path, 'debug');

	const badTime = await send(bot.key, { events: [message(conv, { timestamp: 'yesterday' })] });
	assert.equal(badTime.body.error!.issues![0].path, 'events[0].timestamp');

	const badType = await send(bot.key, {
		events: [{ type: 'conversation_paused', conversation_id: conv, timestamp: minutesAgo(1) }]
	});
	assert.equal(badType.status, 400);
	assert.equal(badType.body.error!.issues![0].path, 'events[0].type');

	const negative = await send(bot.key, { events: [message(conv, { tokens_out: -3 })] });
	assert.equal(negative.body.error!.issues![0].path, 'events[0].tokens_out');

	const nul = await send(bot.key, { events: [message(conv, { content: 'a\u0000b' })] });
	assert.equal(nul.status, 400);
	assert.equal(nul.body.error!.issues![0].path, 'events[0].content');

	const notJson = await send(bot.key, '{"events": [');
	assert.equal(notJson.status, 400);
	assert.equal(notJson.body.error!.code, 'invalid_json');

	const empty = await send(bot.key, { events: [] });
	assert.equal(empty.status, 400);
	assert.equal(empty.body.error!.issues![0].path, 'events');
	const rows =
		await sql`select 1 from public.conversations where bot_id = ${bot.id} and external_id = ${conv}`;
	assert.equal(rows.length, 0, 'a refused batch writes nothing');
});

test('a key over its rate gets 429 with Retry-After, then recovers', async () => {
	const limited = await createBot(owner, 'Chatty bot');
	// A tiny bucket for this key only: 2 requests back to back, then one every 2 seconds.
	await sql`insert into private.ingest_rate_limits (api_key_id, burst, per_second)
		values (${limited.keyId}, 2, 0.5)`;
	const batch = () => ({ events: [message(uid('conv'))] });
	assert.equal((await send(limited.key, batch())).status, 200);
	assert.equal((await send(limited.key, batch())).status, 200);
	const refused = await send(limited.key, batch());
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

test('other methods are refused with 405', async () => {
	const res = await ingest(bot.key, undefined, { method: 'GET' });
	assert.equal(res.status, 405);
	await res.body?.cancel();
});

test('close the fixture connection', async () => {
	await sql.end();
});

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
} from './fixtures.ts';

type Body = {
	accepted: number;
	duplicate: number;
	rejected: number;
	results: { index: number; status: string; reason?: string; path?: string }[];
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

test("an event older than the organization's retention is rejected, a newer one accepted", async () => {
	const short = await signUp('ingest-retention');
	await sql`update public.organizations set retention_days = 2 where id = ${short.organizationId}`;
	const shortBot = await createBot(short, 'Short retention bot');
	const conv = uid('conv');
	const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();
	const events = [
		message(conv, { timestamp: hoursAgo(72) }),
		message(conv, { timestamp: hoursAgo(24) })
	];
	const { status, body } = await send(shortBot.key, { events });
	assert.equal(status, 200);
	assert.deepEqual(
		body.results.map((r) => r.status),
		['rejected', 'accepted']
	);
	assert.match(body.results[0].reason!, /retention of raw events \(2 days/);
	assert.equal(body.results[0].path, 'events[0].timestamp');
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
	assert.equal(body.results[0].path, 'events[0].timestamp');
	assert.equal(body.rejected, 2);
	const [{ n }] = await sql`select count(*)::int as n from public.messages where bot_id = ${bot.id}
		and external_id = any (${events.map((e) => e.message_id)})`;
	assert.equal(n, 2);
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

	const fraction = await send(bot.key, { events: [message(conv, { tokens_in: 1.5 })] });
	assert.equal(fraction.status, 400);
	assert.equal(fraction.body.error!.issues![0].path, 'events[0].tokens_in');

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

test('other methods are refused with 405', async () => {
	const res = await ingest(bot.key, undefined, { method: 'GET' });
	assert.equal(res.status, 405);
	await res.body?.cancel();
});

test('an out-of-bounds value or text Postgres cannot store rejects that event with its field path; the rest is written', async () => {
	const conv = uid('conv');
	const ok = message(conv, { role: 'bot', cost_usd: 1000, tokens_in: 10_000_000 });
	const cases: [Record<string, unknown>, string, RegExp][] = [
		[message(conv, { content: 'lone \ud800 surrogate' }), 'events[1].content', /surrogate/],
		[message(conv, { end_user_id: 'a\u0000b' }), 'events[2].end_user_id', /NUL/],
		[message(conv, { cost_usd: 1000.01 }), 'events[3].cost_usd', /1000/],
		[message(conv, { tokens_in: 10_000_001 }), 'events[4].tokens_in', /10000000/],
		[message(conv, { tokens_out: -3 }), 'events[5].tokens_out', /0/],
		[message(conv, { response_time_ms: 86_400_001 }), 'events[6].response_time_ms', /86400000/],
		[message(conv, { content: 'x'.repeat(32_769) }), 'events[7].content', /32768/],
		[
			{ type: 'conversation_started', conversation_id: 'c-\udfff', timestamp: minutesAgo(1) },
			'events[8].conversation_id',
			/surrogate/
		],
		[
			{
				type: 'conversation_handed_off',
				conversation_id: conv,
				timestamp: minutesAgo(1),
				reason: '\u0000'
			},
			'events[9].reason',
			/NUL/
		]
	];
	// The surrogate travels as the JSON escape "\ud800", as a bot's JSON encoder writes it.
	const raw = JSON.stringify({ events: [ok, ...cases.map(([e]) => e)] });
	assert.ok(raw.includes('\\ud800'));
	const { status, body } = await send(bot.key, raw);
	assert.equal(status, 200, JSON.stringify(body));
	assert.equal(body.results[0].status, 'accepted');
	cases.forEach(([, path, reason], i) => {
		const r = body.results[i + 1];
		assert.equal(r.status, 'rejected', path);
		assert.equal(r.path, path);
		assert.ok(r.reason!.startsWith(`${path}: `), r.reason);
		assert.match(r.reason!, reason);
	});
	assert.deepEqual(
		{ accepted: body.accepted, rejected: body.rejected },
		{ accepted: 1, rejected: 9 }
	);
	const stored = await sql`select m.external_id, m.cost_usd, m.tokens_in from public.messages m
		join public.conversations c on c.id = m.conversation_id
		where c.bot_id = ${bot.id} and c.external_id = ${conv}`;
	assert.deepEqual(
		stored.map((m) => [m.external_id, Number(m.cost_usd), m.tokens_in]),
		[[ok.message_id, 1000, 10_000_000]]
	);
	const [c] =
		await sql`select status from public.conversations where bot_id = ${bot.id} and external_id = ${conv}`;
	assert.equal(c.status, 'active', 'the rejected hand-off changed nothing');
});

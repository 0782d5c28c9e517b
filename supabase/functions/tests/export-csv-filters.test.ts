// Every filter of the conversations list applies to its export: for each filter (and a
// combination), the CSV holds exactly the conversations the list shows, which are the ones the
// fixture was built to match; messages exports hold those conversations' messages.
import assert from 'node:assert/strict';
import type { SupabaseClient } from '@supabase/supabase-js';
import {
	adminSql as sql,
	createBot,
	functionUrl,
	ingest,
	message,
	minutesAgo,
	parseCsv,
	signUp,
	test,
	uid
} from './fixtures.ts';

const owner = await signUp('export-filters');
const bot = await createBot(owner, 'Filters bot');
const other = await signUp('export-filters-other');

type Spec = {
	channel: string;
	start: number;
	intent?: string;
	replyMs?: number;
	end?: { at: number; how: 'ended' | 'handed_off' };
};
/** Minutes ago; duration = end - start; the median response time is about the one reply's. */
const specs: Record<string, Spec> = {
	c1: {
		channel: 'web',
		start: 100,
		intent: 'billing',
		replyMs: 500,
		end: { at: 95, how: 'ended' }
	},
	c2: {
		channel: 'whatsapp',
		start: 90,
		intent: 'billing',
		replyMs: 2500,
		end: { at: 85, how: 'handed_off' }
	},
	c3: {
		channel: 'web',
		start: 80,
		intent: 'shipping',
		replyMs: 1500,
		end: { at: 79, how: 'ended' }
	},
	c4: {
		channel: 'web',
		start: 70,
		intent: 'billing',
		replyMs: 1800,
		end: { at: 60, how: 'ended' }
	},
	c5: { channel: 'web', start: 58, replyMs: 3000, end: { at: 50, how: 'handed_off' } },
	c6: { channel: 'web', start: 40, intent: 'billing' }
};
const ext: Record<string, string> = Object.fromEntries(Object.keys(specs).map((k) => [k, uid(k)]));
const byExt = Object.fromEntries(Object.entries(ext).map(([k, v]) => [v, k]));

const events = Object.entries(specs).flatMap(([k, s]) => [
	{
		type: 'conversation_started',
		conversation_id: ext[k],
		timestamp: minutesAgo(s.start),
		channel: s.channel
	},
	message(ext[k], {
		content: `question of ${k}`,
		timestamp: minutesAgo(s.start - 0.2),
		...(s.intent ? { intent: s.intent } : {})
	}),
	...(s.replyMs === undefined
		? []
		: [
				message(ext[k], {
					role: 'bot',
					content: `answer of ${k}`,
					timestamp: minutesAgo(s.start - 0.5),
					response_time_ms: s.replyMs
				})
			]),
	...(s.end
		? [
				{
					type: s.end.how === 'ended' ? 'conversation_ended' : 'conversation_handed_off',
					conversation_id: ext[k],
					timestamp: minutesAgo(s.end.at)
				}
			]
		: [])
]);
const sent = await ingest(bot.key, { events });
assert.equal(sent.status, 200, await sent.clone().text());
assert.equal((await sent.json()).accepted, events.length);
// Median response times come from conversation_metrics, which the hourly rollup fills.
for (let i = 0; ; i++) {
	const [{ r }] = await sql`select private.run_hourly_rollup() as r`;
	if (!r?.skipped) break;
	if (i > 50) throw new Error('the hourly rollup stayed locked');
	await new Promise((resolve) => setTimeout(resolve, 200));
}

const range = {
	from: new Date(Date.now() - 3 * 3600_000).toISOString(),
	to: new Date(Date.now() + 60_000).toISOString()
};

async function get(client: SupabaseClient, params: Record<string, string>) {
	const { data } = await client.auth.getSession();
	const q = new URLSearchParams({ bot: bot.id, ...range, ...params });
	return await fetch(`${functionUrl('export-csv')}?${q}`, {
		headers: { Authorization: `Bearer ${data.session!.access_token}` }
	});
}

/** The fixture keys (c1..c6) of the conversations in an export. */
async function exported(params: Record<string, string>): Promise<string[]> {
	const res = await get(owner.client, params);
	const text = await res.text();
	assert.equal(res.status, 200, text.slice(0, 300));
	return parseCsv(text.replace(/^\uFEFF/, ''))
		.slice(1)
		.map((r) => byExt[r[0]])
		.sort();
}

const listArgs: Record<string, string> = {
	by: 'p_by',
	status: 'p_status',
	channel: 'p_channel',
	search: 'p_query',
	intent: 'p_intent',
	handoff: 'p_handoff',
	min_duration: 'p_min_duration_seconds',
	max_duration: 'p_max_duration_seconds',
	min_response: 'p_min_response_ms',
	max_response: 'p_max_response_ms'
};

/** The fixture keys of the conversations the list shows for the same filters. */
async function listed(params: Record<string, string>): Promise<string[]> {
	const args: Record<string, unknown> = { p_bot_id: bot.id, p_from: range.from, p_to: range.to };
	for (const [k, v] of Object.entries(params))
		args[listArgs[k]] = k === 'handoff' ? v === 'yes' : v;
	const { data, error } = await owner.client.rpc('explore_conversations', {
		...args,
		p_limit: 500
	});
	assert.equal(error, null, JSON.stringify(error));
	return (data as { external_id: string }[]).map((r) => byExt[r.external_id]).sort();
}

const cases: [string, Record<string, string>, string[]][] = [
	['no filter', {}, ['c1', 'c2', 'c3', 'c4', 'c5', 'c6']],
	['intent', { intent: 'billing' }, ['c1', 'c2', 'c4', 'c6']],
	['handed off', { handoff: 'yes' }, ['c2', 'c5']],
	['not handed off', { handoff: 'no' }, ['c1', 'c3', 'c4', 'c6']],
	[
		'duration [5 min, 10 min): max exclusive',
		{ min_duration: '300', max_duration: '600' },
		['c1', 'c2', 'c5']
	],
	[
		// Medians come from the rollup's latency histograms (1.8 s is stored as about 1.88 s), so
		// the bounds sit between the fixture's reply times, not on them.
		'median response time in [1 s, 2.2 s]',
		{ min_response: '1000', max_response: '2200' },
		['c3', 'c4']
	],
	['by handed-off time', { by: 'handed_off' }, ['c2', 'c5']],
	['by end time', { by: 'ended', status: 'completed' }, ['c1', 'c3', 'c4']],
	[
		'intent + no handoff + response time',
		{ intent: 'billing', handoff: 'no', min_response: '1000', max_response: '3000' },
		['c4']
	],
	[
		'intent + channel + search',
		{ intent: 'billing', channel: 'whatsapp', search: 'question' },
		['c2']
	]
];

for (const [name, params, expected] of cases) {
	test(`conversations export, ${name}: exactly the list's rows`, async () => {
		const list = await listed(params);
		assert.deepEqual(list, expected, 'the list');
		assert.deepEqual(await exported(params), list, 'the export');
	});
}

test('messages export of a filtered view: the messages of the listed conversations only', async () => {
	const res = await get(owner.client, {
		kind: 'messages',
		intent: 'billing',
		handoff: 'no',
		min_response: '1000'
	});
	assert.equal(res.status, 200);
	const rows = parseCsv((await res.text()).replace(/^\uFEFF/, '')).slice(1);
	assert.deepEqual(rows.map((r) => r[3]).sort(), ['answer of c4', 'question of c4']);
	assert.ok(rows.every((r) => byExt[r[0]] === 'c4'));
});

test('another tenant exporting with the same filters gets 404 and no rows', async () => {
	const res = await get(other.client, { intent: 'billing', handoff: 'no' });
	assert.equal(res.status, 404);
	assert.equal((await res.json()).error.code, 'bot_not_found');
});

test('bad list filters get 400 naming the parameter and what to send', async () => {
	const cases: [Record<string, string>, string, RegExp][] = [
		[{ kind: 'daily', intent: 'billing' }, 'intent', /does not apply to kind=daily/],
		[{ kind: 'daily', handoff: 'yes' }, 'handoff', /does not apply to kind=daily/],
		[{ kind: 'daily', by: 'ended' }, 'by', /does not apply to kind=daily/],
		[{ kind: 'daily', max_response: '100' }, 'max_response', /does not apply/],
		[{ by: 'sent' }, 'by', /started|ended|handed_off/],
		[{ handoff: 'maybe' }, 'handoff', /yes|no/],
		[{ min_duration: '-1' }, 'min_duration', /0 or more/],
		[{ max_response: 'fast' }, 'max_response', /number of milliseconds/],
		[{ min_duration: '60', max_duration: '30' }, 'min_duration', /must not exceed max_duration/],
		[{ intent: 'x'.repeat(101) }, 'intent', /100/]
	];
	for (const [params, path, message] of cases) {
		const res = await get(owner.client, params);
		const body = await res.json();
		assert.equal(res.status, 400, JSON.stringify(params));
		assert.equal(body.error.issues[0].path, path, JSON.stringify(params));
		assert.match(body.error.issues[0].message, message, JSON.stringify(params));
	}
});

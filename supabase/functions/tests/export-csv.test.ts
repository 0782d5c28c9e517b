// The export-csv function end to end: a signed-in dashboard user calls it with supabase-js.
import assert from 'node:assert/strict';
import { FunctionsHttpError, type SupabaseClient } from '@supabase/supabase-js';
import {
	adminSql as sql,
	anonClient,
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

type Export = {
	status: number;
	headers: Headers;
	text: string;
	json?: { error: { code: string; message: string; issues?: { path: string }[] } };
};

/** Calls the function as the dashboard does, with the client's own session. */
async function exportCsv(client: SupabaseClient, params: Record<string, string>): Promise<Export> {
	const { data, error, response } = await client.functions.invoke(
		`export-csv?${new URLSearchParams(params)}`,
		{ method: 'GET' }
	);
	if (error) {
		const res = error instanceof FunctionsHttpError ? (error.context as Response) : response!;
		const text = await res.text();
		return { status: res.status, headers: res.headers, text, json: JSON.parse(text) };
	}
	return { status: response!.status, headers: response!.headers, text: data as string };
}

async function ok(client: SupabaseClient, params: Record<string, string>) {
	const res = await exportCsv(client, params);
	assert.equal(res.status, 200, res.text.slice(0, 500));
	// supabase-js decodes the body as UTF-8, which drops the BOM; bytes are checked below.
	const rows = parseCsv(res.text);
	return { header: rows[0], rows: rows.slice(1), headers: res.headers };
}

async function sendAll(key: string, events: unknown[]) {
	const res = await ingest(key, { events });
	const body = await res.json();
	assert.equal(res.status, 200, JSON.stringify(body));
	assert.equal(body.accepted, events.length, JSON.stringify(body));
}

const ownerA = await signUp('export-a');
const botA = await createBot(ownerA, 'Acme Support (EU)');
const ownerB = await signUp('export-b');
const botB = await createBot(ownerB, 'Other tenant bot');

// Bot A: three conversations with tricky contents, one per status and channel.
const convA = { web: uid('web'), whatsapp: uid('wa'), handed: uid('handed') };
const tricky = [
	'=HYPERLINK("http://evil.test","click")',
	'+SUM(1,2)',
	'-2+3',
	'@cmd',
	'＝HYPERLINK("http://evil.test")',
	'＋1',
	'－1',
	'＠SUM(A1)',
	'\tTabbed',
	'\rcarriage',
	'\nnewline first',
	'Comma, "quotes" and\r\nline breaks\ninside',
	'Ünïcödé ✓ 日本語'
];
await sendAll(botA.key, [
	{
		type: 'conversation_started',
		conversation_id: convA.web,
		timestamp: minutesAgo(120),
		channel: 'web'
	},
	...tricky.map((content, i) => message(convA.web, { content, timestamp: minutesAgo(119 - i) })),
	{ type: 'conversation_ended', conversation_id: convA.web, timestamp: minutesAgo(100) },
	{
		type: 'conversation_started',
		conversation_id: convA.whatsapp,
		timestamp: minutesAgo(90),
		channel: 'whatsapp'
	},
	message(convA.whatsapp, {
		content: 'refund for my blue kettle please',
		timestamp: minutesAgo(89)
	}),
	message(convA.whatsapp, {
		role: 'bot',
		content: 'Refund started.',
		timestamp: minutesAgo(88),
		response_time_ms: 700,
		tokens_in: 10,
		tokens_out: 5,
		cost_usd: 0.5
	}),
	{
		type: 'conversation_started',
		conversation_id: convA.handed,
		timestamp: minutesAgo(60),
		channel: 'web'
	},
	message(convA.handed, { content: 'I want a human', timestamp: minutesAgo(59) }),
	{ type: 'conversation_handed_off', conversation_id: convA.handed, timestamp: minutesAgo(58) }
]);
await sendAll(botB.key, [
	message(uid('b'), { content: 'tenant B secret', timestamp: minutesAgo(30) })
]);

/** What a spreadsheet evaluates, fullwidth forms included (they are in `tricky`). */
const formulaStart = /^[=+\-@\t\r\n＝＋－＠]/;

const range = {
	from: new Date(Date.now() - 3 * 3600_000).toISOString(),
	to: new Date(Date.now() + 60_000).toISOString()
};

/** Runs the hourly rollup (pg_cron's job) now, retrying while a scheduled run holds its lock. */
async function rollUp() {
	for (let i = 0; i < 50; i++) {
		const [{ r }] = await sql`select private.run_hourly_rollup() as r`;
		if (!r?.skipped) return;
		await new Promise((resolve) => setTimeout(resolve, 200));
	}
	throw new Error('the hourly rollup stayed locked');
}

test('conversations export: CSV with a header, one row per conversation, named after bot and range', async () => {
	// Per-conversation figures come from conversation_metrics, which the hourly rollup fills.
	await rollUp();
	const { header, rows, headers } = await ok(ownerA.client, { bot: botA.id, ...range });
	assert.equal(headers.get('Content-Type'), 'text/csv; charset=utf-8');
	const disposition = headers.get('Content-Disposition')!;
	const day = (iso: string) => iso.slice(0, 10);
	assert.equal(
		disposition,
		`attachment; filename="acme-support-eu-conversations-${day(range.from)}_${day(range.to)}.csv"`
	);
	assert.equal(header[0], 'conversation_id');
	const byId = new Map(
		rows.map((r) => [r[0], Object.fromEntries(header.map((h, i) => [h, r[i]]))])
	);
	assert.deepEqual([...byId.keys()].sort(), Object.values(convA).sort());
	assert.equal(byId.get(convA.web)!.status, 'completed');
	assert.equal(byId.get(convA.web)!.messages, String(tricky.length));
	assert.equal(byId.get(convA.handed)!.status, 'handed_off');
	assert.equal(byId.get(convA.whatsapp)!.channel, 'whatsapp');
	assert.equal(Number(byId.get(convA.whatsapp)!.cost_usd), 0.5);
});

test('messages export neutralises formulas and quotes per RFC 4180, keeping the text intact', async () => {
	const res = await exportCsv(ownerA.client, {
		bot: botA.id,
		kind: 'messages',
		...range,
		channel: 'web'
	});
	assert.equal(res.status, 200);
	// Every record ends with CRLF; a bare LF only appears inside a quoted field.
	assert.ok(res.text.endsWith('\r\n'));
	assert.ok(res.text.includes('"Comma, ""quotes"" and\r\nline breaks\ninside"'));
	const rows = parseCsv(res.text);
	const content = rows[0].indexOf('content');
	const exported = rows.slice(1).map((r) => r[content]);
	const expected = tricky.map((t) => (formulaStart.test(t) ? `'${t}` : t));
	for (const text of expected)
		assert.ok(exported.includes(text), `missing ${JSON.stringify(text)}`);
	for (const cell of rows.slice(1).flat()) {
		assert.ok(
			!formulaStart.test(cell) || /^-?\d/.test(cell),
			`unsafe cell ${JSON.stringify(cell)}`
		);
	}
});

test('filters narrow the export: status, channel, search and range', async () => {
	const ids = async (params: Record<string, string>) =>
		(await ok(ownerA.client, { bot: botA.id, ...range, ...params })).rows.map((r) => r[0]).sort();
	assert.deepEqual(await ids({ status: 'handed_off' }), [convA.handed]);
	assert.deepEqual(await ids({ channel: 'whatsapp' }), [convA.whatsapp]);
	assert.deepEqual(await ids({ search: 'kettle' }), [convA.whatsapp]);
	assert.deepEqual(await ids({ channel: 'web', status: 'completed' }), [convA.web]);
	assert.deepEqual(await ids({ from: new Date(Date.now() - 75 * 60_000).toISOString() }), [
		convA.handed
	]);
	assert.deepEqual(await ids({ status: 'abandoned' }), []);
	const messages = await ok(ownerA.client, {
		bot: botA.id,
		kind: 'messages',
		...range,
		search: 'refund'
	});
	// Both the user's request and the bot's reply mention it.
	assert.equal(messages.rows.length, 2);
});

test('a member of another organization cannot export the bot: 404, as if it did not exist', async () => {
	const res = await exportCsv(ownerB.client, { bot: botA.id, ...range });
	assert.equal(res.status, 404);
	assert.equal(res.json!.error.code, 'bot_not_found');
	const own = await ok(ownerB.client, { bot: botB.id, kind: 'messages', ...range });
	assert.deepEqual(
		own.rows.map((r) => r[3]),
		['tenant B secret']
	);
});

test('a viewer of the organization may export', async () => {
	const viewer = await signUp('export-viewer');
	await sql`insert into public.organization_members (organization_id, user_id, role)
		values (${ownerA.organizationId}, ${viewer.userId}, 'viewer')`;
	const { rows } = await ok(viewer.client, { bot: botA.id, ...range });
	assert.equal(rows.length, 3);
});

test('anonymous callers get 401', async () => {
	const res = await exportCsv(anonClient(), { bot: botA.id });
	assert.equal(res.status, 401);
});

test('bad filters get 400 naming the parameter', async () => {
	const cases: [Record<string, string>, string][] = [
		[{ bot: 'not-a-uuid' }, 'bot'],
		[{ bot: botA.id, kind: 'everything' }, 'kind'],
		[{ bot: botA.id, status: 'lost' }, 'status'],
		[{ bot: botA.id, from: 'last week' }, 'from'],
		[{ bot: botA.id, from: range.to, to: range.from }, 'from'],
		[{ bot: botA.id, kind: 'daily', search: 'x' }, 'search'],
		[{ bot: botA.id, limit: '10' }, 'limit'],
		[{}, 'bot']
	];
	for (const [params, path] of cases) {
		const res = await exportCsv(ownerA.client, params);
		assert.equal(res.status, 400, JSON.stringify(params));
		assert.equal(res.json!.error.issues![0].path, path, JSON.stringify(params));
	}
});

test('the file is UTF-8 with a byte order mark (for Excel) unless bom=false', async () => {
	const { data } = await ownerA.client.auth.getSession();
	const bytes = async (params: Record<string, string>) => {
		const res = await fetch(`${functionUrl('export-csv')}?${new URLSearchParams(params)}`, {
			headers: { Authorization: `Bearer ${data.session!.access_token}` }
		});
		assert.equal(res.status, 200);
		return new Uint8Array(await res.arrayBuffer());
	};
	const withBom = await bytes({ bot: botA.id, kind: 'messages', ...range });
	assert.deepEqual([...withBom.slice(0, 3)], [0xef, 0xbb, 0xbf]);
	assert.ok(new TextDecoder('utf-8', { fatal: true }).decode(withBom).includes('Ünïcödé ✓ 日本語'));
	const without = await bytes({ bot: botA.id, ...range, bom: 'false' });
	assert.equal(new TextDecoder().decode(without.slice(0, 16)), 'conversation_id,');
});

test('daily export: one row per local day, adding up to the messages in the range', async () => {
	// Daily figures come from the rollups too.
	await rollUp();
	const { header, rows } = await ok(ownerA.client, { bot: botA.id, kind: 'daily', ...range });
	assert.equal(header[0], 'day');
	const messages = header.indexOf('messages');
	const total = rows.reduce((sum, r) => sum + Number(r[messages]), 0);
	assert.equal(total, tricky.length + 3);
});

test('a large export spans pages with every row exactly once, in time order', async () => {
	const big = await createBot(ownerA, 'Busy bot');
	const [conv] = await sql`insert into public.conversations (bot_id, external_id, started_at)
		values (${big.id}, 'busy', now() - interval '2 hours') returning id`;
	// 12,001 rows over several windows; many share a timestamp, so the keyset's id tie-break
	// decides where a window ends.
	await sql`insert into public.messages (bot_id, conversation_id, external_id, role, content, sent_at)
		select ${big.id}, ${conv.id}, 'm' || g, 'user', 'row ' || g,
			now() - interval '2 hours' + (g / 7) * interval '1 second'
		from generate_series(1, 12001) g`;
	const { header, rows } = await ok(ownerA.client, {
		bot: big.id,
		kind: 'messages',
		from: new Date(Date.now() - 3 * 3600_000).toISOString()
	});
	const id = header.indexOf('message_id');
	const sentAt = header.indexOf('sent_at');
	assert.equal(rows.length, 12001);
	assert.equal(new Set(rows.map((r) => r[id])).size, 12001);
	for (let i = 1; i < rows.length; i++) {
		assert.ok(
			Date.parse(rows[i - 1][sentAt]) <= Date.parse(rows[i][sentAt]),
			`row ${i} out of order`
		);
	}
});

// Conversations explorer figures for `npm run bench:dashboard` (issue 12), against a running
// platform: a bot with 100,000 conversations (made once, reused by later runs), then
// - server time p95 of the list's first page (page + exact count, as the page load calls them)
//   and of a full-text search, through the REST API as a signed-in member and inside Postgres
//   as that member (server time, the target), each beside the p95 of a one-row read
//   measured the same way in the same run (the floor any page pays);
// - export of the 100,000 conversations through export-csv into a file on disk, rows/s beside
//   COPY of the same rows (the list's statement, same range) to a file in the same run.
// Run alone: `npx tsx scripts/bench/explorer.ts` (SUPABASE_API_PORT / SUPABASE_DB_PORT pick the
// instance); scripts/bench/dashboard.ts imports runExplorerBench(). Prints JSON.
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import postgres from 'postgres';
import { config } from '../../stack/config.ts';
import { benchUser } from './backend-common.ts';
import { percentile } from '../../stack/polling.ts';

const CONVERSATIONS = Number(process.env.BENCH_EXPLORER_CONVERSATIONS ?? 100_000);
const RUNS = Number(process.env.BENCH_EXPLORER_RUNS ?? 40);
const DAY = 86_400_000;

const round = (n: number, d = 1) => Number(n.toFixed(d));

/** The bench bot with CONVERSATIONS conversations over the last 30 days (reused if present). */
async function fixture(sql: postgres.Sql, userId: string): Promise<string> {
	const [org] = await sql`select organization_id as id from public.organization_members
		where user_id = ${userId} and role = 'owner' order by created_at limit 1`;
	const name = `Benchmark explorer ${CONVERSATIONS}`;
	const [existing] = await sql`select b.id,
			(select count(*) from public.conversations c where c.bot_id = b.id)::int as n,
			(select max(started_at) from public.conversations c where c.bot_id = b.id) as newest
		from public.bots b where b.organization_id = ${org.id} and b.name = ${name}`;
	// Reused while its 30 days still cover the bench range (rebuilt after a day).
	if (existing?.n === CONVERSATIONS && Date.now() - new Date(existing.newest).getTime() < DAY)
		return existing.id;
	if (existing) await sql`delete from public.bots where id = ${existing.id}`;
	const [bot] = await sql`insert into public.bots (organization_id, name, timezone)
		values (${org.id}, ${name}, 'Europe/Paris') returning id`;
	const step = (30 * DAY) / CONVERSATIONS;
	await sql`insert into public.conversations (bot_id, external_id, channel, end_user_id, status,
			started_at, last_message_at, ended_at, handed_off_at)
		select ${bot.id}, 'bx-' || g, (array['web', 'whatsapp', 'api', 'telegram']::public.channel[])[1 + g % 4], 'u-' || (g % 5000),
			(array['completed', 'completed', 'abandoned', 'handed_off', 'active']::public.conversation_status[])[1 + g % 5], t, t + (g % 600) * interval '1 second',
			case when g % 5 in (0, 1, 2) then t + (g % 600) * interval '1 second' end,
			case when g % 5 = 3 then t + interval '30 seconds' end
		from generate_series(0, ${CONVERSATIONS - 1}) g,
			lateral (select now() - interval '30 days' + g * ${step}::float8 * interval '1 millisecond' + interval '1 second' t) x`;
	await sql`insert into public.messages (bot_id, conversation_id, external_id, role, content, sent_at,
			response_time_ms, success, intent, model, tokens_in, tokens_out, cost_usd)
		select c.bot_id, c.id, c.external_id || '-' || k, (case when k = 1 then 'user' else 'bot' end)::public.message_role,
			case when k = 1 then (array['Where is my order?', 'I want a refund please', 'My card payment failed',
				'Do you ship to Canada?', 'Can I talk to a human?', 'How do I reset my password?'])[1 + abs(hashtext(c.external_id)) % 6]
				else 'Happy to help with that' end,
			c.started_at + (k - 1) * interval '1 second', case when k = 2 then 100 + abs(hashtext(c.external_id)) % 4000 end,
			case when k = 2 then true end, case when k = 1 then 'order_status' end, case when k = 2 then 'gpt-4o-mini' end,
			30, 20, 0.0003
		from public.conversations c cross join generate_series(1, 2) k where c.bot_id = ${bot.id}`;
	// The hourly rollup fills conversation_metrics (median response time) for the new hours.
	await sql`select private.run_hourly_rollup()`;
	await sql`vacuum (analyze) public.conversations, public.messages, public.conversation_metrics`;
	return bot.id;
}

/** What fn reports (a time it measured itself), after five warm-up calls. */
async function sampled(runs: number, fn: () => Promise<number>): Promise<number[]> {
	for (let i = 0; i < 5; i++) await fn();
	const out: number[] = [];
	for (let i = 0; i < runs; i++) out.push(await fn());
	return out;
}

async function timed<T>(runs: number, fn: () => PromiseLike<T>): Promise<number[]> {
	for (let i = 0; i < 5; i++) await fn();
	const out: number[] = [];
	for (let i = 0; i < runs; i++) {
		const t = performance.now();
		await fn();
		out.push(performance.now() - t);
	}
	return out;
}

function check<T extends { error: unknown }>(r: T): T {
	if (r.error) throw new Error(`bench read failed: ${JSON.stringify(r.error)}`);
	return r;
}

export async function runExplorerBench(): Promise<Record<string, unknown>> {
	const sql = postgres(config.db.url, { max: 2, onnotice: () => {} });
	try {
		const { client, token, userId } = await benchUser('explorer');
		const setupStart = performance.now();
		const botId = await fixture(sql, userId);
		const setupMs = performance.now() - setupStart;
		const to = new Date();
		const from = new Date(to.getTime() - 30 * DAY);
		const base = { p_bot_id: botId, p_from: from.toISOString(), p_to: to.toISOString() };
		// The generated types predate the explorer's functions.
		const rpc = client.rpc.bind(client) as unknown as (
			f: string,
			a: Record<string, unknown>
		) => PromiseLike<{ error: unknown; data: unknown }>;

		const reference = await timed(RUNS, async () =>
			check(await client.from('bots').select('id').eq('id', botId))
		);
		const firstPage = await timed(RUNS, () =>
			Promise.all([
				rpc('explore_conversations', { ...base, p_limit: 51 }).then(check),
				rpc('count_explored_conversations', base).then(check)
			])
		);
		const search = await timed(RUNS, () =>
			Promise.all([
				rpc('explore_conversations', { ...base, p_query: 'refund', p_limit: 51 }).then(check),
				rpc('count_explored_conversations', { ...base, p_query: 'refund' }).then(check)
			])
		);
		const bySlowest = await timed(RUNS, () =>
			rpc('explore_conversations', { ...base, p_sort: 'response', p_limit: 51 }).then(check)
		);
		const { data: total } = check(await rpc('count_explored_conversations', base));

		// Server time: the same calls inside Postgres as the signed-in user (role and claims as
		// the REST API sets them), page and count on two connections at once as the page runs them.
		const asUser = (query: string) =>
			sql.begin(async (tx) => {
				await tx`select set_config('role', 'authenticated', true),
					set_config('request.jwt.claims', ${JSON.stringify({ sub: userId, role: 'authenticated' })}, true)`;
				const t0 = performance.now();
				await tx.unsafe(query);
				return performance.now() - t0;
			});
		const args = `'${botId}'::uuid, '${from.toISOString()}'::timestamptz, '${to.toISOString()}'::timestamptz`;
		// The slower of the two is what the page waits for.
		const serverTime = (extra: string) =>
			sampled(RUNS, async () =>
				Math.max(
					...(await Promise.all([
						asUser(`select * from public.explore_conversations(${args}${extra}, p_limit => 51)`),
						asUser(`select public.count_explored_conversations(${args}${extra})`)
					]))
				)
			);
		const firstPageServer = await serverTime('');
		const searchServer = await serverTime(`, p_query => 'refund'`);
		const serverReference = await sampled(RUNS, () =>
			asUser(`select id from public.bots where id = '${botId}'`)
		);

		// Export through export-csv to a file, then COPY of the same rows to a file.
		const file = join(tmpdir(), `bench-explorer-${process.pid}.csv`);
		const q = new URLSearchParams({
			kind: 'conversations',
			bot: botId,
			from: from.toISOString(),
			to: to.toISOString()
		});
		let t = performance.now();
		const res = await fetch(`${config.api.url}/functions/v1/export-csv?${q}`, {
			headers: { authorization: `Bearer ${token}`, apikey: config.keys.anon }
		});
		if (!res.ok || !res.body)
			throw new Error(`export-csv answered ${res.status}: ${await res.text()}`);
		let lines = 0;
		const counter = new TransformStream<Uint8Array, Uint8Array>({
			transform(chunk, c) {
				for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
				c.enqueue(chunk);
			}
		});
		await pipeline(
			Readable.fromWeb(res.body.pipeThrough(counter) as never),
			createWriteStream(file)
		);
		const exportMs = performance.now() - t;
		const exportRows = lines - 1;

		// The reference: COPY of the same rows (the list's own statement, plain SQL over the
		// tables, in export order) to a file, straight from Postgres as superuser.
		const [{ list }] =
			await sql`select private.explorer_sql(${botId}::uuid, ${from}, ${to}, 'started',
			null, null, null, null, null, null, null, null, null) as list`;
		t = performance.now();
		const copy = await sql
			.unsafe(
				`copy (select e.* from (${list}) e order by e.started_at, e.id) to stdout with (format csv, header)`
			)
			.readable();
		await pipeline(copy, createWriteStream(file));
		const copyMs = performance.now() - t;
		await rm(file, { force: true });

		const rowsPerS = (rows: number, ms: number) => Math.round(rows / (ms / 1000));
		const exportRate = rowsPerS(exportRows, exportMs);
		const copyRate = rowsPerS(Number(total), copyMs);
		return {
			conversations: Number(total),
			fixture_ms: Math.round(setupMs),
			runs: RUNS,
			reference_one_row_read_p95_ms: round(percentile(reference, 95)!),
			list_first_page_p95_ms: round(percentile(firstPage, 95)!),
			list_first_page_p50_ms: round(percentile(firstPage, 50)!),
			list_first_page_vs_reference: round(
				percentile(firstPage, 95)! / percentile(reference, 95)!,
				2
			),
			search_p95_ms: round(percentile(search, 95)!),
			search_vs_reference: round(percentile(search, 95)! / percentile(reference, 95)!, 2),
			sort_by_response_p95_ms: round(percentile(bySlowest, 95)!),
			// Inside Postgres (page and count at once, the slower of the two), beside a one-row read.
			server_reference_one_row_read_p95_ms: round(percentile(serverReference, 95)!, 2),
			server_list_first_page_p95_ms: round(percentile(firstPageServer, 95)!),
			server_search_p95_ms: round(percentile(searchServer, 95)!),
			target_p95_ms: 100,
			list_meets_target:
				percentile(firstPageServer, 95)! <= 100 && percentile(searchServer, 95)! <= 100,
			load_average: loadavg().map((l) => round(l, 2)),
			export_rows: exportRows,
			export_rows_per_s: exportRate,
			copy_rows_per_s: copyRate,
			export_vs_copy: round(exportRate / copyRate, 2),
			export_note:
				'export-csv into a file with the user token (the app endpoint forwards the same stream); the page adds only its write to disk; COPY of the same statement as the reference'
		};
	} finally {
		await sql.end();
	}
}

if (import.meta.url === `file://${process.argv[1]}`) {
	console.log(JSON.stringify({ explorer: await runExplorerBench() }, null, 2));
	process.exit(0);
}

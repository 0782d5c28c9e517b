// `npm run bench:backend`: figures for the analytics database, printed as one JSON object.
// - hourly rollup of ~1M fresh events, and an idle run (nothing new), beside a plain scan of the
//   same rows (the physical reference: what reading them once costs on this machine); the
//   fresh events are the dataset's last days (a catch-up run over many hours), then one busy
//   hour of 1M events (backend-busy-hour.ts);
// - p95 of the dashboard summary (bot_summary over 30 days, ending now, the bot's traffic going on
//   into the current hour, rolled up to two minutes ago as scheduled) beside the same figures computed
//   from the raw rows, with N messages in the database, half of them on the summarised bot (10M,
//   all of them: the load has no time budget unless BENCH_LOAD_SECONDS sets one); the same for
//   the breakdown chart's read (bot_breakdown by model over the same range);
// - then, when scripts/bench/backend-io.ts exists, the ingest and export figures it returns.
// Data is generated with generate_series in a dedicated organization and removed afterwards.
// Env: BENCH_MESSAGES (10000000), BENCH_ROLLUP_EVENTS (1000000), BENCH_LOAD_SECONDS (none),
// BENCH_SUMMARY_RUNS (200), BENCH_KEEP=1 to keep the data, BENCH_SKIP_IO=1 to skip ingest/export,
// BENCH_QUICK=1 for iteration (2M messages, 500k fresh events, 50 summary runs, no ingest/export,
// a 200k-row Realtime transaction), BENCH_SKIP_REALTIME=1 to skip the Realtime figures.
// The machine is shared: `uptime` is printed beside the figures, at the start and at the end.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { config, projectRoot } from '../../stack/config.ts';
import { percentile } from '../../stack/polling.ts';
import { busyHourRollup } from './backend-busy-hour.ts';
import { realtimeCaughtUp as realtimeCaughtUpOn } from './backend-common.ts';
import { insertGeneratedMessages } from './backend-generated-messages.ts';

const quick = process.env.BENCH_QUICK === '1';
const targetMessages = Number(process.env.BENCH_MESSAGES ?? (quick ? 2_000_000 : 10_000_000));
const rollupEvents = Number(process.env.BENCH_ROLLUP_EVENTS ?? (quick ? 500_000 : 1_000_000));
const loadSeconds = Number(process.env.BENCH_LOAD_SECONDS ?? Infinity);
const summaryRuns = Number(process.env.BENCH_SUMMARY_RUNS ?? (quick ? 50 : 200));
const skipIo = quick || process.env.BENCH_SKIP_IO === '1';
// BENCH_REUSE=1: keep the loaded dataset between runs and reuse it when it is already full size
// (a 10M load takes minutes on a busy machine). A reused dataset keeps its rollups (the
// backfill is skipped when they cover it); the fresh-events rollup is recomputed every run.
const reuse = process.env.BENCH_REUSE === '1';
const keep = reuse || process.env.BENCH_KEEP === '1';

const orgId = '0e000000-0000-4000-8000-0000000000be';
const userId = '0e000000-0000-4000-8000-00000000beef';
const bots = 100;
const botId = (n: number) => `0e000000-0000-4000-9000-${String(n).padStart(12, '0')}`;
const messagesPerConversation = 10;
const chunkConversations = 50_000;
const spanDays = 30;

const sql = postgres(config.db.url, { max: 1, onnotice: () => {} });

const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
	const start = process.hrtime.bigint();
	const value = await fn();
	return { ms: ms(start), value };
}
/** `fn` run `runs` times after `warmUp` untimed runs: every run's time and the last result. */
async function timedRuns<T>(fn: () => Promise<T>, runs: number, warmUp = 0) {
	for (let i = 0; i < warmUp; i++) await fn();
	const times: number[] = [];
	let last!: T;
	for (let i = 0; i < runs; i++) {
		const run = await timed(fn);
		times.push(run.ms);
		last = run.value;
	}
	return { times, last };
}

async function removeBenchData() {
	// Raw rows without per-row foreign-key triggers; then the rest by cascade.
	await sql.begin(async (tx) => {
		await tx`set local session_replication_role = replica`;
		await tx`delete from public.messages where bot_id in (select id from public.bots where organization_id = ${orgId})`;
		await tx`delete from public.conversations where bot_id in (select id from public.bots where organization_id = ${orgId})`;
	});
	await sql`delete from public.organizations where id = ${orgId}`;
	await sql`delete from auth.users where id = ${userId}`;
}

async function createTenant() {
	await sql`insert into auth.users (id, email, raw_user_meta_data) values (${userId}, 'bench@botflow.test', '{}')`;
	await sql`insert into public.organizations (id, name, retention_days) values (${orgId}, 'Benchmark', 3650)`;
	await sql`insert into public.organization_members (organization_id, user_id, role) values (${orgId}, ${userId}, 'viewer')`;
	await sql`
		insert into public.bots (id, organization_id, name, channel, timezone)
		select ('0e000000-0000-4000-9000-' || lpad(n::text, 12, '0'))::uuid, ${orgId}, 'Bench bot ' || n,
			(array['web', 'whatsapp', 'api', 'telegram']::public.channel[])[1 + n % 4],
			(array['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'Australia/Sydney'])[1 + n % 5]
		from generate_series(1, ${bots}) n`;
}

/**
 * One chunk: a contiguous slice of the 30 days (newest first), rows in time order as ingest
 * appends them, ten messages per conversation, in one statement.
 */
async function loadChunk(chunk: number, chunks: number) {
	const first = chunk * chunkConversations;
	const sliceSeconds = (spanDays * 86400) / chunks;
	await sql.begin(async (tx) => {
		// Bulk load: skip per-row FK checks and dirty-hour marks; the backfill below rolls it all up.
		await tx`set local session_replication_role = replica`;
		await tx`
			with conv as (
				insert into public.conversations (bot_id, external_id, channel, end_user_id, status, started_at,
					last_message_at, ended_at, handed_off_at)
				-- Half of the traffic goes to bot 1, whose dashboard the summary figures read.
				select ('0e000000-0000-4000-9000-' || lpad((case when i % 2 = 0 then 1 else 2 + i % ${bots - 1} end)::text, 12, '0'))::uuid,
					'bench-' || i,
					(array['web', 'whatsapp', 'api']::public.channel[])[1 + i % 3], 'u-' || (i % 20000), s.status, s.t,
					s.t + interval '150 seconds',
					case when s.status in ('completed', 'abandoned') then s.t + interval '150 seconds' end,
					case when s.status = 'handed_off' then s.t + interval '150 seconds' end
				from generate_series(${first + 1}::bigint, ${first + chunkConversations}::bigint) i
				cross join lateral (select
					now() - make_interval(secs => ${sliceSeconds * (chunk + 1)})
						+ make_interval(secs => ${sliceSeconds} * (i - ${first} - 1)::float8 / ${chunkConversations}) t,
					(array['completed', 'completed', 'completed', 'abandoned', 'handed_off']::public.conversation_status[])[1 + i % 5] status) s
				returning id, bot_id, external_id, started_at
			)
			${insertGeneratedMessages(tx, messagesPerConversation)}
			where c.started_at + k * interval '15 seconds' < now()
			order by c.started_at, k`;
	});
}

/**
 * The summarised bot's live rows (see the reads below) go, with triggers on like any delete, so
 * the past hour they reached into is marked and rolled up again, and the current-hour row that
 * counted them goes: a kept dataset stays as it was.
 */
async function removeLiveRows() {
	await sql`
		delete from public.messages where conversation_id in (
			select id from public.conversations where bot_id = ${botId(1)} and external_id like 'live-%')`;
	await sql`delete from public.conversations where bot_id = ${botId(1)} and external_id like 'live-%'`;
	await sql`delete from private.usage_current_hours where bot_id = ${botId(1)}`;
	await hourlyRollup();
}

/** The hourly rollup; a run skipped because pg_cron holds the lock waits for it, then runs. */
async function hourlyRollup(): Promise<{ ms: number; value: Record<string, unknown> }> {
	for (;;) {
		const run = await timed(async () => (await sql`select private.run_hourly_rollup() as r`)[0].r);
		if (!run.value.skipped) return run;
		// The same wait as integration/fixtures.ts runRollups: the job's own advisory lock.
		await sql.begin((tx) => tx`select pg_advisory_xact_lock(hashtext('botflow.rollup.hourly'))`);
	}
}

/** Every timed phase starts with Realtime caught up (see realtimeCaughtUp in backend-common.ts). */
const realtimeCaughtUp = () => realtimeCaughtUpOn(sql);

const uptime = () => spawnSync('uptime', { encoding: 'utf8' }).stdout.trim();
const machine: Record<string, unknown> = {
	cpus: cpus().length,
	load_average_1m: loadavg()[0],
	uptime_at_start: uptime()
};
const result: Record<string, unknown> = { machine, quick };
try {
	const chunks = Math.ceil(targetMessages / (chunkConversations * messagesPerConversation));
	const [{ n: kept }] = await sql`
		select count(*)::bigint as n from public.messages where bot_id in (select id from public.bots where organization_id = ${orgId})`;
	// The generator skips the few messages that would lie in the future: 99.9 % is full size.
	const reused = reuse && Number(kept) >= targetMessages * 0.999;
	const loadStart = process.hrtime.bigint();
	let loaded = chunks;
	if (!reused) {
		await removeBenchData();
		await createTenant();
		// ---------------------------------------------------------------- load
		loaded = 0;
		for (let chunk = 0; chunk < chunks; chunk++) {
			await loadChunk(chunk, chunks);
			loaded = chunk + 1;
			if (ms(loadStart) / 1000 > loadSeconds) break;
		}
		await sql`analyze public.messages`;
		await sql`analyze public.conversations`;
	}
	const [{ n: messages }] = await sql`
		select count(*)::bigint as n from public.messages where bot_id in (select id from public.bots where organization_id = ${orgId})`;
	result.data = {
		messages_asked: targetMessages,
		messages_loaded: Number(messages),
		reused_kept_dataset: reused,
		note:
			loaded < chunks
				? `load stopped at the ${loadSeconds} s budget on this machine: figures are for ${messages} messages (the most recent ${round((spanDays * loaded) / chunks)} days of ${spanDays}), not ${targetMessages}`
				: 'full size',
		bots,
		days: spanDays,
		load_seconds: round(ms(loadStart) / 1000),
		load_rows_per_second: reused ? null : round(Number(messages) / (ms(loadStart) / 1000), 0)
	};

	// ---------------------------------------------------------------- backfill everything
	// In steps of a few days (each about a million events, one transaction each), as the hourly
	// job would have rolled the data up over time; skipped for a kept dataset already covered
	// (and rolled up by a schema with quarter rows: reads take a range's edges from them).
	const [{ covered }] = await sql`
		select coalesce((select watermark from private.rollup_state where name = 'hourly')
			>= (select date_trunc('hour', max(sent_at), 'UTC') from public.messages where bot_id = ${botId(1)}),
			false) and exists (select 1 from private.usage_quarters where bot_id = ${botId(1)}) as covered`;
	const backfillStart = process.hrtime.bigint();
	if (!(reused && covered)) {
		await sql`delete from private.rollup_dirty_hours`;
		const stepDays = 3;
		for (let back = spanDays + 1; back > 0; back -= stepDays) {
			await sql`
				with gap as (select date_trunc('hour', now(), 'UTC') - make_interval(days => ${back}) as f,
					least(date_trunc('hour', now(), 'UTC') - make_interval(days => ${back - stepDays}),
						date_trunc('hour', now(), 'UTC')) as t)
				select private.rollup_hour_windows(array_agg(b.id), array_agg(gap.f), array_agg(gap.t), min(gap.f), min(gap.t))
				from public.bots b, gap`;
		}
		await sql`update private.rollup_state set watermark = date_trunc('hour', now(), 'UTC') where name = 'hourly'`;
	}
	const catchUp = await hourlyRollup();
	const daily = await timed(() => sql`select private.run_daily_rollup()`);
	result.backfill = {
		skipped_kept_rollups: reused && covered,
		hourly_seconds: round(ms(backfillStart) / 1000),
		daily_seconds: round(daily.ms / 1000),
		catch_up_run: catchUp.value
	};

	// ---------------------------------------------------------------- 1M fresh events
	// The most recent hours holding the asked number of events, read off the hourly rollup (a
	// kept dataset ends when it was loaded, so counting back from now would find empty hours).
	const [{ hours }] = await sql`
		select coalesce(min(ceil(extract(epoch from date_trunc('hour', now(), 'UTC') - h.hour_start) / 3600))
			filter (where h.seen >= ${rollupEvents}), ${spanDays * 24})::int as hours
		from (select u.hour_start, sum(sum(u.messages)) over (order by u.hour_start desc) as seen
			from public.usage_analytics u
			where u.bot_id in (select id from public.bots where organization_id = ${orgId}) group by 1) h`;
	await sql`delete from public.usage_analytics where hour_start >= date_trunc('hour', now(), 'UTC') - make_interval(hours => ${hours})`;
	await sql`delete from public.usage_breakdowns where hour_start >= date_trunc('hour', now(), 'UTC') - make_interval(hours => ${hours})`;
	await sql`delete from private.usage_quarters where quarter_start >= date_trunc('hour', now(), 'UTC') - make_interval(hours => ${hours})`;
	await sql`delete from public.conversation_metrics where bot_id in (select id from public.bots where organization_id = ${orgId})
		and started_at >= date_trunc('hour', now(), 'UTC') - make_interval(hours => ${hours})`;
	const [{ n: events }] = await sql`
		select count(*)::bigint as n from public.messages
		where sent_at >= date_trunc('hour', now(), 'UTC') - make_interval(hours => ${hours}) and sent_at < date_trunc('hour', now(), 'UTC')`;
	await sql`update private.rollup_state set watermark = date_trunc('hour', now(), 'UTC') - make_interval(hours => ${hours}) where name = 'hourly'`;
	const realtimeBeforeRollup = await realtimeCaughtUp();
	const fresh = await hourlyRollup();
	const scan = await timed(
		() => sql`
			select bot_id, date_trunc('hour', sent_at, 'UTC'), count(*), sum(cost_usd) from public.messages
			where sent_at >= date_trunc('hour', now(), 'UTC') - make_interval(hours => ${hours}) and sent_at < date_trunc('hour', now(), 'UTC')
			group by 1, 2`
	);
	const idle: number[] = [];
	for (let i = 0; i < 7; i++) idle.push((await hourlyRollup()).ms);
	result.rollup = {
		events: Number(events),
		hours,
		seconds: round(fresh.ms / 1000, 2),
		phases_ms: fresh.value,
		target_seconds: 2,
		realtime_caught_up_before_seconds: realtimeBeforeRollup,
		reference_scan_seconds: round(scan.ms / 1000, 2),
		ratio_to_reference_scan: round(fresh.ms / scan.ms, 1),
		idle_run_ms: {
			median: round(percentile(idle, 50)!, 2),
			max: round(Math.max(...idle), 2),
			target_ms: 20
		}
	};

	// One busy hour of ~1M events, as the hourly job meets it (rolled back afterwards).
	result.rollup_busy_hour = await busyHourRollup(sql, orgId, realtimeCaughtUp);

	// ---------------------------------------------------------------- summary vs raw
	// Realtime decodes every change the rollup phases made (the busy hour inserts and deletes a
	// million rows), on the same two cores: the reads are measured once it has caught up, so
	// they measure the read, not the decoding beside it.
	result.realtime_caught_up_before_reads_seconds = await realtimeCaughtUp();
	// The summarised bot is live: its traffic goes on up to now at its average rate, as if every
	// event arrived on time, from where its data ends (a kept dataset ends when it was loaded)
	// but over at least the last half hour, whose conversations the active count reads. Written
	// with triggers on, so a past hour it reaches into is marked and rolled up again (untimed),
	// as the hourly job would have. The current hour is rolled up to the minute that ended two
	// minutes ago, as the job scheduled every minute has done by now (in the hour's first two
	// minutes there is nothing to roll up: reads take the hour so far raw).
	await removeLiveRows(); // a run that crashed may have left its own
	const [{ liveFrom }] = await sql`
		select greatest(date_trunc('hour', now() - interval '30 minutes', 'UTC'),
			(select max(m.sent_at) from public.messages m where m.bot_id = ${botId(1)})) as "liveFrom"`;
	await sql.begin(
		(tx) => tx`
			with conv as (
				insert into public.conversations (bot_id, external_id, channel, end_user_id, status, started_at,
					last_message_at, ended_at)
				select ${botId(1)}, 'live-' || i, 'web', 'u-' || (i % 20000), 'completed', t, t + interval '150 seconds',
					t + interval '150 seconds'
				from generate_series(0, 1079) i
				cross join lateral (select ${liveFrom}::timestamptz + make_interval(secs => 5 * i) t) s
				where t < now()
				returning id, bot_id, external_id, started_at
			)
			${insertGeneratedMessages(tx, messagesPerConversation)}
			where c.started_at + k * interval '15 seconds' < now()`
	);
	await hourlyRollup();
	const currentHour = await timed(
		async () => (await sql`select private.run_current_hour_rollup() as r`)[0].r
	);
	const [{ live }] = await sql`
		select count(*)::int as live from public.messages
		where bot_id = ${botId(1)} and sent_at >= date_trunc('hour', now(), 'UTC')`;
	result.current_hour = {
		summarised_bot_live_from: liveFrom,
		summarised_bot_messages_so_far: live,
		rollup_ms: round(currentHour.ms, 1),
		rollup: currentHour.value
	};
	const reader = postgres(config.db.url, { max: 1, onnotice: () => {} });
	try {
		// As the dashboard calls it: a signed-in member, under RLS.
		await reader`set role authenticated`;
		await reader`select set_config('request.jwt.claims', ${JSON.stringify({ sub: userId, role: 'authenticated' })}, false)`;
		const bot = botId(1);
		// One fixed range, so the summary and the raw computation describe the same rows.
		const to = new Date();
		const [{ n: botMessages }] = await reader`
			select count(*)::bigint as n from public.messages
			where bot_id = ${bot} and sent_at >= ${to}::timestamptz - interval '30 days' and sent_at < ${to}::timestamptz`;
		const summary = await timedRuns(
			() =>
				reader`select * from public.bot_summary(${bot}, ${to}::timestamptz - interval '30 days', ${to}::timestamptz)`,
			summaryRuns,
			5
		);
		const times = summary.times;
		const summaryRow: Record<string, unknown> = summary.last[0];
		const raw = await timedRuns(
			() => reader`
					select p.period, count(m.id) as messages,
						percentile_disc(0.95) within group (order by m.response_time_ms)
							filter (where m.role = 'bot') as p95_response_ms,
						sum(m.cost_usd) as cost_usd, sum(m.tokens_in) as tokens_in,
						count(*) filter (where m.role = 'bot' and m.success = false) as failed,
						(select count(*) from public.conversations c where c.bot_id = ${bot} and c.started_at >= p.f and c.started_at < p.t) as conversations
					from (values ('current', ${to}::timestamptz - interval '30 days', ${to}::timestamptz),
						('previous', ${to}::timestamptz - interval '60 days', ${to}::timestamptz - interval '30 days')) p(period, f, t)
					left join public.messages m on m.bot_id = ${bot} and m.sent_at >= p.f and m.sent_at < p.t
					group by p.period, p.f, p.t order by 1`,
			3
		);
		const rawTimes = raw.times;
		const rawRow: Record<string, unknown> = raw.last[0];
		const p95 = percentile(times, 95)!;
		const rawP95 = percentile(rawTimes, 95)!;
		result.summary = {
			bot_messages_in_range: Number(botMessages),
			runs: summaryRuns,
			p50_ms: round(percentile(times, 50)!, 2),
			p95_ms: round(p95, 2),
			target_p95_ms: 10,
			raw_runs: rawTimes.length,
			raw_p95_ms: round(rawP95, 1),
			speedup_vs_raw: round(rawP95 / p95, 0),
			target_speedup: 100,
			same_figures: {
				messages: [Number(summaryRow.messages), Number(rawRow.messages)],
				conversations: [Number(summaryRow.conversations), Number(rawRow.conversations)],
				p95_response_ms: [Number(summaryRow.p95_response_ms), Number(rawRow.p95_response_ms)]
			}
		};

		// The breakdown chart's read (by model) over the same range: rolled-up hours plus the raw
		// partial hours at both ends, whose rows it must attach to their conversations' channels.
		const breakdown = await timedRuns(
			() =>
				reader`select * from public.bot_breakdown(${bot}, ${to}::timestamptz - interval '30 days', ${to}::timestamptz, 'model')`,
			summaryRuns,
			5
		);
		const breakdownTimes = breakdown.times;
		const breakdownRows: Record<string, unknown>[] = [...breakdown.last];
		const rawBreakdown = await timedRuns(
			() => reader`
				select coalesce(m.model, 'unknown') as value, count(*) as messages
				from public.messages m
				where m.bot_id = ${bot} and m.sent_at >= ${to}::timestamptz - interval '30 days' and m.sent_at < ${to}::timestamptz
				group by 1 order by 2 desc, 1`,
			3
		);
		const rawBreakdownTimes = rawBreakdown.times;
		const rawBreakdownRows: Record<string, unknown>[] = [...rawBreakdown.last];
		const breakdownP95 = percentile(breakdownTimes, 95)!;
		result.breakdown = {
			runs: summaryRuns,
			p50_ms: round(percentile(breakdownTimes, 50)!, 2),
			p95_ms: round(breakdownP95, 2),
			raw_runs: rawBreakdownTimes.length,
			raw_p95_ms: round(percentile(rawBreakdownTimes, 95)!, 1),
			speedup_vs_raw: round(percentile(rawBreakdownTimes, 95)! / breakdownP95, 0),
			same_messages_per_model: [
				breakdownRows.map((r) => `${r.value}=${r.messages}`).join(' '),
				rawBreakdownRows.map((r) => `${r.value}=${r.messages}`).join(' ')
			]
		};
	} finally {
		await reader.end();
		await removeLiveRows();
	}
} finally {
	if (!keep) {
		const cleanup = await timed(removeBenchData);
		result.cleanup_seconds = round(cleanup.ms / 1000);
		// Ingest is measured next: let it start from a settled database, not one where
		// autovacuum and the checkpointer are still working through millions of dead rows.
		const settle = await timed(async () => {
			await sql.unsafe('vacuum (analyze) public.messages, public.conversations');
			await sql.unsafe('checkpoint');
		});
		result.settle_seconds = round(settle.ms / 1000);
	}
	await sql.end();
}

// The ingest / export and huge-transaction Realtime figures, when their modules are there; a
// failure is reported, not fatal. Each runs in a process of its own: this one's heap, grown by
// the load and summary phases, slowed the ingest load generator by several times when shared.
function runChild(file: string, env: Record<string, string> = {}): Record<string, unknown> {
	const child = spawnSync(process.execPath, ['--import', 'tsx', file], {
		cwd: projectRoot,
		encoding: 'utf8',
		maxBuffer: 16 * 1024 * 1024,
		env: { ...process.env, ...env }
	});
	// Forty lines, not three: a crash's message comes before its stack and Node's version line.
	if (child.status !== 0) throw new Error(child.stderr.trim().split('\n').slice(-40).join(' | '));
	return JSON.parse(child.stdout.slice(child.stdout.indexOf('{')));
}
const io = join(projectRoot, 'scripts', 'bench', 'backend-io.ts');
if (existsSync(io) && !skipIo) {
	try {
		Object.assign(result, runChild(io));
	} catch (error) {
		result.ingest_export_error = error instanceof Error ? error.message : String(error);
	}
}
// A committed transaction of 1M rows (200k when quick) through Realtime; it prints
// { realtime_huge_transaction: {...} } with its own reference (Postgres's commit and decode).
const realtime = join(projectRoot, 'scripts', 'bench', 'backend-realtime.ts');
if (existsSync(realtime) && process.env.BENCH_SKIP_REALTIME !== '1') {
	try {
		Object.assign(
			result,
			runChild(realtime, {
				BENCH_REALTIME_ROWS: process.env.BENCH_REALTIME_ROWS ?? (quick ? '200000' : '1000000')
			})
		);
	} catch (error) {
		result.realtime_error = error instanceof Error ? error.message : String(error);
	}
}

machine.uptime_at_end = uptime();
console.log(JSON.stringify(result, null, 2));

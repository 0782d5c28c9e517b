// The hourly job's own case, beside the catch-up run backend.ts measures: one busy hour of
// ~1M events (100k ten-message conversations spread over the bench bots) in the last complete
// hour, committed, then (once Realtime has decoded it) rolled up by run_hourly_rollup with the
// watermark at that hour's start.
// Afterwards the rows go and the hour is rolled up again, so a kept dataset stays as it was.
import type postgres from 'postgres';
import { insertGeneratedMessages } from './backend-generated-messages.ts';

const conversations = 100_000;

export async function busyHourRollup(
	sql: postgres.Sql,
	orgId: string,
	realtimeCaughtUp: () => Promise<number>
) {
	const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;
	// Fixed once: a run that crosses the hour still rolls up and scans the hour it filled.
	const [{ hourStart, hourEnd }] = await sql<{ hourStart: Date; hourEnd: Date }[]>`
		select date_trunc('hour', now(), 'UTC') - interval '1 hour' as "hourStart",
			date_trunc('hour', now(), 'UTC') as "hourEnd"`;
	await sql.begin(async (tx) => {
		// Bulk rows without triggers, as the backfill loads them; the run reads them by time.
		await tx`set local session_replication_role = replica`;
		await tx`
			with conv as (
				insert into public.conversations (bot_id, external_id, channel, end_user_id, status, started_at,
					last_message_at, ended_at, handed_off_at)
				select b.ids[1 + i % cardinality(b.ids)], 'busy-' || i,
					(array['web', 'whatsapp', 'api']::public.channel[])[1 + i % 3], 'u-' || (i % 20000), s.status, s.t,
					s.t + interval '150 seconds',
					case when s.status in ('completed', 'abandoned') then s.t + interval '150 seconds' end,
					case when s.status = 'handed_off' then s.t + interval '150 seconds' end
				from (select array_agg(id order by id) ids from public.bots where organization_id = ${orgId}) b
				cross join generate_series(1, ${conversations}) i
				cross join lateral (select ${hourStart}::timestamptz + make_interval(secs => 3400.0 * i / ${conversations}) t,
					(array['completed', 'completed', 'completed', 'abandoned', 'handed_off']::public.conversation_status[])[1 + i % 5] status) s
				returning id, bot_id, external_id, started_at
			)
			${insertGeneratedMessages(tx, 10)}
			order by c.started_at, k`;
	});
	await sql`analyze public.messages`;
	await sql`analyze public.conversations`;
	const [{ events }] = await sql`
		select count(*)::int as events from public.messages
		where sent_at >= ${hourStart} and sent_at < ${hourEnd}`;
	const rollUpLastHour = async () => {
		await sql`update private.rollup_state set watermark = ${hourStart} where name = 'hourly'`;
		return (await sql`select private.run_hourly_rollup() as r`)[0].r;
	};
	// The run starts once Realtime has decoded the million inserts (on the same two cores).
	const realtimeWait = await realtimeCaughtUp();
	let start = process.hrtime.bigint();
	const run = await rollUpLastHour();
	const runMs = ms(start);
	// The reference: the same rows read once, grouped as simply as possible.
	start = process.hrtime.bigint();
	await sql`
		select bot_id, date_trunc('hour', sent_at, 'UTC'), count(*), sum(cost_usd) from public.messages
		where sent_at >= ${hourStart} and sent_at < ${hourEnd}
		group by 1, 2`;
	const scanMs = ms(start);

	// Put the dataset back: the busy rows and their metrics go, and the hour is rolled up again.
	await sql.begin(async (tx) => {
		await tx`set local session_replication_role = replica`;
		await tx`
			delete from public.conversation_metrics m using public.conversations c
			where c.bot_id in (select id from public.bots where organization_id = ${orgId})
				and c.external_id like 'busy-%' and m.bot_id = c.bot_id and m.conversation_id = c.id`;
		await tx`
			delete from public.messages m using public.conversations c
			where c.bot_id in (select id from public.bots where organization_id = ${orgId})
				and c.external_id like 'busy-%' and m.conversation_id = c.id`;
		await tx`delete from public.conversations where bot_id in (select id from public.bots where organization_id = ${orgId})
			and external_id like 'busy-%'`;
	});
	await rollUpLastHour();
	await sql`vacuum (analyze) public.messages, public.conversations`;
	return {
		events,
		seconds: Math.round(runMs / 10) / 100,
		seconds_per_million_events: Math.round((runMs / events) * 1e5) / 100,
		phases_ms: run,
		target_seconds_per_million_events: 2,
		realtime_caught_up_before_seconds: realtimeWait,
		reference_scan_seconds: Math.round(scanMs / 10) / 100,
		ratio_to_reference_scan: Math.round((runMs / scanMs) * 10) / 10
	};
}

-- Rollups: hourly and daily tables equal a from-scratch aggregation of the raw rows; a second
-- run rewrites nothing; moving the watermark back three hours (or two days, as after downtime)
-- is repaired by one run; a late event for a rolled-up hour is counted; a bot's day is cut at
-- its local midnight, also on the 23- and 25-hour days of DST changes; a conversation rolled up
-- hour by hour keeps all of its messages; an owner's deleted conversation or message leaves
-- every rollup as if it had never been; a deleted bot takes its rollup rows with it.
begin;
select plan(33);
\ir fixtures.psql

-- Bot A1 (Europe/Paris) around both DST changes of 2026: clocks go forward on 29 March
-- (a 23-hour day) and back on 25 October (a 25-hour day).
insert into public.conversations (id, bot_id, external_id, started_at, status)
values ('dddddddd-0000-4000-8000-00000000000d', 'a1a1a1a1-0000-4000-8000-0000000000a1', 'fx-dst', '2026-03-28 22:00Z', 'active');
insert into public.messages (bot_id, conversation_id, external_id, role, sent_at, response_time_ms, success)
select 'a1a1a1a1-0000-4000-8000-0000000000a1', 'dddddddd-0000-4000-8000-00000000000d', 'fx-dst-' || n, 'bot', t, 100 * n, true
from (values
	(1, timestamptz '2026-03-28 22:30Z'), -- 23:30 CET, 28 March
	(2, '2026-03-28 23:30Z'),             -- 00:30 CET, 29 March
	(3, '2026-03-29 21:30Z'),             -- 23:30 CEST, 29 March
	(4, '2026-03-29 22:30Z'),             -- 00:30 CEST, 30 March
	(5, '2026-10-24 22:30Z'),             -- 00:30 CEST, 25 October
	(6, '2026-10-25 22:30Z'),             -- 23:30 CET, 25 October (the 25th hour)
	(7, '2026-10-25 23:30Z')              -- 00:30 CET, 26 October
) v(n, t);

select ok(private.run_hourly_rollup() ? 'watermark', 'the hourly rollup runs');
select ok(private.run_daily_rollup() ? 'watermark', 'the daily rollup runs');

-- ---------------------------------------------------------------- DST
select results_eq(
	$$select day, day_start, day_end, messages from public.bot_performance_metrics
		where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' and day in ('2026-03-28', '2026-03-29', '2026-03-30') order by day$$,
	$$values (date '2026-03-28', timestamptz '2026-03-27 23:00Z', timestamptz '2026-03-28 23:00Z', 1),
		('2026-03-29', '2026-03-28 23:00Z', '2026-03-29 22:00Z', 2),
		('2026-03-30', '2026-03-29 22:00Z', '2026-03-30 22:00Z', 1)$$,
	'spring forward: 29 March runs from local midnight to local midnight, 23 hours, and holds its two messages');
select results_eq(
	$$select day, day_end - day_start, messages from public.bot_performance_metrics
		where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' and day in ('2026-10-25', '2026-10-26') order by day$$,
	$$values (date '2026-10-25', interval '25 hours', 2), ('2026-10-26', interval '24 hours', 1)$$,
	'fall back: 25 October lasts 25 hours and its 25th hour belongs to it');

-- ---------------------------------------------------------------- from scratch
create temp table hourly_wm as select watermark from private.rollup_state where name = 'hourly';
select set_eq(
	$$select bot_id, hour_start, messages, user_messages, bot_messages, conversations_active, active_end_users,
		tokens_in, tokens_out, cost_usd, replies, failed_replies, response_time_count, response_time_sum_ms
		from public.usage_analytics where messages > 0 and hour_start < (select watermark from hourly_wm)$$,
	$$select m.bot_id, date_trunc('hour', m.sent_at, 'UTC') h, count(*)::int n, (count(*) filter (where role = 'user'))::int u,
		(count(*) filter (where role = 'bot'))::int b, count(distinct m.conversation_id)::int ca, count(distinct c.end_user_id)::int eu,
		sum(m.tokens_in) ti, sum(m.tokens_out) tou, sum(m.cost_usd) cost,
		(count(*) filter (where role = 'bot' and success is not null))::int r, (count(*) filter (where role = 'bot' and not success))::int f,
		(count(*) filter (where role = 'bot' and response_time_ms is not null))::int rc,
		coalesce(sum(response_time_ms) filter (where role = 'bot'), 0) rs
		from public.messages m join public.conversations c on c.id = m.conversation_id
		where m.sent_at < (select watermark from hourly_wm) group by 1, 2$$,
	'usage_analytics equals a from-scratch aggregation of every message, every hour, every bot');
select set_eq(
	$$select u.bot_id, u.hour_start, k::int, n from public.usage_analytics u, unnest(u.latency_histogram) with ordinality h(n, k)
		where n > 0 and u.hour_start < (select watermark from hourly_wm)$$,
	$$select bot_id, date_trunc('hour', sent_at, 'UTC') h, private.latency_bucket(response_time_ms) k, count(*)::int n
		from public.messages where role = 'bot' and response_time_ms is not null and sent_at < (select watermark from hourly_wm)
		group by 1, 2, 3$$,
	'latency histograms equal the raw response times bucketed from scratch');
select set_eq(
	$$select bot_id, hour_start, conversations_started, conversations_handed_off from public.usage_analytics
		where (conversations_started > 0 or conversations_handed_off > 0) and hour_start < (select watermark from hourly_wm)$$,
	$$select bot_id, h, (count(*) filter (where k = 's'))::int s, (count(*) filter (where k = 'h'))::int ho from (
		select bot_id, date_trunc('hour', started_at, 'UTC') h, 's' k from public.conversations
		union all select bot_id, date_trunc('hour', handed_off_at, 'UTC'), 'h' from public.conversations where handed_off_at is not null
	) e where h < (select watermark from hourly_wm) group by 1, 2$$,
	'conversation starts and handoffs per hour equal a from-scratch count');
-- The one aggregation (private.aggregate_raw) over every bot's whole history, each bot read by
-- its own index range, must give exactly what the runs stored (read by time for the gap).
select set_eq(
	$$select bot_id, hour_start, messages, conversations_started, conversations_resolved, conversations_abandoned,
		conversations_handed_off, conversations_active, active_end_users, tokens_in, cost_usd, replies, failed_replies,
		response_time_count, response_time_sum_ms, latency_histogram
		from public.usage_analytics where hour_start < (select watermark from hourly_wm)$$,
	$$select a.bot_id, a.bucket_start, a.messages::int, a.conversations_started::int, a.conversations_resolved::int,
		a.conversations_abandoned::int, a.conversations_handed_off::int, a.conversations_active::int, a.active_end_users::int,
		a.tokens_in, a.cost_usd, a.replies::int, a.failed_replies::int, a.response_time_count::int, a.response_time_sum_ms,
		a.latency_histogram
		from public.bots b
		cross join lateral private.aggregate_raw(array[b.id], array[timestamptz '2000-01-01Z'],
			array[(select watermark from hourly_wm)], 'hour') a$$,
	'usage_analytics equals the shared aggregation recomputed from scratch for every bot');
select throws_ok(
	$$select * from private.aggregate_raw(array['a1a1a1a1-0000-4000-8000-0000000000a1'::uuid], array[now() - interval '1 day'],
		array[now()], 'day', true, now() - interval '1 hour', now())$$,
	'P0001', 'aggregate_raw: a gap (p_gap_from) is read by UTC hour or quarter only, not by day',
	'the shared aggregation refuses a time-range gap at any grain but the UTC hour or quarter, saying why');
-- The quarter hours reads take the edges of a range from (private.usage_quarters).
create function pg_temp.quarters_from_scratch() returns table (bot_id uuid, q timestamptz, messages int,
	bot_messages int, started int, tokens_in bigint, cost numeric, rt_sum bigint, histogram integer[]) language sql as $$
	select coalesce(m.bot_id, c.bot_id), coalesce(m.q, c.q), coalesce(m.n, 0), coalesce(m.b, 0), coalesce(c.n, 0),
		coalesce(m.ti, 0), coalesce(m.cost, 0), coalesce(m.rs, 0), coalesce(m.h, private.histogram_of('{}'))
	from (
		select bot_id, date_bin('15 minutes', sent_at, timestamptz '2000-01-01Z') q, count(*)::int n,
			(count(*) filter (where role = 'bot'))::int b, sum(tokens_in) ti, sum(cost_usd) cost,
			coalesce(sum(response_time_ms) filter (where role = 'bot'), 0) rs,
			private.histogram_of(array_agg(private.latency_bucket(response_time_ms)) filter (where role = 'bot' and response_time_ms is not null)) h
		from public.messages where sent_at < (select watermark from private.rollup_state where name = 'hourly') group by 1, 2
	) m
	full join (
		select bot_id, date_bin('15 minutes', started_at, timestamptz '2000-01-01Z') q, count(*)::int n from public.conversations
		where started_at < (select watermark from private.rollup_state where name = 'hourly') group by 1, 2
	) c on c.bot_id = m.bot_id and c.q = m.q
$$;
select set_eq(
	$$select bot_id, quarter_start, messages, bot_messages, conversations_started, tokens_in, cost_usd, response_time_sum_ms,
		latency_histogram from private.usage_quarters
		where (messages > 0 or conversations_started > 0) and quarter_start < (select watermark from hourly_wm)$$,
	$$select * from pg_temp.quarters_from_scratch()$$,
	'usage_quarters equals a from-scratch aggregation per quarter hour (messages, starts, tokens, cost, latency histogram)');
select set_eq(
	$$select d.bot_id, d.day, d.messages, d.unique_end_users, d.tokens_in, d.cost_usd from public.bot_performance_metrics d
		where d.day_end <= (select watermark from private.rollup_state where name = 'daily') and d.messages > 0$$,
	$$select m.bot_id, (m.sent_at at time zone b.timezone)::date d, count(*)::int n, count(distinct c.end_user_id)::int eu,
		sum(m.tokens_in) ti, sum(m.cost_usd) cost
		from public.messages m join public.bots b on b.id = m.bot_id join public.conversations c on c.id = m.conversation_id
		where (((m.sent_at at time zone b.timezone)::date + 1)::timestamp at time zone b.timezone)
			<= (select watermark from private.rollup_state where name = 'daily')
		group by 1, 2$$,
	'bot_performance_metrics equals a from-scratch aggregation per local day');
select set_eq(
	$$select conversation_id, messages, tokens_in, cost_usd from public.conversation_metrics
		where conversation_id in (select id from public.conversations where bot_id in ('a1a1a1a1-0000-4000-8000-0000000000a1', 'b1b1b1b1-0000-4000-8000-0000000000b1'))$$,
	$$select c.id, count(m.id)::int n, coalesce(sum(m.tokens_in), 0) ti, coalesce(sum(m.cost_usd), 0) cost
		from public.conversations c left join public.messages m on m.conversation_id = c.id
		where c.bot_id in ('a1a1a1a1-0000-4000-8000-0000000000a1', 'b1b1b1b1-0000-4000-8000-0000000000b1') group by c.id$$,
	'conversation_metrics equals a from-scratch aggregation per conversation');

select set_eq(
	$$select bot_id, hour_start, dimension, value, messages, cost_usd, latency_histogram from public.usage_breakdowns
		where hour_start < (select watermark from hourly_wm)$$,
	$$select m.bot_id, date_trunc('hour', m.sent_at, 'UTC') h, d.dim, d.val, count(*)::int n, sum(m.cost_usd) cost,
		private.histogram_of(array_agg(private.latency_bucket(m.response_time_ms)) filter (where m.role = 'bot' and m.response_time_ms is not null)) hist
		from public.messages m join public.conversations c on c.id = m.conversation_id
		cross join lateral (values ('channel', c.channel::text), ('intent', coalesce(m.intent, 'unknown')), ('model', coalesce(m.model, 'unknown'))) d(dim, val)
		where m.sent_at < (select watermark from hourly_wm) group by 1, 2, 3, 4$$,
	'usage_breakdowns (channel, intent, model) equal a from-scratch split of every message');
select set_eq(
	$$select conversation_id, first_response_ms, response_p50_ms, response_p95_ms from public.conversation_metrics
		where bot_id in ('a1a1a1a1-0000-4000-8000-0000000000a1', 'b1b1b1b1-0000-4000-8000-0000000000b1')
			or conversation_id in (select id from public.conversations where bot_id in (select id from public.bots where name like 'Acme%')
				and started_at < (select watermark from hourly_wm) order by id limit 300)$$,
	$$select c.id, (array_agg(m.response_time_ms order by m.sent_at) filter (where m.role = 'bot' and m.response_time_ms is not null))[1] fr,
		percentile_disc(0.5) within group (order by m.response_time_ms) filter (where m.role = 'bot') p50,
		percentile_disc(0.95) within group (order by m.response_time_ms) filter (where m.role = 'bot') p95
		from public.conversations c left join public.messages m on m.conversation_id = c.id
		where c.bot_id in ('a1a1a1a1-0000-4000-8000-0000000000a1', 'b1b1b1b1-0000-4000-8000-0000000000b1')
			-- Seed conversations the hourly rollup has reached (not those begun in the current hour).
			or c.id in (select id from public.conversations where bot_id in (select id from public.bots where name like 'Acme%')
				and started_at < (select watermark from hourly_wm) order by id limit 300)
		group by c.id$$,
	'conversation_metrics response times (first, exact p50 and p95) equal percentile_disc over the raw replies');

-- ---------------------------------------------------------------- idempotency
create temp table before_rows as
	select 'u' t, ctid::text c from public.usage_analytics union all select 'd', ctid::text from public.bot_performance_metrics
	union all select 'b', ctid::text from public.usage_breakdowns union all select 'c', ctid::text from public.conversation_metrics;
select private.run_hourly_rollup(), private.run_daily_rollup();
select set_eq(
	$$select 'u' t, ctid::text c from public.usage_analytics union all select 'd', ctid::text from public.bot_performance_metrics
	union all select 'b', ctid::text from public.usage_breakdowns union all select 'c', ctid::text from public.conversation_metrics$$,
	$$select t, c from before_rows$$,
	'running both rollups again rewrites no row at all');
-- Nothing new since: the cron job's usual case answers without recomputing any window.
select is(private.run_hourly_rollup() - 'watermark', '{"windows": 0, "rows": 0, "failed_bots": []}'::jsonb,
	'an idle hourly run recomputes no window and writes no row');

-- ---------------------------------------------------------------- watermark moved back 3 hours
create temp table snapshot as select * from public.usage_analytics;
delete from public.usage_analytics where hour_start >= (select watermark - interval '3 hours' from hourly_wm);
update private.rollup_state set watermark = watermark - interval '3 hours' where name = 'hourly';
select private.run_hourly_rollup();
select is((select watermark from private.rollup_state where name = 'hourly'), (select watermark from hourly_wm),
	'after moving the watermark back 3 hours, one run brings it back');
select is((select count(distinct hour_start)::int from public.usage_analytics where hour_start >= (select watermark - interval '3 hours' from hourly_wm)),
	3, 'that one run fills all three hours');
select set_eq($$select bot_id, hour_start, messages, latency_histogram from public.usage_analytics$$,
	$$select bot_id, hour_start, messages, latency_histogram from snapshot$$, 'and they hold exactly what they held before');

-- ---------------------------------------------------------------- downtime: two days behind
delete from public.usage_analytics where hour_start >= (select watermark - interval '2 days' from hourly_wm);
update private.rollup_state set watermark = watermark - interval '2 days' where name = 'hourly';
select private.run_hourly_rollup();
select set_eq($$select bot_id, hour_start, messages, cost_usd from public.usage_analytics$$,
	$$select bot_id, hour_start, messages, cost_usd from snapshot$$, 'after two days of downtime one run catches up every hour');

-- ---------------------------------------------------------------- late event
insert into public.messages (bot_id, conversation_id, external_id, role, sent_at)
values ('a1a1a1a1-0000-4000-8000-0000000000a1', 'dddddddd-0000-4000-8000-00000000000d', 'fx-late', 'user', '2026-03-29 12:00Z');
select private.run_hourly_rollup();
select is((select messages from public.usage_analytics where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' and hour_start = '2026-03-29 12:00Z'),
	1, 'a late event for an hour rolled up months ago is counted by the next run');
-- That run reads only the late hour, yet the conversation's metrics still cover its messages
-- before and after it (March and October), each once.
select results_eq(
	$$select messages, bot_messages, first_response_ms, response_p50_ms, response_p95_ms from public.conversation_metrics
		where conversation_id = 'dddddddd-0000-4000-8000-00000000000d'$$,
	$$select count(*)::int, (count(*) filter (where role = 'bot'))::int,
		(array_agg(response_time_ms order by sent_at) filter (where role = 'bot' and response_time_ms is not null))[1],
		(percentile_disc(0.5) within group (order by response_time_ms) filter (where role = 'bot'))::numeric,
		(percentile_disc(0.95) within group (order by response_time_ms) filter (where role = 'bot'))::numeric
		from public.messages where conversation_id = 'dddddddd-0000-4000-8000-00000000000d'$$,
	'a late event refreshes its conversation''s metrics from all of its messages, none counted twice');
select private.run_daily_rollup();
select is((select messages from public.bot_performance_metrics where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' and day = '2026-03-29'),
	3, 'and its local day is recomputed by the next daily run');

-- ---------------------------------------------------------------- a conversation across two runs
-- Its first message is rolled up by one run, its second by the next: the second run reads only
-- its own hour, yet the metrics hold both messages.
insert into public.conversations (id, bot_id, external_id, started_at, status)
values ('dddddddd-0000-4000-8000-0000000000e1', 'a1a1a1a1-0000-4000-8000-0000000000a1', 'fx-two-runs', '2026-05-04 10:50Z', 'active');
insert into public.messages (bot_id, conversation_id, external_id, role, sent_at, response_time_ms, success)
values ('a1a1a1a1-0000-4000-8000-0000000000a1', 'dddddddd-0000-4000-8000-0000000000e1', 'fx-two-runs-1', 'bot', '2026-05-04 10:55Z', 300, true),
	('a1a1a1a1-0000-4000-8000-0000000000a1', 'dddddddd-0000-4000-8000-0000000000e1', 'fx-two-runs-2', 'bot', '2026-05-04 11:05Z', 100, true);
select private.rollup_hour_windows(array['a1a1a1a1-0000-4000-8000-0000000000a1'::uuid], array[timestamptz '2026-05-04 10:00Z'], array[timestamptz '2026-05-04 11:00Z']);
select private.rollup_hour_windows(array['a1a1a1a1-0000-4000-8000-0000000000a1'::uuid], array[timestamptz '2026-05-04 11:00Z'], array[timestamptz '2026-05-04 12:00Z']);
select results_eq(
	$$select messages, first_response_ms, response_p50_ms, response_p95_ms from public.conversation_metrics
		where conversation_id = 'dddddddd-0000-4000-8000-0000000000e1'$$,
	$$values (2, 300, 100::numeric, 300::numeric)$$,
	'a conversation rolled up by two runs, an hour each, holds both messages once');

-- ---------------------------------------------------------------- an owner's deletes
-- Within retention (these rows are months old: the organization keeps ten years here).
update public.organizations set retention_days = 3650 where id = 'a0a0a0a0-0000-4000-8000-00000000000a';
-- A conversation alone in its hour and its local day, with a model nobody else uses.
insert into public.conversations (id, bot_id, external_id, started_at, ended_at, status)
values ('dddddddd-0000-4000-8000-0000000000f1', 'a1a1a1a1-0000-4000-8000-0000000000a1', 'fx-deleted', '2026-06-10 09:10Z',
	'2026-06-10 09:20Z', 'completed');
insert into public.messages (bot_id, conversation_id, external_id, role, sent_at, response_time_ms, success, model)
values ('a1a1a1a1-0000-4000-8000-0000000000a1', 'dddddddd-0000-4000-8000-0000000000f1', 'fx-deleted-1', 'user', '2026-06-10 09:11Z', null, null, null),
	('a1a1a1a1-0000-4000-8000-0000000000a1', 'dddddddd-0000-4000-8000-0000000000f1', 'fx-deleted-2', 'bot', '2026-06-10 09:12Z', 700, true, 'fx-model-deleted');
select private.run_hourly_rollup(), private.run_daily_rollup();
select is((select messages from public.usage_analytics where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' and hour_start = '2026-06-10 09:00Z'),
	2, 'a late conversation is rolled up (before its owner deletes it)');
delete from public.conversations where id = 'dddddddd-0000-4000-8000-0000000000f1';
select private.run_hourly_rollup(), private.run_daily_rollup();
select is_empty(
	$$select 'hour' from public.usage_analytics where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' and hour_start = '2026-06-10 09:00Z'
		union all select 'model' from public.usage_breakdowns where value = 'fx-model-deleted'
		union all select 'day' from public.bot_performance_metrics where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' and day = '2026-06-10'
		union all select 'metrics' from public.conversation_metrics where conversation_id = 'dddddddd-0000-4000-8000-0000000000f1'$$,
	'a deleted conversation leaves no hour, breakdown, day or metrics row that counted only it');
-- One message of the conversation rolled up over two hours goes: its hour (11:00) empties and
-- the conversation keeps the other message only.
delete from public.messages where external_id = 'fx-two-runs-2';
select private.run_hourly_rollup(), private.run_daily_rollup();
select results_eq(
	$$select messages, first_response_ms, response_p50_ms, response_p95_ms from public.conversation_metrics
		where conversation_id = 'dddddddd-0000-4000-8000-0000000000e1'$$,
	$$values (1, 300, 300::numeric, 300::numeric)$$,
	'a deleted message leaves its conversation''s metrics, though no other message of it shared its hour');
select set_eq(
	$$select bot_id, hour_start, messages, cost_usd, latency_histogram from public.usage_analytics
		where hour_start < (select watermark from private.rollup_state where name = 'hourly')$$,
	$$select bot_id, date_trunc('hour', sent_at, 'UTC'), count(*)::int, sum(cost_usd),
		private.histogram_of(array_agg(private.latency_bucket(response_time_ms)) filter (where role = 'bot' and response_time_ms is not null))
		from public.messages where sent_at < (select watermark from private.rollup_state where name = 'hourly') group by 1, 2$$,
	'after both deletes usage_analytics still equals a from-scratch aggregation of every message');
select set_eq(
	$$select bot_id, quarter_start, messages, bot_messages, conversations_started, tokens_in, cost_usd, response_time_sum_ms,
		latency_histogram from private.usage_quarters
		where (messages > 0 or conversations_started > 0) and quarter_start < (select watermark from private.rollup_state where name = 'hourly')$$,
	$$select * from pg_temp.quarters_from_scratch()$$,
	'and usage_quarters a from-scratch aggregation per quarter hour (the emptied quarters have no row)');
select set_eq(
	$$select bot_id, day, messages from public.bot_performance_metrics
		where day_end <= (select watermark from private.rollup_state where name = 'daily') and messages > 0$$,
	$$select m.bot_id, (m.sent_at at time zone b.timezone)::date, count(*)::int
		from public.messages m join public.bots b on b.id = m.bot_id
		where (((m.sent_at at time zone b.timezone)::date + 1)::timestamp at time zone b.timezone)
			<= (select watermark from private.rollup_state where name = 'daily')
		group by 1, 2$$,
	'and bot_performance_metrics a from-scratch aggregation per local day');
-- Past retention (90 days) an hour may have lost raw rows already: recomputed from the rest it
-- would lose their counts, so an owner's delete there leaves the rollups, as expiry does.
update public.organizations set retention_days = 90 where id = 'a0a0a0a0-0000-4000-8000-00000000000a';
delete from public.messages where external_id = 'fx-dst-1';
select private.run_hourly_rollup(), private.run_daily_rollup();
select is((select messages from public.usage_analytics where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' and hour_start = '2026-03-28 22:00Z'),
	1, 'a message deleted from an hour past retention stays counted, as an expired one would');

-- ---------------------------------------------------------------- a deleted bot
delete from public.bots where id = 'a1a1a1a1-0000-4000-8000-0000000000a1';
select is_empty(
	$$select 1 from public.usage_analytics where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1'
		union all select 1 from public.usage_breakdowns where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1'
		union all select 1 from public.bot_performance_metrics where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1'
		union all select 1 from public.conversation_metrics where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1'
		union all select 1 from private.usage_quarters where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1'$$,
	'deleting a bot deletes its rows in all five rollup tables');
select is((select count(*)::int from private.usage_quarters where bot_id <> 'a1a1a1a1-0000-4000-8000-0000000000a1') > 0, true,
	'the other bots keep their quarter rows');

select * from finish();
rollback;

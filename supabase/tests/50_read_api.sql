-- Read API: the card total equals the sum of the chart's buckets equals the rows the export
-- returns, for the same bot and range, whether the range is served by days, hours or the live
-- raw tail; percentiles are exact at histogram resolution; other tenants and anonymous callers
-- get nothing; bad input gets a message saying what to change.
begin;
select plan(52);
\ir fixtures.psql

-- Ten days of traffic for bot A1, up to a second ago: a conversation every 20 minutes with a
-- user message, two bot replies (one failing now and then) and a handoff every seventh time.
insert into public.conversations (bot_id, external_id, channel, end_user_id, status, started_at, handed_off_at)
select 'a1a1a1a1-0000-4000-8000-0000000000a1', 'fx-traffic-' || n, (case when n % 3 = 0 then 'whatsapp' else 'web' end)::public.channel,
	'fx-u-' || (n % 17), (case when n % 7 = 0 then 'handed_off' else 'completed' end)::public.conversation_status,
	now() - n * interval '20 minutes', case when n % 7 = 0 then now() - n * interval '20 minutes' + interval '3 seconds' end
from generate_series(1, 720) n;
insert into public.messages (bot_id, conversation_id, external_id, role, content, sent_at, response_time_ms, success,
	model, tokens_in, tokens_out, cost_usd)
select c.bot_id, c.id, c.external_id || '-' || k, (case when k = 1 then 'user' else 'bot' end)::public.message_role,
	case when k = 1 then 'refund for order ' || n else 'Refund on its way' end,
	c.started_at + (k - 1) * interval '500 milliseconds',
	case when k > 1 then 50 + (n * 37 + k * 101) % 4000 end, case when k > 1 then (n + k) % 11 <> 0 end,
	case when k > 1 then (array['gpt-4o', 'gpt-4o-mini'])[1 + n % 2] end, k * 10, k * 3, k * 0.0001
from public.conversations c
cross join lateral (select substring(c.external_id from 12)::int n) x
cross join generate_series(1, 3) k
where c.external_id like 'fx-traffic-%' and c.started_at + (k - 1) * interval '500 milliseconds' < now();
select private.run_hourly_rollup(), private.run_daily_rollup();
-- And a message in the current hour that no rollup has seen yet.
insert into public.messages (bot_id, conversation_id, external_id, role, sent_at, response_time_ms, success)
select bot_id, id, 'fx-live', 'bot', now() - interval '1 second', 77, true
from public.conversations where external_id = 'fx-traffic-1';

create temp table ranges (label text, f timestamptz, t timestamptz, bucket text);
insert into ranges values
	('9 days, uneven edges, daily buckets', now() - interval '9 days 7 hours 13 minutes', now(), null),
	('2 days, hourly buckets', now() - interval '2 days 13 minutes', now(), 'hour'),
	('a past window between rollups', now() - interval '5 days 30 minutes', now() - interval '4 days 6 hours 5 minutes', null);
grant select on ranges to authenticated, anon;

select pg_temp.login('aaaaaaaa-0000-4000-8000-000000000003');
select is(
	(select s.messages from ranges r, public.bot_summary('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t) s where r.label = l and s.period = 'current'),
	(select sum(s.messages)::bigint from ranges r, public.bot_usage_series('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t, r.bucket) s where r.label = l),
	'messages, ' || l || ': card = sum of chart buckets') from (select label l from ranges) x;
select is(
	(select s.messages from ranges r, public.bot_summary('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t) s where r.label = l and s.period = 'current'),
	(select count(*) from ranges r, public.export_messages('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t) e where r.label = l),
	'messages, ' || l || ': card = rows exported') from (select label l from ranges) x;
select is(
	(select s.conversations from ranges r, public.bot_summary('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t) s where r.label = l and s.period = 'current'),
	(select sum(s.conversations)::bigint from ranges r, public.bot_usage_series('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t, r.bucket) s where r.label = l),
	'conversations, ' || l || ': card = sum of chart buckets') from (select label l from ranges) x;
select is(
	(select s.conversations from ranges r, public.bot_summary('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t) s where r.label = l and s.period = 'current'),
	(select count(*) from ranges r, public.export_conversations('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t) e where r.label = l),
	'conversations, ' || l || ': card = rows exported') from (select label l from ranges) x;

-- Against the raw rows directly, for the 9-day range and the period before it.
create temp table raw_truth as
select p.period, count(*) messages, sum(m.cost_usd) cost, sum(m.tokens_in) tokens_in,
	private.latency_bucket_upper_ms(private.latency_bucket(percentile_disc(0.50) within group (order by m.response_time_ms))) p50,
	private.latency_bucket_upper_ms(private.latency_bucket(percentile_disc(0.95) within group (order by m.response_time_ms))) p95,
	private.latency_bucket_upper_ms(private.latency_bucket(percentile_disc(0.99) within group (order by m.response_time_ms))) p99
from ranges r
cross join lateral (values ('current', r.f, r.t), ('previous', r.f - (r.t - r.f), r.f)) p(period, f, t)
join public.messages m on m.bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' and m.sent_at >= p.f and m.sent_at < p.t
where r.label like '9 days%'
group by p.period;
grant select on raw_truth to authenticated;
select results_eq(
	$$select s.period, s.messages, s.cost_usd, s.tokens_in, s.p50_response_ms, s.p95_response_ms, s.p99_response_ms
		from ranges r, public.bot_summary('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t) s where r.label like '9 days%' order by 1$$,
	$$select period, messages, cost, tokens_in, p50, p95, p99 from raw_truth order by 1$$,
	'summary (both periods): counts, cost, tokens and p50/p95/p99 match the raw rows, percentiles at bucket resolution');
select is(
	(select sum(b.messages)::bigint from ranges r, public.bot_breakdown('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t, 'model') b where r.label like '9 days%'),
	(select messages from raw_truth where period = 'current'), 'breakdown by model covers every message once');
select set_eq(
	$$select b.value, b.messages from ranges r, public.bot_breakdown('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t, 'channel') b where r.label like '2 days%'$$,
	$$select c.channel::text, count(*) from ranges r join public.messages m on m.sent_at >= r.f and m.sent_at < r.t
		join public.conversations c on c.id = m.conversation_id
		where r.label like '2 days%' and m.bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' group by 1$$,
	'breakdown by channel equals the raw split');
select is((select active_conversations from public.bot_summary('a1a1a1a1-0000-4000-8000-0000000000a1', now() - interval '1 day', now()) where period = 'current'),
	(select count(distinct conversation_id) from public.messages where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' and sent_at >= now() - interval '30 minutes'),
	'active conversations: those with a message in the last 30 minutes');
select is((select handoff_rate from public.bot_summary('a1a1a1a1-0000-4000-8000-0000000000a1', now() - interval '7 days', now()) where period = 'current'),
	(select round(count(*) filter (where handed_off_at is not null)::numeric / count(*), 4) from public.conversations
		where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' and started_at >= now() - interval '7 days'),
	'handoff rate: handed off / started');
select is((select count(*)::int from public.search_conversations('a1a1a1a1-0000-4000-8000-0000000000a1', now() - interval '11 days', now(), 'order 35')),
	1, 'search: full text over messages finds the one conversation');
select is((select total_count from public.search_conversations('a1a1a1a1-0000-4000-8000-0000000000a1', now() - interval '11 days', now(),
	p_status => 'handed_off', p_channel => 'whatsapp', p_limit => 5) limit 1),
	(select count(*) from public.conversations where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' and status = 'handed_off' and channel = 'whatsapp' and started_at >= now() - interval '11 days'),
	'search: status and channel filters, with the total for paging');

-- Regression (22004 "cannot accumulate null arrays"): a period without a single segment once
-- fed a null histogram to array_agg. An empty period must give zeros and null percentiles.
select results_eq(
	$$select period, messages, conversations, p95_response_ms from public.bot_summary('a1a1a1a1-0000-4000-8000-0000000000a1',
		now() - interval '11 days', now()) order by 1$$,
	$$values ('current', (select count(*) from public.messages where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' and sent_at >= now() - interval '11 days'),
		(select count(*) from public.conversations where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' and started_at >= now() - interval '11 days'),
		(select private.latency_bucket_upper_ms(private.latency_bucket(percentile_disc(0.95) within group (order by response_time_ms)))
			from public.messages where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' and sent_at >= now() - interval '11 days')),
		('previous', 0::bigint, 0::bigint, null::numeric)$$,
	'summary: a previous period without any data gives zeros and no percentile, beside a full current period');
select results_eq(
	$$select period, messages, p50_response_ms from public.bot_summary('a1a1a1a1-0000-4000-8000-0000000000a1',
		now() - interval '400 days', now() - interval '300 days') order by 1$$,
	$$values ('current', 0::bigint, null::numeric), ('previous', 0::bigint, null::numeric)$$,
	'summary: a range with no data in either period gives zeros, not an error');
select lives_ok($$select * from public.bot_summary('a1a1a1a1-0000-4000-8000-0000000000a1', now() - interval '500 days', now())$$,
	'summary: a 500-day range is accepted although both periods together span 1,000 days');

-- A range that starts 10 minutes into an hour the rollup has done: that partial hour is read as
-- the hour's last three quarters plus the raw minutes 10 to 15, and must still equal the raw
-- rows, in both periods.
create temp table sub_range as
select date_trunc('hour', now() - interval '3 days', 'UTC') + interval '10 minutes' f, now() t;
grant select on sub_range to authenticated;
create function pg_temp.sub_range_truth() returns table (period text, messages bigint, cost numeric,
	tokens_in bigint, p95 numeric) language sql as $$
	select p.period, count(m.id), coalesce(sum(m.cost_usd), 0), coalesce(sum(m.tokens_in), 0)::bigint,
		private.latency_bucket_upper_ms(private.latency_bucket(percentile_disc(0.95) within group (order by m.response_time_ms)))
	from sub_range r
	cross join lateral (values ('current', r.f, r.t), ('previous', r.f - (r.t - r.f), r.f)) p(period, f, t)
	left join public.messages m on m.bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' and m.sent_at >= p.f and m.sent_at < p.t
	group by p.period order by 1
$$;
select is(private.clean_rolled_up_hours('a1a1a1a1-0000-4000-8000-0000000000a1', array[(select date_trunc('hour', f, 'UTC') from sub_range)]),
	array[(select date_trunc('hour', f, 'UTC') from sub_range)], 'the hour the range starts in is rolled up and clean: it is subtracted from');
select results_eq(
	$$select s.period, s.messages, s.cost_usd, s.tokens_in, s.p95_response_ms
		from sub_range r, public.bot_summary('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t) s order by 1$$,
	$$select * from pg_temp.sub_range_truth()$$,
	'summary starting inside a rolled-up hour (the hour minus its first minutes): both periods match the raw rows');
select is(
	(select s.messages from sub_range r, public.bot_usage_series('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.f + interval '2 days', 'hour') s
		where s.bucket_start = date_trunc('hour', r.f, 'UTC')),
	(select count(*) from sub_range r join public.messages m on m.bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1'
		and m.sent_at >= r.f and m.sent_at < date_trunc('hour', r.f, 'UTC') + interval '1 hour'),
	'hourly chart: the first, partial bucket counts only its own minutes');
select is(private.clean_rolled_up_hours('a1a1a1a1-0000-4000-8000-0000000000a1', array[date_trunc('hour', now() - interval '100 days', 'UTC')]),
	'{}'::timestamptz[], 'an hour retention may have thinned (older than the 90 retention days) is never subtracted from');
-- A late message in those first minutes marks the hour dirty: its row no longer matches the raw
-- rows, so the partial hour is read raw again until the next rollup.
select pg_temp.logout();
insert into public.messages (bot_id, conversation_id, external_id, role, sent_at, response_time_ms, success, cost_usd, tokens_in)
select bot_id, id, 'fx-late', 'bot', (select f from sub_range) - interval '5 minutes', 90000, true, 0.5, 1000
from public.conversations where external_id = 'fx-traffic-1';
select pg_temp.login('aaaaaaaa-0000-4000-8000-000000000003');
select is(private.clean_rolled_up_hours('a1a1a1a1-0000-4000-8000-0000000000a1', array[(select date_trunc('hour', f, 'UTC') from sub_range)]),
	'{}'::timestamptz[], 'a late message marks its hour dirty');
select results_eq(
	$$select s.period, s.messages, s.cost_usd, s.tokens_in, s.p95_response_ms
		from sub_range r, public.bot_summary('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t) s order by 1$$,
	$$select * from pg_temp.sub_range_truth()$$,
	'summary starting inside a dirty hour: read raw, both periods (the late message in the previous one) match the raw rows');

select pg_temp.logout();
-- First the rollups fold in the late message above (its hour and day are marked for them), and
-- a message every minute of one hour two days ago (30 seconds past), so that every quarter of
-- it and every minute between an edge and its nearest quarter holds one.
insert into public.messages (bot_id, conversation_id, external_id, role, sent_at, response_time_ms, success, cost_usd, tokens_in)
select bot_id, id, 'fx-minute-' || k, 'bot', date_trunc('hour', now() - interval '2 days', 'UTC') + k * interval '1 minute'
	+ interval '30 seconds', 100 + k * 50, k % 9 <> 0, 0.001 * k, k
from public.conversations, generate_series(0, 59) k where external_id = 'fx-traffic-1';
select private.run_hourly_rollup(), private.run_daily_rollup();

-- Edges inside that hour (H): each end is read as the quarters up to its nearest quarter
-- boundary plus or minus the raw minutes between; both periods must equal the raw rows, and the
-- card the sum of the hourly chart.
create temp table edges as
select h, h + a * interval '1 minute' f, h + b * interval '1 minute' t
from (select date_trunc('hour', now() - interval '2 days', 'UTC') h) x,
	(values (7, 38), (10, 52), (22, 23), (44, 46), (0, 59), (8, 24 * 60 + 37)) o(a, b);
grant select on edges to authenticated;
create function pg_temp.truth(p_f timestamptz, p_t timestamptz) returns table (period text, messages bigint, cost numeric,
	tokens_in bigint, p95 numeric) language sql as $$
	select p.period, count(m.id), coalesce(sum(m.cost_usd), 0), coalesce(sum(m.tokens_in), 0)::bigint,
		private.latency_bucket_upper_ms(private.latency_bucket(percentile_disc(0.95) within group (order by m.response_time_ms)))
	from (values ('current', p_f, p_t), ('previous', p_f - (p_t - p_f), p_f)) p(period, f, t)
	left join public.messages m on m.bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' and m.sent_at >= p.f and m.sent_at < p.t
	group by p.period
$$;
select pg_temp.login('aaaaaaaa-0000-4000-8000-000000000003');
select is(private.clean_rolled_up_hours('a1a1a1a1-0000-4000-8000-0000000000a1', array[(select h from edges limit 1)]),
	array[(select h from edges limit 1)], 'the hour of the edges is rolled up and clean: its quarters are used');
select set_eq(
	$$select e.f, e.t, s.period, s.messages, s.cost_usd, s.tokens_in, s.p95_response_ms
		from edges e, public.bot_summary('a1a1a1a1-0000-4000-8000-0000000000a1', e.f, e.t) s$$,
	$$select e.f, e.t, x.* from edges e, pg_temp.truth(e.f, e.t) x$$,
	'summary with edges at any minute of a rolled-up hour (quarters plus or minus raw minutes): both periods match the raw rows');
select set_eq(
	$$select e.f, e.t, (select sum(c.messages)::bigint from public.bot_usage_series('a1a1a1a1-0000-4000-8000-0000000000a1', e.f, e.t, 'hour') c)
		from edges e$$,
	$$select e.f, e.t, x.messages from edges e, pg_temp.truth(e.f, e.t) x where x.period = 'current'$$,
	'hourly chart with the same edges: its buckets add up to the raw rows');
-- Proof that the quarters are what the reads take: an extra thousand in each quarter of H shows
-- on the card three times for 7 to 38 past (the quarters from :00 to :45, less the raw :00 to
-- :07 and :38 to :45).
select pg_temp.logout();
update private.usage_quarters set messages = messages + 1000
where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' and quarter_start >= (select h from edges limit 1)
	and quarter_start < (select h from edges limit 1) + interval '1 hour';
select pg_temp.login('aaaaaaaa-0000-4000-8000-000000000003');
select is((select s.messages from edges e, public.bot_summary('a1a1a1a1-0000-4000-8000-0000000000a1', e.f, e.t) s
		where e.f = e.h + interval '7 minutes' and e.t = e.h + interval '38 minutes' and s.period = 'current'),
	(select x.messages + 3000 from edges e, pg_temp.truth(e.f, e.t) x
		where e.f = e.h + interval '7 minutes' and e.t = e.h + interval '38 minutes' and x.period = 'current'),
	'the summary takes 7 to 38 past from the quarters :00, :15 and :30, not from raw rows');
select pg_temp.logout();
update private.usage_quarters set messages = messages - 1000
where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' and quarter_start >= (select h from edges limit 1)
	and quarter_start < (select h from edges limit 1) + interval '1 hour';
select pg_temp.login('bbbbbbbb-0000-4000-8000-000000000001');
select is_empty($$select 1 from edges e, private.rolled_up_quarters('a1a1a1a1-0000-4000-8000-0000000000a1', array[e.h], array[e.h + interval '1 hour'])$$,
	'B''s owner reads none of A''s quarter rows');

-- The current hour's finished minutes come from the current-hour rollup. Here the hourly
-- rollup is an hour behind (its watermarks moved back), so the hour it is at holds traffic
-- whatever the time of day, and that hour's first 45 minutes are rolled up as the job does
-- at 47 past: a range ending now takes them from the row and the rest of the hour raw.
select pg_temp.logout();
create temp table cur as select date_trunc('hour', now(), 'UTC') - interval '1 hour' h;
grant select on cur to authenticated;
update private.rollup_state set watermark = (select h from cur) where name in ('hourly', 'daily');
select is((select private.run_current_hour_rollup(h + interval '47 minutes 30 seconds') ->> 'covered_to' from cur)::timestamptz,
	(select h + interval '45 minutes' from cur), 'the current-hour rollup at 47:30 past covers the hour''s first 45 minutes');
create function pg_temp.cur_truth() returns table (period text, messages bigint, cost numeric, tokens_in bigint, p95 numeric)
language sql as $$
	select p.period, count(m.id), coalesce(sum(m.cost_usd), 0), coalesce(sum(m.tokens_in), 0)::bigint,
		private.latency_bucket_upper_ms(private.latency_bucket(percentile_disc(0.95) within group (order by m.response_time_ms)))
	from ranges r
	cross join lateral (values ('current', r.f, r.t), ('previous', r.f - (r.t - r.f), r.f)) p(period, f, t)
	left join public.messages m on m.bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' and m.sent_at >= p.f and m.sent_at < p.t
	where r.label like '9 days%'
	group by p.period order by 1
$$;
select pg_temp.login('aaaaaaaa-0000-4000-8000-000000000003');
select is((select covered_to from cur, private.current_hour_usage('a1a1a1a1-0000-4000-8000-0000000000a1', cur.h)),
	(select h + interval '45 minutes' from cur), 'a member reads the bot''s current-hour row');
select results_eq(
	$$select s.period, s.messages, s.cost_usd, s.tokens_in, s.p95_response_ms
		from ranges r, public.bot_summary('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t) s where r.label like '9 days%' order by 1$$,
	$$select * from pg_temp.cur_truth()$$,
	'summary with the current hour''s first 45 minutes rolled up: both periods match the raw rows');
select is(
	(select s.messages from cur, public.bot_usage_series('a1a1a1a1-0000-4000-8000-0000000000a1', cur.h - interval '1 day', now(), 'hour') s
		where s.bucket_start = cur.h),
	(select count(*) from cur join public.messages m on m.bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1'
		and m.sent_at >= cur.h and m.sent_at < cur.h + interval '1 hour'),
	'hourly chart: the current hour''s bucket is its rolled-up minutes plus the raw rest');
-- Proof that the row is what the summary takes: an extra thousand in it shows on the card.
select pg_temp.logout();
update private.usage_current_hours set messages = messages + 1000 where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1';
select pg_temp.login('aaaaaaaa-0000-4000-8000-000000000003');
select is((select s.messages from ranges r, public.bot_summary('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t) s
		where r.label like '9 days%' and s.period = 'current'),
	(select messages + 1000 from pg_temp.cur_truth() where period = 'current'),
	'the summary takes the hour''s first 45 minutes from the current-hour row, not from raw rows');
select pg_temp.logout();
update private.usage_current_hours set messages = messages - 1000 where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1';
-- A message for those 45 minutes that arrives now, long after its minute ended, makes the row
-- stale: reads take the hour raw again, and the next run recomputes the row from the hour's start.
insert into public.messages (bot_id, conversation_id, external_id, role, sent_at, response_time_ms, success, cost_usd, tokens_in)
select bot_id, id, 'fx-late-current', 'bot', (select h + interval '10 minutes' from cur), 60000, true, 0.25, 500
from public.conversations where external_id = 'fx-traffic-1';
select pg_temp.login('aaaaaaaa-0000-4000-8000-000000000003');
select is_empty($$select 1 from cur, private.current_hour_usage('a1a1a1a1-0000-4000-8000-0000000000a1', cur.h)$$,
	'a late message marks the current-hour row stale');
select results_eq(
	$$select s.period, s.messages, s.cost_usd, s.tokens_in, s.p95_response_ms
		from ranges r, public.bot_summary('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t) s where r.label like '9 days%' order by 1$$,
	$$select * from pg_temp.cur_truth()$$,
	'summary with a stale current-hour row: read raw, both periods (the late message included) match the raw rows');
select pg_temp.logout();
select private.run_current_hour_rollup(h + interval '47 minutes 30 seconds') from cur;
select is((select u.messages::bigint from cur join private.usage_current_hours u on u.bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' and u.hour_start = cur.h),
	(select count(*) from cur join public.messages m on m.bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1'
		and m.sent_at >= cur.h and m.sent_at < cur.h + interval '45 minutes'),
	'the next run recomputes a stale row from the hour''s start, the late message included');
select pg_temp.login('bbbbbbbb-0000-4000-8000-000000000001');
select is_empty($$select 1 from cur, private.current_hour_usage('a1a1a1a1-0000-4000-8000-0000000000a1', cur.h)$$,
	'B''s owner reads nothing of A''s current-hour rollup');
select pg_temp.logout();
update private.rollup_state set watermark = date_trunc('hour', now(), 'UTC') where name in ('hourly', 'daily');

-- Errors say what to change.
select throws_ok($$select * from public.bot_summary('a1a1a1a1-0000-4000-8000-0000000000a1', now(), now() - interval '1 day')$$,
	'22023', null, 'an inverted range is refused');
select throws_ok($$select * from public.bot_usage_series('a1a1a1a1-0000-4000-8000-0000000000a1', now() - interval '1 day', now(), 'fortnight')$$,
	'22023', null, 'an unknown bucket is refused');

-- Other tenants and anonymous callers.
select pg_temp.login('bbbbbbbb-0000-4000-8000-000000000001');
select is((select messages from public.bot_summary('a1a1a1a1-0000-4000-8000-0000000000a1', now() - interval '9 days', now()) where period = 'current'),
	0::bigint, 'B''s owner gets zero from A''s bot summary');
select is_empty($$select 1 from public.bot_usage_series('a1a1a1a1-0000-4000-8000-0000000000a1', now() - interval '9 days', now()) where messages > 0$$,
	'B''s owner gets no chart for A''s bot');
select is(private.clean_rolled_up_hours('a1a1a1a1-0000-4000-8000-0000000000a1', array[date_trunc('hour', now() - interval '3 days', 'UTC')]),
	'{}'::timestamptz[], 'B''s owner learns nothing about A''s rollups');
select pg_temp.login_anon();
select throws_ok($$select * from public.bot_summary('a1a1a1a1-0000-4000-8000-0000000000a1', now() - interval '1 day', now())$$,
	'42501', null, 'anon cannot call the read API');
select pg_temp.logout();

-- ---------------------------------------------------------------- percentiles in one walk
-- Seven replies in buckets 1, 1, 5, 9, 9, 9, 20: rank ceil(p * 7) is the 4th (p50) or the 7th
-- (p95, p99); fractions in any order.
select is(private.histogram_percentiles(private.histogram_of(array[9, 1, 20, 9, 5, 1, 9]), array[0.99, 0.5, 0.95]),
	array[private.latency_bucket_upper_ms(20), private.latency_bucket_upper_ms(9), private.latency_bucket_upper_ms(20)]::numeric[],
	'percentiles of a histogram: each the upper bound of the bucket holding rank ceil(p * n), in the order asked');
select is(private.histogram_percentiles(private.histogram_of('{}'), array[0.5, 0.95]), array[null, null]::numeric[],
	'an empty histogram has no percentiles');

-- ---------------------------------------------------------------- merging histograms
-- Three histograms stacked by array_agg, as every read folds its segments: bucket by bucket,
-- the first and last buckets included; none at all is the empty histogram.
select is((select private.histogram_fold(array_agg(h order by i)) from (values
		(1, private.histogram_of(array[1, 9, 161])), (2, private.histogram_of(array[9, 9])),
		(3, private.histogram_of(array[161, 80]))) x(i, h)),
	private.histogram_of(array[1, 9, 9, 9, 80, 161, 161]),
	'histograms merge bucket by bucket, the first and the last included');
select is(private.histogram_fold(null), private.histogram_of('{}'), 'no histograms merge into an empty one');

select * from finish();
rollback;

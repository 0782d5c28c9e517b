-- Rollup windows: what one rollup run computes for a set of (bot, from, to) windows, hourly
-- (usage_analytics, usage_breakdowns, conversation_metrics) and daily
-- (bot_performance_metrics). The jobs that pick the windows are in the rollup jobs migration.

-- One run's work for a set of (bot, from, to) windows of whole UTC hours. The gap since the
-- watermark (p_gap_from .. p_gap_to, the same for every bot) is read by one time-range scan,
-- skipping p_skip_bots; the other windows by an index range each. Writes usage_analytics,
-- usage_breakdowns and conversation_metrics and marks the local days touched; no watermark.
create or replace function private.rollup_hour_windows(
	p_bots uuid[], p_from timestamptz[], p_to timestamptz[],
	p_gap_from timestamptz default null, p_gap_to timestamptz default null, p_skip_bots uuid[] default '{}'
)
returns jsonb
language plpgsql
set search_path = ''
set work_mem = '256MB'
-- Misestimated row counts make JIT compile (hundreds of ms) for statements that run in less.
set jit = off
as $$
declare
	v_bots uuid[] := p_bots;
	v_from timestamptz[] := p_from;
	v_to timestamptz[] := p_to;
	v_rows integer := 0;
	v_n integer;
	v_phases jsonb := '{}';
	v_t timestamptz;
begin
	-- One scan of the raw rows in the windows; every table below is aggregated from it. The
	-- expressions mirror private.aggregate_raw / aggregate_raw_breakdowns (the live path), and
	-- the pgTAP suite checks both against a from-scratch aggregation.
	v_t := clock_timestamp();
	-- A second run in the same transaction (tests do that) replaces the first run's rows.
	if to_regclass('pg_temp.rollup_rows') is not null then
		drop table pg_temp.rollup_rows;
	end if;
	create temporary table rollup_rows on commit drop as
	select m.bot_id, date_trunc('hour', m.sent_at, 'UTC') h, m.conversation_id, m.sent_at, m.role, m.success,
		m.response_time_ms rt,
		case when m.role = 'bot' and m.response_time_ms is not null
			then least(161, 1 + floor(8 * ln(greatest(m.response_time_ms, 1)::float8) / ln(2::float8))::integer) end lb,
		m.tokens_in, m.tokens_out, m.cost_usd, c.channel, c.end_user_id,
		coalesce(m.intent, 'unknown') intent, coalesce(m.model, 'unknown') model
	from (
		-- The gap since the watermark is the same for every bot: one time-range scan (BRIN), as
		-- cheap as a plain scan, instead of a probe per bot that ends in a full-table scan.
		select m.* from public.messages m
		where p_gap_from is not null and m.sent_at >= p_gap_from and m.sent_at < p_gap_to
			and not (m.bot_id = any (p_skip_bots))
		union all
		-- Other windows (dirty hours before the gap, or everything for one bot): an index range each.
		select m.* from unnest(v_bots, v_from, v_to) w(bot_id, from_at, to_at)
		cross join lateral (
			select * from public.messages m
			where m.bot_id = w.bot_id and m.sent_at >= w.from_at and m.sent_at < w.to_at
		) m
		where p_gap_from is null or w.to_at <= p_gap_from or w.from_at >= p_gap_to
	) m
	join public.conversations c on c.id = m.conversation_id;
	analyze pg_temp.rollup_rows;
	v_phases := v_phases || jsonb_build_object('scan_ms', round(extract(epoch from clock_timestamp() - v_t)::numeric * 1000));

	v_t := clock_timestamp();
	with totals as (
		select r.bot_id, r.h,
			count(*) messages,
			count(*) filter (where r.role = 'user') user_messages,
			count(*) filter (where r.role = 'bot') bot_messages,
			coalesce(sum(r.tokens_in), 0) tokens_in, coalesce(sum(r.tokens_out), 0) tokens_out,
			coalesce(sum(r.cost_usd), 0) cost_usd,
			count(*) filter (where r.role = 'bot' and r.success is not null) replies,
			count(*) filter (where r.role = 'bot' and r.success = false) failed_replies,
			count(*) filter (where r.role = 'bot' and r.rt is not null) response_time_count,
			coalesce(sum(r.rt) filter (where r.role = 'bot'), 0) response_time_sum_ms
		from pg_temp.rollup_rows r group by 1, 2
	),
	hist as (
		select x.bot_id, x.h, private.histogram_from_pairs(array_agg(x.lb), array_agg(x.n)) latency_histogram
		from (select r.bot_id, r.h, r.lb, count(*) n from pg_temp.rollup_rows r where r.lb is not null group by 1, 2, 3) x
		group by 1, 2
	),
	-- One pass for both distinct counts: a conversation has one end user, so the users of an
	-- hour are found among its (far fewer) conversations.
	bc as materialized (
		select distinct r.bot_id, r.h, r.conversation_id, r.end_user_id from pg_temp.rollup_rows r
	),
	active as (
		select bc.bot_id, bc.h, count(*) n from bc group by 1, 2
	),
	users as (
		select x.bot_id, x.h, count(*) n
		from (select distinct bc.bot_id, bc.h, bc.end_user_id from bc where bc.end_user_id is not null) x
		group by 1, 2
	),
	e as (
		select w.bot_id, date_trunc('hour', c.started_at, 'UTC') h, 'started' kind
		from unnest(v_bots, v_from, v_to) w(bot_id, from_at, to_at)
		cross join lateral (select c.started_at from public.conversations c
			where c.bot_id = w.bot_id and c.started_at >= w.from_at and c.started_at < w.to_at) c
		union all
		select w.bot_id, date_trunc('hour', c.ended_at, 'UTC'), c.status
		from unnest(v_bots, v_from, v_to) w(bot_id, from_at, to_at)
		cross join lateral (select c.ended_at, c.status from public.conversations c
			where c.bot_id = w.bot_id and c.ended_at >= w.from_at and c.ended_at < w.to_at
				and c.status in ('completed', 'abandoned')) c
		union all
		select w.bot_id, date_trunc('hour', c.handed_off_at, 'UTC'), 'handed_off'
		from unnest(v_bots, v_from, v_to) w(bot_id, from_at, to_at)
		cross join lateral (select c.handed_off_at from public.conversations c
			where c.bot_id = w.bot_id and c.handed_off_at >= w.from_at and c.handed_off_at < w.to_at) c
	),
	ce as (
		select e.bot_id, e.h,
			count(*) filter (where kind = 'started') started,
			count(*) filter (where kind = 'completed') resolved,
			count(*) filter (where kind = 'abandoned') abandoned,
			count(*) filter (where kind = 'handed_off') handed_off
		from e group by 1, 2
	),
	agg as (
		select coalesce(t.bot_id, ce.bot_id) bot_id, coalesce(t.h, ce.h) bucket_start,
			coalesce(t.messages, 0) messages, coalesce(t.user_messages, 0) user_messages,
			coalesce(t.bot_messages, 0) bot_messages, coalesce(ce.started, 0) conversations_started,
			coalesce(ce.resolved, 0) conversations_resolved, coalesce(ce.abandoned, 0) conversations_abandoned,
			coalesce(ce.handed_off, 0) conversations_handed_off, coalesce(a.n, 0) conversations_active,
			coalesce(u.n, 0) active_end_users, coalesce(t.tokens_in, 0) tokens_in, coalesce(t.tokens_out, 0) tokens_out,
			coalesce(t.cost_usd, 0) cost_usd, coalesce(t.replies, 0) replies, coalesce(t.failed_replies, 0) failed_replies,
			coalesce(t.response_time_count, 0) response_time_count, coalesce(t.response_time_sum_ms, 0) response_time_sum_ms,
			coalesce(hi.latency_histogram, private.histogram_of('{}')) latency_histogram
		from totals t
		left join hist hi on hi.bot_id = t.bot_id and hi.h = t.h
		left join active a on a.bot_id = t.bot_id and a.h = t.h
		left join users u on u.bot_id = t.bot_id and u.h = t.h
		full join ce on ce.bot_id = t.bot_id and ce.h = t.h
	),
	up as (
		insert into public.usage_analytics as t (bot_id, hour_start, messages, user_messages, bot_messages,
			conversations_started, conversations_resolved, conversations_abandoned, conversations_handed_off,
			conversations_active, active_end_users, tokens_in, tokens_out, cost_usd, replies, failed_replies,
			response_time_count, response_time_sum_ms, latency_histogram, rolled_up_at)
		select bot_id, bucket_start, messages, user_messages, bot_messages, conversations_started,
			conversations_resolved, conversations_abandoned, conversations_handed_off, conversations_active,
			active_end_users, tokens_in, tokens_out, cost_usd, replies, failed_replies, response_time_count,
			response_time_sum_ms, latency_histogram, now()
		from agg
		on conflict (bot_id, hour_start) do update set
			messages = excluded.messages, user_messages = excluded.user_messages,
			bot_messages = excluded.bot_messages, conversations_started = excluded.conversations_started,
			conversations_resolved = excluded.conversations_resolved,
			conversations_abandoned = excluded.conversations_abandoned,
			conversations_handed_off = excluded.conversations_handed_off,
			conversations_active = excluded.conversations_active, active_end_users = excluded.active_end_users,
			tokens_in = excluded.tokens_in, tokens_out = excluded.tokens_out, cost_usd = excluded.cost_usd,
			replies = excluded.replies, failed_replies = excluded.failed_replies,
			response_time_count = excluded.response_time_count,
			response_time_sum_ms = excluded.response_time_sum_ms,
			latency_histogram = excluded.latency_histogram, rolled_up_at = excluded.rolled_up_at
		where (t.messages, t.user_messages, t.bot_messages, t.conversations_started, t.conversations_resolved,
				t.conversations_abandoned, t.conversations_handed_off, t.conversations_active, t.active_end_users,
				t.tokens_in, t.tokens_out, t.cost_usd, t.replies, t.failed_replies, t.response_time_count,
				t.response_time_sum_ms, t.latency_histogram)
			is distinct from (excluded.messages, excluded.user_messages, excluded.bot_messages,
				excluded.conversations_started, excluded.conversations_resolved, excluded.conversations_abandoned,
				excluded.conversations_handed_off, excluded.conversations_active, excluded.active_end_users,
				excluded.tokens_in, excluded.tokens_out, excluded.cost_usd, excluded.replies,
				excluded.failed_replies, excluded.response_time_count, excluded.response_time_sum_ms,
				excluded.latency_histogram)
		returning t.bot_id, t.hour_start
	),
	days as (
		-- The local day(s) an hour touches (two in zones with a half-hour offset).
		insert into private.rollup_dirty_days (bot_id, day_start, day_end)
		select distinct a.bot_id, d.day_start, private.local_day_end(d.day_start, b.timezone)
		from agg a
		join public.bots b on b.id = a.bot_id
		cross join lateral (values (date_trunc('day', a.bucket_start, b.timezone)),
			(date_trunc('day', a.bucket_start + interval '59 minutes 59.999999 seconds', b.timezone))) d(day_start)
		on conflict do nothing
		returning 1
	)
	select (select count(*) from up) into v_rows;
	v_phases := v_phases || jsonb_build_object('usage_ms', round(extract(epoch from clock_timestamp() - v_t)::numeric * 1000));
	v_t := clock_timestamp();

	-- Grouped by latency bucket too, then folded: a histogram from (bucket, count) pairs costs a
	-- loop over at most 161 pairs per group instead of one over every reply.
	with g as (
		select r.bot_id, r.h, r.lb,
			case grouping(r.channel, r.intent, r.model) when 3 then 'channel' when 5 then 'intent' else 'model' end dimension,
			case grouping(r.channel, r.intent, r.model) when 3 then r.channel when 5 then r.intent else r.model end value,
			count(*) messages,
			count(*) filter (where r.role = 'bot' and r.success is not null) replies,
			count(*) filter (where r.role = 'bot' and r.success = false) failed_replies,
			coalesce(sum(r.tokens_in), 0) tokens_in, coalesce(sum(r.tokens_out), 0) tokens_out,
			coalesce(sum(r.cost_usd), 0) cost_usd,
			count(*) filter (where r.role = 'bot' and r.rt is not null) response_time_count,
			coalesce(sum(r.rt) filter (where r.role = 'bot'), 0) response_time_sum_ms
		from pg_temp.rollup_rows r
		group by grouping sets ((r.bot_id, r.h, r.lb, r.channel), (r.bot_id, r.h, r.lb, r.intent),
			(r.bot_id, r.h, r.lb, r.model))
	),
	agg as (
		select g.bot_id, g.h hour_start, g.dimension, g.value, sum(g.messages) messages,
			sum(g.replies) replies, sum(g.failed_replies) failed_replies, sum(g.tokens_in) tokens_in,
			sum(g.tokens_out) tokens_out, sum(g.cost_usd) cost_usd,
			sum(g.response_time_count) response_time_count, sum(g.response_time_sum_ms) response_time_sum_ms,
			private.histogram_from_pairs(array_agg(g.lb) filter (where g.lb is not null),
				array_agg(g.messages) filter (where g.lb is not null)) latency_histogram
		from g
		group by 1, 2, 3, 4
	),
	up as (
		insert into public.usage_breakdowns as t (bot_id, hour_start, dimension, value, messages, replies,
			failed_replies, tokens_in, tokens_out, cost_usd, response_time_count, response_time_sum_ms,
			latency_histogram, rolled_up_at)
		select bot_id, hour_start, dimension, value, messages, replies, failed_replies, tokens_in, tokens_out,
			cost_usd, response_time_count, response_time_sum_ms, latency_histogram, now()
		from agg
		on conflict (bot_id, hour_start, dimension, value) do update set
			messages = excluded.messages, replies = excluded.replies, failed_replies = excluded.failed_replies,
			tokens_in = excluded.tokens_in, tokens_out = excluded.tokens_out, cost_usd = excluded.cost_usd,
			response_time_count = excluded.response_time_count,
			response_time_sum_ms = excluded.response_time_sum_ms,
			latency_histogram = excluded.latency_histogram, rolled_up_at = excluded.rolled_up_at
		where (t.messages, t.replies, t.failed_replies, t.tokens_in, t.tokens_out, t.cost_usd,
				t.response_time_count, t.response_time_sum_ms, t.latency_histogram)
			is distinct from (excluded.messages, excluded.replies, excluded.failed_replies, excluded.tokens_in,
				excluded.tokens_out, excluded.cost_usd, excluded.response_time_count,
				excluded.response_time_sum_ms, excluded.latency_histogram)
		returning 1
	)
	select v_rows + count(*) into v_rows from up;
	v_phases := v_phases || jsonb_build_object('breakdowns_ms', round(extract(epoch from clock_timestamp() - v_t)::numeric * 1000));
	v_t := clock_timestamp();

	v_n := private.refresh_conversation_metrics(v_bots, v_from, v_to);
	v_rows := v_rows + coalesce(v_n, 0);
	v_phases := v_phases || jsonb_build_object('conversations_ms', round(extract(epoch from clock_timestamp() - v_t)::numeric * 1000));
	return jsonb_build_object('rows', v_rows) || v_phases;
end
$$;
comment on function private.rollup_hour_windows(uuid[], timestamptz[], timestamptz[], timestamptz, timestamptz, uuid[]) is
	'Recomputes usage_analytics, usage_breakdowns and conversation_metrics for (bot, from, to) windows of whole UTC hours (the gap scanned by time, skipping p_skip_bots); marks touched local days.';

-- One run's work for a set of (bot, local day start, local day end) windows.
create or replace function private.rollup_day_windows(p_bots uuid[], p_from timestamptz[], p_to timestamptz[])
returns integer
language plpgsql
set search_path = ''
set work_mem = '256MB'
set jit = off
as $$
declare
	v_bots uuid[] := p_bots;
	v_from timestamptz[] := p_from;
	v_to timestamptz[] := p_to;
	v_rows integer;
begin
	with agg as (
		select a.*, w.to_at from private.aggregate_raw(v_bots, v_from, v_to, 'day') a
		join unnest(v_bots, v_from, v_to) w(bot_id, from_at, to_at)
			on w.bot_id = a.bot_id and w.from_at = a.bucket_start
	),
	up as (
		insert into public.bot_performance_metrics as t (bot_id, day, day_start, day_end, messages,
			user_messages, bot_messages, conversations_started, conversations_resolved,
			conversations_abandoned, conversations_handed_off, conversations_active, unique_end_users,
			tokens_in, tokens_out, cost_usd, replies, failed_replies, response_time_count,
			response_time_sum_ms, latency_histogram, rolled_up_at)
		select a.bot_id, (a.bucket_start at time zone b.timezone)::date, a.bucket_start, a.to_at,
			messages, user_messages, bot_messages, conversations_started, conversations_resolved,
			conversations_abandoned, conversations_handed_off, conversations_active, active_end_users,
			tokens_in, tokens_out, cost_usd, replies, failed_replies, response_time_count,
			response_time_sum_ms, latency_histogram, now()
		from agg a join public.bots b on b.id = a.bot_id
		on conflict (bot_id, day) do update set
			day_start = excluded.day_start, day_end = excluded.day_end, messages = excluded.messages,
			user_messages = excluded.user_messages, bot_messages = excluded.bot_messages,
			conversations_started = excluded.conversations_started,
			conversations_resolved = excluded.conversations_resolved,
			conversations_abandoned = excluded.conversations_abandoned,
			conversations_handed_off = excluded.conversations_handed_off,
			conversations_active = excluded.conversations_active, unique_end_users = excluded.unique_end_users,
			tokens_in = excluded.tokens_in, tokens_out = excluded.tokens_out, cost_usd = excluded.cost_usd,
			replies = excluded.replies, failed_replies = excluded.failed_replies,
			response_time_count = excluded.response_time_count,
			response_time_sum_ms = excluded.response_time_sum_ms,
			latency_histogram = excluded.latency_histogram, rolled_up_at = excluded.rolled_up_at
		where (t.day_start, t.day_end, t.messages, t.user_messages, t.bot_messages, t.conversations_started,
				t.conversations_resolved, t.conversations_abandoned, t.conversations_handed_off,
				t.conversations_active, t.unique_end_users, t.tokens_in, t.tokens_out, t.cost_usd, t.replies,
				t.failed_replies, t.response_time_count, t.response_time_sum_ms, t.latency_histogram)
			is distinct from (excluded.day_start, excluded.day_end, excluded.messages, excluded.user_messages,
				excluded.bot_messages, excluded.conversations_started, excluded.conversations_resolved,
				excluded.conversations_abandoned, excluded.conversations_handed_off,
				excluded.conversations_active, excluded.unique_end_users, excluded.tokens_in,
				excluded.tokens_out, excluded.cost_usd, excluded.replies, excluded.failed_replies,
				excluded.response_time_count, excluded.response_time_sum_ms, excluded.latency_histogram)
		returning 1
	)
	select count(*) into v_rows from up;
	return v_rows;
end
$$;
comment on function private.rollup_day_windows(uuid[], timestamptz[], timestamptz[]) is
	'Recomputes bot_performance_metrics for (bot, local day start, local day end) windows.';

revoke execute on function private.rollup_hour_windows(uuid[], timestamptz[], timestamptz[], timestamptz, timestamptz, uuid[]),
	private.rollup_day_windows(uuid[], timestamptz[], timestamptz[])
	from public, anon, authenticated;

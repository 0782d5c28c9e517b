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
	-- Usage and breakdowns come from the one aggregation the daily job, the live tail and the
	-- tests also use (private.aggregate_raw / aggregate_raw_breakdowns), which read the gap
	-- since the watermark by one time-range scan (BRIN) and other windows by an index range each.
	-- Usage is aggregated by quarter hour, once: the quarters are kept for reads whose range
	-- starts or ends inside an hour, and the hours are their sums (the distinct counts come
	-- whole for the hour on each of its quarters).
	v_t := clock_timestamp();
	perform private.lock_bots_for_rollup(v_bots);
	with q as materialized (
		select * from private.aggregate_raw(v_bots, v_from, v_to, 'quarter', true, p_gap_from, p_gap_to, p_skip_bots)
	),
	agg as (
		select q.bot_id, date_trunc('hour', q.bucket_start, 'UTC') bucket_start, sum(q.messages)::bigint messages,
			sum(q.user_messages)::bigint user_messages, sum(q.bot_messages)::bigint bot_messages,
			sum(q.conversations_started)::bigint conversations_started,
			sum(q.conversations_resolved)::bigint conversations_resolved,
			sum(q.conversations_abandoned)::bigint conversations_abandoned,
			sum(q.conversations_handed_off)::bigint conversations_handed_off,
			max(q.conversations_active) conversations_active, max(q.active_end_users) active_end_users,
			sum(q.tokens_in)::bigint tokens_in, sum(q.tokens_out)::bigint tokens_out, sum(q.cost_usd) cost_usd,
			sum(q.replies)::bigint replies, sum(q.failed_replies)::bigint failed_replies,
			sum(q.response_time_count)::bigint response_time_count,
			sum(q.response_time_sum_ms)::bigint response_time_sum_ms,
			private.histogram_fold(array_agg(q.latency_histogram)) latency_histogram
		from q group by 1, 2
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
	-- An hour left with no rows at all (an owner deleted its conversations) keeps no row. Only
	-- hours a window recomputes: retention deletes raw rows and keeps their rollups on purpose.
	-- Found by an index range per window and deleted by row address: a join would scan the
	-- whole table.
	gone as (
		delete from public.usage_analytics t
		using (
			select u.ctid row_id
			from unnest(v_bots, v_from, v_to) w(bot_id, from_at, to_at)
			cross join lateral (select u.ctid, u.bot_id, u.hour_start from public.usage_analytics u
				where u.bot_id = w.bot_id and u.hour_start >= w.from_at and u.hour_start < w.to_at offset 0) u
			where not exists (select 1 from agg a where a.bot_id = u.bot_id and a.bucket_start = u.hour_start)
		) x
		where t.ctid = x.row_id
		returning t.bot_id, t.hour_start
	),
	-- The quarters, written and deleted the same way (a data-modifying WITH runs whether read or not).
	quarters as (
		insert into private.usage_quarters as t (bot_id, quarter_start, messages, user_messages, bot_messages,
			conversations_started, conversations_resolved, conversations_abandoned, conversations_handed_off,
			tokens_in, tokens_out, cost_usd, replies, failed_replies, response_time_count, response_time_sum_ms,
			latency_histogram)
		select bot_id, bucket_start, messages, user_messages, bot_messages, conversations_started,
			conversations_resolved, conversations_abandoned, conversations_handed_off, tokens_in, tokens_out,
			cost_usd, replies, failed_replies, response_time_count, response_time_sum_ms, latency_histogram
		from q
		on conflict (bot_id, quarter_start) do update set
			messages = excluded.messages, user_messages = excluded.user_messages,
			bot_messages = excluded.bot_messages, conversations_started = excluded.conversations_started,
			conversations_resolved = excluded.conversations_resolved,
			conversations_abandoned = excluded.conversations_abandoned,
			conversations_handed_off = excluded.conversations_handed_off,
			tokens_in = excluded.tokens_in, tokens_out = excluded.tokens_out, cost_usd = excluded.cost_usd,
			replies = excluded.replies, failed_replies = excluded.failed_replies,
			response_time_count = excluded.response_time_count,
			response_time_sum_ms = excluded.response_time_sum_ms, latency_histogram = excluded.latency_histogram
		where (t.messages, t.user_messages, t.bot_messages, t.conversations_started, t.conversations_resolved,
				t.conversations_abandoned, t.conversations_handed_off, t.tokens_in, t.tokens_out, t.cost_usd,
				t.replies, t.failed_replies, t.response_time_count, t.response_time_sum_ms, t.latency_histogram)
			is distinct from (excluded.messages, excluded.user_messages, excluded.bot_messages,
				excluded.conversations_started, excluded.conversations_resolved, excluded.conversations_abandoned,
				excluded.conversations_handed_off, excluded.tokens_in, excluded.tokens_out, excluded.cost_usd,
				excluded.replies, excluded.failed_replies, excluded.response_time_count,
				excluded.response_time_sum_ms, excluded.latency_histogram)
	),
	quarters_gone as (
		delete from private.usage_quarters t
		using (
			select u.ctid row_id
			from unnest(v_bots, v_from, v_to) w(bot_id, from_at, to_at)
			cross join lateral (select u.ctid, u.bot_id, u.quarter_start from private.usage_quarters u
				where u.bot_id = w.bot_id and u.quarter_start >= w.from_at and u.quarter_start < w.to_at offset 0) u
			where not exists (select 1 from q where q.bot_id = u.bot_id and q.bucket_start = u.quarter_start)
		) x
		where t.ctid = x.row_id
	),
	days as (
		-- The local day(s) an hour touches (two in zones with a half-hour offset).
		insert into private.rollup_dirty_days (bot_id, day_start, day_end)
		select distinct a.bot_id, d.day_start, private.local_day_end(d.day_start, b.timezone)
		from (select agg.bot_id, agg.bucket_start from agg union all select gone.bot_id, gone.hour_start from gone) a
		join public.bots b on b.id = a.bot_id
		cross join lateral (values (date_trunc('day', a.bucket_start, b.timezone)),
			(date_trunc('day', a.bucket_start + interval '59 minutes 59.999999 seconds', b.timezone))) d(day_start)
		on conflict do nothing
		returning 1
	)
	select (select count(*) from up) + (select count(*) from gone) into v_rows;
	v_phases := v_phases || jsonb_build_object('usage_ms', round(extract(epoch from clock_timestamp() - v_t)::numeric * 1000));
	v_t := clock_timestamp();

	with agg as (
		select * from private.aggregate_raw_breakdowns(v_bots, v_from, v_to, p_gap_from, p_gap_to, p_skip_bots)
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
	),
	-- A value no message of the hour has any more (see usage_analytics above).
	gone as (
		delete from public.usage_breakdowns t
		using (
			select u.ctid row_id
			from unnest(v_bots, v_from, v_to) w(bot_id, from_at, to_at)
			cross join lateral (select u.ctid, u.bot_id, u.hour_start, u.dimension, u.value from public.usage_breakdowns u
				where u.bot_id = w.bot_id and u.hour_start >= w.from_at and u.hour_start < w.to_at offset 0) u
			where not exists (select 1 from agg a where a.bot_id = u.bot_id and a.hour_start = u.hour_start
				and a.dimension = u.dimension and a.value = u.value)
		) x
		where t.ctid = x.row_id
		returning 1
	)
	select v_rows + (select count(*) from up) + (select count(*) from gone) into v_rows;
	v_phases := v_phases || jsonb_build_object('breakdowns_ms', round(extract(epoch from clock_timestamp() - v_t)::numeric * 1000));
	v_t := clock_timestamp();

	-- The windows' messages, once, for the per-conversation recomputation.
	-- A second run in the same transaction (tests do that) replaces the first run's rows.
	if to_regclass('pg_temp.rollup_rows') is not null then
		drop table pg_temp.rollup_rows;
	end if;
	create temporary table rollup_rows on commit drop as
	select m.bot_id, m.conversation_id, m.sent_at, m.role, m.success, m.response_time_ms rt,
		m.tokens_in, m.tokens_out, m.cost_usd
	from public.messages m
	where p_gap_from is not null and m.sent_at >= p_gap_from and m.sent_at < p_gap_to
		and not (m.bot_id = any (p_skip_bots))
	union all
	select m.bot_id, m.conversation_id, m.sent_at, m.role, m.success, m.response_time_ms, m.tokens_in,
		m.tokens_out, m.cost_usd
	from unnest(v_bots, v_from, v_to) w(bot_id, from_at, to_at)
	cross join lateral (
		select * from public.messages m
		where m.bot_id = w.bot_id and m.sent_at >= w.from_at and m.sent_at < w.to_at
		-- offset 0: an index range per window. Flattened, many windows (a rollup's dirty
		-- hours, every bot's current hour) got a hash join over the whole table.
		offset 0
	) m
	where p_gap_from is null or w.to_at <= p_gap_from or w.from_at >= p_gap_to;
	analyze pg_temp.rollup_rows;
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
	perform private.lock_bots_for_rollup(v_bots);
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
	),
	-- A day left with no rows at all (see private.rollup_hour_windows) keeps no row.
	gone as (
		delete from public.bot_performance_metrics t
		using (
			select d.ctid row_id
			from unnest(v_bots, v_from, v_to) w(bot_id, from_at, to_at)
			-- The local date lies within a day of the UTC one: the primary key finds the row.
			cross join lateral (select d.ctid from public.bot_performance_metrics d
				where d.bot_id = w.bot_id and d.day between (w.from_at at time zone 'UTC')::date - 1
					and (w.from_at at time zone 'UTC')::date + 1 and d.day_start = w.from_at offset 0) d
			where not exists (select 1 from agg a where a.bot_id = w.bot_id and a.bucket_start = w.from_at)
		) x
		where t.ctid = x.row_id
		returning 1
	)
	select (select count(*) from up) + (select count(*) from gone) into v_rows;
	return v_rows;
end
$$;
comment on function private.rollup_day_windows(uuid[], timestamptz[], timestamptz[]) is
	'Recomputes bot_performance_metrics for (bot, local day start, local day end) windows.';

revoke execute on function private.rollup_hour_windows(uuid[], timestamptz[], timestamptz[], timestamptz, timestamptz, uuid[]),
	private.rollup_day_windows(uuid[], timestamptz[], timestamptz[])
	from public, anon, authenticated;

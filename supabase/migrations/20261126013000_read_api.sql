-- Read API for the dashboard and the CSV export: SQL functions called with `.rpc()`, all
-- `security invoker` (the caller's RLS decides what they see) with `search_path = ''`.
--
-- One source feeds every figure: private.usage_segments() splits a range into complete local
-- days (bot_performance_metrics), complete UTC hours (usage_analytics), quarter hours of
-- rolled-up hours at the edges (private.usage_quarters), the current hour's finished part
-- (private.usage_current_hours) and the rest read live from raw rows (the minutes between an
-- edge and its nearest quarter, and those after the rolled-up ones). Cards, charts and the
-- daily export all add up the same segments, so their totals agree exactly and the current
-- hour is live.
--
-- Signatures (for the export-csv Edge Function; pages by keyset so it streams in chunks):
--   export_conversations(p_bot_id uuid, p_from timestamptz, p_to timestamptz,
--     p_status text = null, p_channel text = null, p_query text = null,
--     p_after_started_at timestamptz = null, p_after_id uuid = null, p_limit integer = null)
--     -> conversations started in [p_from, p_to), ordered by (started_at, id)
--   export_messages(p_bot_id uuid, p_from timestamptz, p_to timestamptz,
--     p_conversation_id uuid = null, p_query text = null,
--     p_after_sent_at timestamptz = null, p_after_id bigint = null, p_limit integer = null)
--     -> messages sent in [p_from, p_to), ordered by (sent_at, id)
--   export_daily_metrics(p_bot_id uuid, p_from timestamptz, p_to timestamptz)
--     -> one row per local day of the bot touching [p_from, p_to)
-- Pass the last row's (started_at, id) or (sent_at, id) as p_after_* to get the next page.

-- =====================================================================================
-- Internals
-- =====================================================================================
create or replace function private.rollup_watermarks(out hourly timestamptz, out daily timestamptz)
language sql
stable
security definer
set search_path = ''
as $$
	select (select watermark from private.rollup_state where name = 'hourly'),
		(select watermark from private.rollup_state where name = 'daily')
$$;
comment on function private.rollup_watermarks() is
	'How far the hourly and daily rollups are complete (readers use raw rows beyond).';

create or replace function private.check_range(p_from timestamptz, p_to timestamptz)
returns void
language plpgsql
immutable
set search_path = ''
as $$
begin
	if p_from is null or p_to is null then
		raise exception 'Give both ends of the range (p_from and p_to)' using errcode = '22023';
	end if;
	if p_from >= p_to then
		raise exception 'The range is empty: p_from (%) must be before p_to (%)', p_from, p_to
			using errcode = '22023';
	end if;
	if p_to - p_from > interval '800 days' then
		raise exception 'The range is longer than 800 days: choose a shorter one' using errcode = '22023';
	end if;
end
$$;
comment on function private.check_range(timestamptz, timestamptz) is 'Refuses a missing, empty or over-long range with a message saying what to change.';

-- Which of a bot's rolled-up hours still match their raw rows: no late event or conversation
-- change has marked them dirty since, and retention has deleted none of their rows (the marks
-- are internal to the rollups; a reader learns only this, and only for bots it reads).
create or replace function private.clean_rolled_up_hours(p_bot_id uuid, p_hours timestamptz[])
returns timestamptz[]
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
	-- PL/pgSQL keeps the plan for the session: a SQL function would plan it on every read.
	return (
		select coalesce(array_agg(h), '{}')
		from unnest(p_hours) h
		join public.bots b on b.id = p_bot_id
		join public.organizations o on o.id = b.organization_id
		where p_bot_id = any (array(select private.readable_bot_ids()))
			and h >= now() - make_interval(days => o.retention_days)
			and not exists (select 1 from private.rollup_dirty_hours d where d.bot_id = p_bot_id and d.hour_start = h)
	);
end
$$;
comment on function private.clean_rolled_up_hours(uuid, timestamptz[]) is
	'The given hours of a bot the caller reads whose rollup rows still match the raw rows (not marked for recomputation, not reached by retention).';

-- A bot's row of the current-hour rollup for an hour, for a caller who reads the bot, while
-- no late event has marked it stale (the marks are internal, as in clean_rolled_up_hours).
-- Only the last two hours: older events are not marked stale (private.mark_dirty_hours).
create or replace function private.current_hour_usage(p_bot_id uuid, p_hour timestamptz)
returns setof private.usage_current_hours
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
	return query
	select u.* from private.usage_current_hours u
	where u.bot_id = p_bot_id and u.hour_start = p_hour
		and p_hour >= date_trunc('hour', now(), 'UTC') - interval '1 hour'
		and p_bot_id = any (array(select private.readable_bot_ids()))
		and not exists (select 1 from private.rollup_stale_current_hours s where s.bot_id = p_bot_id and s.hour_start = p_hour);
end
$$;
comment on function private.current_hour_usage(uuid, timestamptz) is
	'The current-hour rollup row of a bot the caller reads, for a recent hour, unless a late event made it stale.';

-- A bot's quarter-hour rows in [from, to) ranges, for a caller who reads the bot. Whether their
-- hour is clean is the caller's question (private.clean_rolled_up_hours): it decides how the
-- rest of the piece is read.
create or replace function private.rolled_up_quarters(p_bot_id uuid, p_from timestamptz[], p_to timestamptz[])
returns setof private.usage_quarters
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
	return query
	select q.* from unnest(p_from, p_to) r(from_at, to_at)
	cross join lateral (
		select * from private.usage_quarters q
		where q.bot_id = p_bot_id and q.quarter_start >= r.from_at and q.quarter_start < r.to_at
	) q
	where p_bot_id = any (array(select private.readable_bot_ids()));
end
$$;
comment on function private.rolled_up_quarters(uuid, timestamptz[], timestamptz[]) is
	'The quarter-hour rollup rows of a bot the caller reads, inside the given ranges.';

create or replace function private.usage_segments(
	p_bot_id uuid, p_from timestamptz, p_to timestamptz, p_use_days boolean, p_split timestamptz default null,
	p_raw_by_piece boolean default false
)
returns table (
	segment_start timestamptz, source text,
	messages bigint, user_messages bigint, bot_messages bigint,
	conversations_started bigint, conversations_resolved bigint, conversations_abandoned bigint,
	conversations_handed_off bigint, tokens_in bigint, tokens_out bigint, cost_usd numeric,
	replies bigint, failed_replies bigint, response_time_count bigint, response_time_sum_ms bigint,
	latency_histogram integer[]
)
language plpgsql
stable
set search_path = ''
as $$
declare
	v_tz text;
	v_hourly timestamptz;
	v_daily timestamptz;
	v_ranges_from timestamptz[];
	v_ranges_to timestamptz[];
	v_d0 timestamptz;
	v_dn timestamptz;
	v_day_from timestamptz[] := '{}';
	v_day_to timestamptz[] := '{}';
	v_parts_from timestamptz[] := '{}';
	v_parts_to timestamptz[] := '{}';
	v_hour_from timestamptz[] := '{}';
	v_hour_to timestamptz[] := '{}';
	v_raw_from timestamptz[] := '{}';
	v_raw_to timestamptz[] := '{}';
	v_a timestamptz;
	v_b timestamptz;
	v_i integer;
	-- Raw pieces inside clean rolled-up hours, taken as rolled-up quarters plus or minus the
	-- minutes between each end and its nearest quarter boundary (v_qa, v_qb: per piece).
	v_qa timestamptz[] := '{}';
	v_qb timestamptz[] := '{}';
	v_cand integer[] := '{}';
	v_clean timestamptz[];
	v_q_from timestamptz[] := '{}';
	v_q_to timestamptz[] := '{}';
	v_q_label timestamptz[] := '{}';
	-- Signed raw intervals (label null: each row under its own bucket) and the disjoint windows
	-- they are cut into, so that every raw row is read once however the intervals overlap.
	v_iv_from timestamptz[] := '{}';
	v_iv_to timestamptz[] := '{}';
	v_iv_label timestamptz[] := '{}';
	v_iv_sign integer[] := '{}';
	v_win_from timestamptz[];
	v_win_to timestamptz[];
	-- The current hour's rolled-up part, labelled with the hour (null: none taken).
	v_cur private.usage_current_hours;
	v_cur_label timestamptz;
begin
	if p_split > p_from and p_split < p_to then
		perform private.check_range(p_from, p_split);
		perform private.check_range(p_split, p_to);
	else
		perform private.check_range(p_from, p_to);
	end if;
	-- RLS: a bot the caller cannot see yields no segments at all.
	select b.timezone into v_tz from public.bots b where b.id = p_bot_id;
	if v_tz is null then
		return;
	end if;
	select w.hourly, w.daily into v_hourly, v_daily from private.rollup_watermarks() w;
	v_hourly := coalesce(v_hourly, '-infinity');

	-- A split point (the summary's two periods in one call) is a boundary no segment crosses.
	if p_split > p_from and p_split < p_to then
		v_ranges_from := array[p_from, p_split];
		v_ranges_to := array[p_split, p_to];
	else
		v_ranges_from := array[p_from];
		v_ranges_to := array[p_to];
	end if;

	-- Complete local days inside each range that the daily rollup has finished; the rest of the
	-- range is left in parts.
	for v_i in 1 .. cardinality(v_ranges_from) loop
		v_d0 := null;
		v_dn := null;
		if p_use_days and v_daily is not null then
			v_d0 := date_trunc('day', v_ranges_from[v_i], v_tz);
			if v_d0 < v_ranges_from[v_i] then
				v_d0 := private.local_day_end(v_d0, v_tz);
			end if;
			v_dn := date_trunc('day', least(v_ranges_to[v_i], v_daily), v_tz);
		end if;
		if v_d0 is not null and v_d0 < v_dn then
			v_day_from := v_day_from || v_d0;
			v_day_to := v_day_to || v_dn;
			v_parts_from := v_parts_from || v_ranges_from[v_i] || v_dn;
			v_parts_to := v_parts_to || v_d0 || v_ranges_to[v_i];
		else
			v_parts_from := v_parts_from || v_ranges_from[v_i];
			v_parts_to := v_parts_to || v_ranges_to[v_i];
		end if;
	end loop;

	-- Each remaining part: whole rolled-up hours from usage_analytics, the rest from raw rows.
	for v_i in 1 .. cardinality(v_parts_from) loop
		continue when v_parts_from[v_i] >= v_parts_to[v_i];
		v_a := date_trunc('hour', v_parts_from[v_i], 'UTC');
		if v_a < v_parts_from[v_i] then
			v_a := v_a + interval '1 hour';
		end if;
		v_b := least(date_trunc('hour', v_parts_to[v_i], 'UTC'), v_hourly);
		if v_a < v_b then
			v_hour_from := v_hour_from || v_a;
			v_hour_to := v_hour_to || v_b;
			v_raw_from := v_raw_from || v_parts_from[v_i] || v_b;
			v_raw_to := v_raw_to || v_a || v_parts_to[v_i];
		else
			v_raw_from := v_raw_from || v_parts_from[v_i];
			v_raw_to := v_raw_to || v_parts_to[v_i];
		end if;
	end loop;

	-- A raw piece starting at an hour the hourly rollup has not done yet takes what the
	-- current-hour rollup has of it (private.run_current_hour_rollup), and only the minutes after
	-- that from raw rows: at most about three minutes, not up to the whole hour.
	for v_i in 1 .. cardinality(v_raw_from) loop
		if v_cur_label is null and v_raw_from[v_i] >= v_hourly
			and v_raw_from[v_i] = date_trunc('hour', v_raw_from[v_i], 'UTC')
			and v_raw_to[v_i] - v_raw_from[v_i] >= interval '1 minute' then
			select * into v_cur from private.current_hour_usage(p_bot_id, v_raw_from[v_i]);
			if found and v_cur.covered_to <= v_raw_to[v_i] then
				v_cur_label := v_raw_from[v_i];
				v_raw_from[v_i] := v_cur.covered_to;
			end if;
		end if;
	end loop;

	-- A raw piece inside an hour the hourly rollup has done is read as that hour's quarter rows
	-- from the quarter boundary nearest its start to the one nearest its end, plus or minus the
	-- raw minutes between (at most 7.5 at each end): a range ending now starts inside an hour,
	-- and for a busy bot that hour's rows were most of what a summary read. Only where that is
	-- fewer raw minutes, and only where no late event or conversation change has marked the hour
	-- dirty since, so the quarters match the raw rows they are taken with.
	for v_i in 1 .. cardinality(v_raw_from) loop
		v_a := date_trunc('hour', v_raw_from[v_i], 'UTC');
		v_qa[v_i] := date_bin('15 minutes', v_raw_from[v_i] + interval '7.5 minutes', timestamptz '2000-01-01 00:00+00');
		v_qb[v_i] := date_bin('15 minutes', v_raw_to[v_i] + interval '7.5 minutes', timestamptz '2000-01-01 00:00+00');
		if v_raw_to[v_i] <= v_a + interval '1 hour' and v_a + interval '1 hour' <= v_hourly and v_qa[v_i] < v_qb[v_i]
			and greatest(v_raw_from[v_i] - v_qa[v_i], v_qa[v_i] - v_raw_from[v_i])
				+ greatest(v_raw_to[v_i] - v_qb[v_i], v_qb[v_i] - v_raw_to[v_i]) < v_raw_to[v_i] - v_raw_from[v_i] then
			v_cand := v_cand || v_i;
		end if;
	end loop;
	if cardinality(v_cand) > 0 then
		v_clean := private.clean_rolled_up_hours(p_bot_id,
			array(select date_trunc('hour', v_raw_from[c], 'UTC') from unnest(v_cand) c));
	end if;
	for v_i in 1 .. cardinality(v_raw_from) loop
		continue when v_raw_from[v_i] >= v_raw_to[v_i];
		v_a := v_raw_from[v_i];
		v_b := v_raw_to[v_i];
		if v_i = any (v_cand) and date_trunc('hour', v_a, 'UTC') = any (v_clean) then
			v_q_from := v_q_from || v_qa[v_i];
			v_q_to := v_q_to || v_qb[v_i];
			v_q_label := v_q_label || v_a;
			if v_a <> v_qa[v_i] then
				v_iv_from := v_iv_from || least(v_a, v_qa[v_i]);
				v_iv_to := v_iv_to || greatest(v_a, v_qa[v_i]);
				v_iv_label := v_iv_label || v_a;
				v_iv_sign := v_iv_sign || case when v_a < v_qa[v_i] then 1 else -1 end;
			end if;
			if v_b <> v_qb[v_i] then
				v_iv_from := v_iv_from || least(v_b, v_qb[v_i]);
				v_iv_to := v_iv_to || greatest(v_b, v_qb[v_i]);
				v_iv_label := v_iv_label || v_a;
				v_iv_sign := v_iv_sign || case when v_qb[v_i] < v_b then 1 else -1 end;
			end if;
		else
			v_iv_from := v_iv_from || v_a;
			v_iv_to := v_iv_to || v_b;
			v_iv_label := v_iv_label || null::timestamptz;
			v_iv_sign := v_iv_sign || 1;
		end if;
	end loop;
	-- The intervals cut at every one of their ends: disjoint windows, each read once, whose rows
	-- count for every interval holding them (the minutes a summary splits at p_from count plus
	-- for one period and minus for the other).
	select coalesce(array_agg(x.p order by x.p), '{}'), coalesce(array_agg(x.n order by x.p), '{}')
	into v_win_from, v_win_to
	from (select p, lead(p) over (order by p) n from (select distinct p from unnest(v_iv_from || v_iv_to) p) d) x
	where x.n is not null
		and exists (select 1 from unnest(v_iv_from, v_iv_to) i(f, t) where i.f <= x.p and x.n <= i.t);

	return query
	select d.day_start, 'day'::text, d.messages::bigint, d.user_messages::bigint, d.bot_messages::bigint,
		d.conversations_started::bigint, d.conversations_resolved::bigint, d.conversations_abandoned::bigint,
		d.conversations_handed_off::bigint, d.tokens_in, d.tokens_out, d.cost_usd, d.replies::bigint,
		d.failed_replies::bigint, d.response_time_count::bigint, d.response_time_sum_ms, d.latency_histogram
	from unnest(v_day_from, v_day_to) r(from_at, to_at)
	cross join lateral (
		select * from public.bot_performance_metrics d
		-- The date bounds let the primary key (bot_id, day) find the rows; the instants decide.
		where d.bot_id = p_bot_id
			and d.day >= (r.from_at at time zone v_tz)::date - 1 and d.day <= (r.to_at at time zone v_tz)::date
			and d.day_start >= r.from_at and d.day_end <= r.to_at
	) d
	union all
	select u.hour_start, 'hour', u.messages, u.user_messages, u.bot_messages, u.conversations_started,
		u.conversations_resolved, u.conversations_abandoned, u.conversations_handed_off, u.tokens_in,
		u.tokens_out, u.cost_usd, u.replies, u.failed_replies, u.response_time_count, u.response_time_sum_ms,
		u.latency_histogram
	from unnest(v_hour_from, v_hour_to) h(from_at, to_at)
	cross join lateral (
		select * from public.usage_analytics u
		where u.bot_id = p_bot_id and u.hour_start >= h.from_at and u.hour_start < h.to_at
	) u
	union all
	-- The rolled-up quarters a piece is taken from, under that piece's start.
	select l.label, 'quarter', q.messages::bigint, q.user_messages::bigint, q.bot_messages::bigint,
		q.conversations_started::bigint, q.conversations_resolved::bigint, q.conversations_abandoned::bigint,
		q.conversations_handed_off::bigint, q.tokens_in, q.tokens_out, q.cost_usd, q.replies::bigint,
		q.failed_replies::bigint, q.response_time_count::bigint, q.response_time_sum_ms, q.latency_histogram
	from unnest(v_q_from, v_q_to, v_q_label) l(from_at, to_at, label)
	join private.rolled_up_quarters(p_bot_id, v_q_from, v_q_to) q
		on q.quarter_start >= l.from_at and q.quarter_start < l.to_at
	union all
	-- The current hour's rolled-up part, under the hour's start.
	select v_cur_label, 'hour', v_cur.messages::bigint, v_cur.user_messages::bigint, v_cur.bot_messages::bigint,
		v_cur.conversations_started::bigint, v_cur.conversations_resolved::bigint,
		v_cur.conversations_abandoned::bigint, v_cur.conversations_handed_off::bigint, v_cur.tokens_in,
		v_cur.tokens_out, v_cur.cost_usd, v_cur.replies::bigint, v_cur.failed_replies::bigint,
		v_cur.response_time_count::bigint, v_cur.response_time_sum_ms, v_cur.latency_histogram
	where v_cur_label is not null
	union all
	-- One call for every raw window: its fixed cost (row security, plan) is paid once. Totals
	-- (the summary) take each window whole, with no per-row hour arithmetic. A window's rows
	-- count for each interval holding it, with that interval's sign, under its label (or, for a
	-- whole piece, under their own bucket: a piece over several hours splits by hour).
	select coalesce(i.label, r.bucket_start), 'raw', i.sign * r.messages, i.sign * r.user_messages,
		i.sign * r.bot_messages, i.sign * r.conversations_started, i.sign * r.conversations_resolved,
		i.sign * r.conversations_abandoned, i.sign * r.conversations_handed_off, i.sign * r.tokens_in,
		i.sign * r.tokens_out, i.sign * r.cost_usd, i.sign * r.replies, i.sign * r.failed_replies,
		i.sign * r.response_time_count, i.sign * r.response_time_sum_ms,
		case when i.sign = 1 then r.latency_histogram
			else array(select -h.n from unnest(r.latency_histogram) with ordinality h(n, k) order by h.k) end
	from private.aggregate_raw(array_fill(p_bot_id, array[cardinality(v_win_from)]), v_win_from, v_win_to,
		case when p_raw_by_piece then 'window' else 'hour' end, false) r
	join unnest(v_iv_from, v_iv_to, v_iv_label, v_iv_sign) i(from_at, to_at, label, sign)
		on r.bucket_start >= i.from_at and r.bucket_start < i.to_at;
end
$$;
comment on function private.usage_segments(uuid, timestamptz, timestamptz, boolean, timestamptz, boolean) is
	'Splits a range (optionally cut at p_split) into rolled-up days, hours and quarter hours and signed raw pieces (per UTC hour, or whole with p_raw_by_piece); every read adds these up.';

create or replace function private.choose_bucket(p_from timestamptz, p_to timestamptz, p_bucket text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
	if p_bucket is not null then
		if p_bucket not in ('hour', 'day', 'week', 'month') then
			raise exception 'Unknown bucket "%": use hour, day, week or month (or null to choose from the range)', p_bucket
				using errcode = '22023';
		end if;
		if p_bucket = 'hour' and p_to - p_from > interval '31 days' then
			raise exception 'Hourly buckets cover at most 31 days: choose day, week or month' using errcode = '22023';
		end if;
		return p_bucket;
	end if;
	-- About 24 to 200 points whatever the range.
	return case
		when p_to - p_from <= interval '3 days' then 'hour'
		when p_to - p_from <= interval '120 days' then 'day'
		when p_to - p_from <= interval '2 years' then 'week'
		else 'month'
	end;
end
$$;
comment on function private.choose_bucket(timestamptz, timestamptz, text) is
	'Chart bucket for a range: hour up to 3 days, day up to 120 days, week up to 2 years, then month.';

revoke execute on function private.rollup_watermarks(), private.check_range(timestamptz, timestamptz),
	private.clean_rolled_up_hours(uuid, timestamptz[]), private.current_hour_usage(uuid, timestamptz),
	private.rolled_up_quarters(uuid, timestamptz[], timestamptz[]),
	private.usage_segments(uuid, timestamptz, timestamptz, boolean, timestamptz, boolean),
	private.choose_bucket(timestamptz, timestamptz, text) from public, anon;
grant execute on function private.rollup_watermarks(), private.check_range(timestamptz, timestamptz),
	private.clean_rolled_up_hours(uuid, timestamptz[]), private.current_hour_usage(uuid, timestamptz),
	private.rolled_up_quarters(uuid, timestamptz[], timestamptz[]),
	private.usage_segments(uuid, timestamptz, timestamptz, boolean, timestamptz, boolean),
	private.choose_bucket(timestamptz, timestamptz, text) to authenticated, service_role;

-- =====================================================================================
-- Summary cards
-- =====================================================================================
create or replace function public.bot_summary(p_bot_id uuid, p_from timestamptz, p_to timestamptz)
returns table (
	period text, period_start timestamptz, period_end timestamptz,
	active_conversations bigint, conversations bigint, messages bigint, messages_per_hour numeric,
	avg_response_ms numeric, p50_response_ms numeric, p95_response_ms numeric, p99_response_ms numeric,
	success_rate numeric, tokens_in bigint, tokens_out bigint, cost_usd numeric,
	resolved_conversations bigint, handed_off_conversations bigint, cost_per_resolved_usd numeric,
	handoff_rate numeric
)
language plpgsql
stable
security invoker
set search_path = ''
as $$
#variable_conflict use_column
begin
	perform private.check_range(p_from, p_to);
	-- PL/pgSQL keeps the plan across calls (a SQL function would re-plan on every card refresh).
	return query
	with periods as (
		select 'current'::text period, p_from f, p_to t
		union all
		select 'previous', p_from - (p_to - p_from), p_from
	),
	-- Both periods in one pass over the segments, cut at p_from.
	segments as (
		select case when s.segment_start >= p_from then 'current' else 'previous' end period, s.*
		from private.usage_segments(p_bot_id, p_from - (p_to - p_from), p_to, true, p_from, true) s
	),
	sums as (
		select s.period,
			sum(s.messages)::bigint messages,
			sum(s.conversations_started)::bigint conversations,
			sum(s.conversations_resolved)::bigint resolved,
			sum(s.conversations_handed_off)::bigint handed_off,
			sum(s.tokens_in)::bigint tokens_in,
			sum(s.tokens_out)::bigint tokens_out,
			sum(s.cost_usd) cost_usd,
			sum(s.replies) replies,
			sum(s.failed_replies) failed,
			sum(s.response_time_count) rt_count,
			sum(s.response_time_sum_ms) rt_sum,
			-- Null histograms (none expected) are skipped: array_agg refuses to stack them (22004).
			private.histogram_fold(array_agg(s.latency_histogram) filter (where s.latency_histogram is not null)) histogram
		from segments s
		group by s.period
	),
	totals as (
		select p.period, p.f, p.t,
			coalesce(x.messages, 0) messages, coalesce(x.conversations, 0) conversations,
			coalesce(x.resolved, 0) resolved, coalesce(x.handed_off, 0) handed_off,
			coalesce(x.tokens_in, 0) tokens_in, coalesce(x.tokens_out, 0) tokens_out,
			coalesce(x.cost_usd, 0) cost_usd, coalesce(x.replies, 0) replies, coalesce(x.failed, 0) failed,
			coalesce(x.rt_count, 0) rt_count, coalesce(x.rt_sum, 0) rt_sum,
			-- p50, p95 and p99 in one walk of the buckets (none for a period without rows).
			private.histogram_percentiles(x.histogram, array[0.50, 0.95, 0.99]) pct
		from periods p
		left join sums x on x.period = p.period
	)
	select t.period, t.f, t.t,
		-- Conversations with a message in the last 30 minutes of the period.
		-- A hashed distinct: count(distinct) sorts.
		(select count(*) from (select distinct m.conversation_id from public.messages m
			where m.bot_id = p_bot_id and m.sent_at >= greatest(t.f, t.t - interval '30 minutes') and m.sent_at < t.t) a),
		t.conversations, t.messages,
		round(t.messages / greatest(extract(epoch from t.t - t.f) / 3600, 1e-9)::numeric, 2),
		case when t.rt_count > 0 then round(t.rt_sum::numeric / t.rt_count, 1) end,
		t.pct[1], t.pct[2], t.pct[3],
		case when t.replies > 0 then round((t.replies - t.failed)::numeric / t.replies, 4) end,
		t.tokens_in, t.tokens_out, t.cost_usd, t.resolved, t.handed_off,
		case when t.resolved > 0 then round(t.cost_usd / t.resolved, 6) end,
		case when t.conversations > 0 then round(t.handed_off::numeric / t.conversations, 4) end
	from totals t
	order by t.period;
end
$$;
comment on function public.bot_summary(uuid, timestamptz, timestamptz) is
	'Dashboard cards for a bot over [p_from, p_to) (row "current") and the previous period of equal length (row "previous"). Percentiles are at histogram resolution (+9 % at most).';

-- =====================================================================================
-- Charts
-- =====================================================================================
create or replace function public.bot_usage_series(
	p_bot_id uuid, p_from timestamptz, p_to timestamptz, p_bucket text default null
)
returns table (
	bucket_start timestamptz, bucket text, messages bigint, conversations bigint,
	resolved_conversations bigint, handed_off_conversations bigint, tokens_in bigint, tokens_out bigint,
	cost_usd numeric, replies bigint, failed_replies bigint, success_rate numeric, avg_response_ms numeric,
	p50_response_ms numeric, p95_response_ms numeric, p99_response_ms numeric
)
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
	v_bucket text := private.choose_bucket(p_from, p_to, p_bucket);
	v_tz text;
	v_zone text;
begin
	perform private.check_range(p_from, p_to);
	select b.timezone into v_tz from public.bots b where b.id = p_bot_id;
	if v_tz is null then
		return;
	end if;
	-- Hours are UTC hours (as in usage_analytics); longer buckets are local.
	v_zone := case when v_bucket = 'hour' then 'UTC' else v_tz end;
	return query
	with buckets_tz as (
		-- Steps of local calendar time, converted back to instants, so days and weeks follow DST.
		select g at time zone v_zone b
		from generate_series(date_trunc(v_bucket, p_from, v_zone) at time zone v_zone,
			p_to at time zone v_zone, ('1 ' || v_bucket)::interval) g
	),
	agg as (
		select private.bucket_start(s.segment_start, v_bucket, v_tz) b,
			sum(s.messages)::bigint messages, sum(s.conversations_started)::bigint conversations,
			sum(s.conversations_resolved)::bigint resolved, sum(s.conversations_handed_off)::bigint handed_off,
			sum(s.tokens_in)::bigint tokens_in, sum(s.tokens_out)::bigint tokens_out, sum(s.cost_usd) cost_usd,
			sum(s.replies)::bigint replies, sum(s.failed_replies)::bigint failed,
			sum(s.response_time_count) rt_count, sum(s.response_time_sum_ms) rt_sum,
			private.histogram_fold(array_agg(s.latency_histogram)) histogram
		from private.usage_segments(p_bot_id, p_from, p_to, v_bucket <> 'hour') s
		group by 1
	)
	select bt.b, v_bucket, coalesce(a.messages, 0), coalesce(a.conversations, 0), coalesce(a.resolved, 0),
		coalesce(a.handed_off, 0), coalesce(a.tokens_in, 0), coalesce(a.tokens_out, 0),
		coalesce(a.cost_usd, 0), coalesce(a.replies, 0), coalesce(a.failed, 0),
		case when a.replies > 0 then round((a.replies - a.failed)::numeric / a.replies, 4) end,
		case when a.rt_count > 0 then round(a.rt_sum::numeric / a.rt_count, 1) end,
		a.pct[1], a.pct[2], a.pct[3]
	from buckets_tz bt
	left join (select agg.*, private.histogram_percentiles(agg.histogram, array[0.50, 0.95, 0.99]) pct from agg) a
		on a.b = bt.b
	where bt.b < p_to
	order by bt.b;
end
$$;
comment on function public.bot_usage_series(uuid, timestamptz, timestamptz, text) is
	'Chart series for a bot over [p_from, p_to): one row per bucket (hour, local day, week or month; chosen from the range when p_bucket is null), empty buckets included.';

create or replace function public.bot_breakdown(
	p_bot_id uuid, p_from timestamptz, p_to timestamptz, p_dimension text
)
returns table (
	value text, messages bigint, replies bigint, failed_replies bigint, success_rate numeric,
	avg_response_ms numeric, p95_response_ms numeric, tokens_in bigint, tokens_out bigint, cost_usd numeric
)
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
	v_hourly timestamptz := coalesce((select w.hourly from private.rollup_watermarks() w), '-infinity');
	v_a timestamptz := date_trunc('hour', p_from, 'UTC');
	v_b timestamptz;
begin
	perform private.check_range(p_from, p_to);
	if p_dimension is null or p_dimension not in ('channel', 'intent', 'model') then
		raise exception 'Unknown dimension "%": use channel, intent or model', p_dimension using errcode = '22023';
	end if;
	if v_a < p_from then
		v_a := v_a + interval '1 hour';
	end if;
	v_b := least(date_trunc('hour', p_to, 'UTC'), v_hourly);
	if v_a >= v_b then
		v_a := p_to;
		v_b := p_to;
	end if;
	return query
	with parts as (
		select u.value, u.messages::bigint messages, u.replies::bigint replies, u.failed_replies::bigint failed,
			u.tokens_in, u.tokens_out, u.cost_usd, u.response_time_count::bigint rt_count,
			u.response_time_sum_ms rt_sum, u.latency_histogram
		from public.usage_breakdowns u
		where u.bot_id = p_bot_id and u.dimension = p_dimension and u.hour_start >= v_a and u.hour_start < v_b
		union all
		select r.value, r.messages, r.replies, r.failed_replies, r.tokens_in, r.tokens_out, r.cost_usd,
			r.response_time_count, r.response_time_sum_ms, r.latency_histogram
		from private.aggregate_raw_breakdowns(array[p_bot_id, p_bot_id],
			array[p_from, greatest(v_b, p_from)], array[least(v_a, p_to), p_to]) r
		where r.dimension = p_dimension
	)
	select p.value, sum(p.messages)::bigint, sum(p.replies)::bigint, sum(p.failed)::bigint,
		case when sum(p.replies) > 0 then round((sum(p.replies) - sum(p.failed)) / sum(p.replies), 4) end,
		case when sum(p.rt_count) > 0 then round(sum(p.rt_sum) / sum(p.rt_count), 1) end,
		private.histogram_percentile(private.histogram_fold(array_agg(p.latency_histogram)), 0.95),
		sum(p.tokens_in)::bigint, sum(p.tokens_out)::bigint, sum(p.cost_usd)
	from parts p
	group by p.value
	order by sum(p.messages) desc, p.value;
end
$$;
comment on function public.bot_breakdown(uuid, timestamptz, timestamptz, text) is
	'Breakdown of a bot''s traffic over [p_from, p_to) by channel, intent or model, largest first.';

-- =====================================================================================
-- Conversations: search and export (one query, with or without paging)
-- =====================================================================================
create or replace function public.export_conversations(
	p_bot_id uuid, p_from timestamptz, p_to timestamptz,
	p_status text default null, p_channel text default null, p_query text default null,
	p_after_started_at timestamptz default null, p_after_id uuid default null, p_limit integer default null
)
returns table (
	id uuid, external_id text, channel public.channel, end_user_id text, status public.conversation_status,
	started_at timestamptz,
	last_message_at timestamptz, ended_at timestamptz, handed_off_at timestamptz, duration_seconds numeric,
	messages integer, first_response_ms integer, response_p50_ms numeric, response_p95_ms numeric,
	success_rate numeric, tokens_in bigint, tokens_out bigint, cost_usd numeric
)
language sql
stable
security invoker
set search_path = ''
as $$
	select c.id, c.external_id, c.channel, c.end_user_id, c.status, c.started_at, c.last_message_at,
		c.ended_at, c.handed_off_at,
		round(extract(epoch from coalesce(c.ended_at, c.handed_off_at, c.last_message_at, c.started_at) - c.started_at)::numeric, 3),
		cm.messages, cm.first_response_ms, cm.response_p50_ms, cm.response_p95_ms, cm.success_rate,
		cm.tokens_in, cm.tokens_out, cm.cost_usd
	from public.conversations c
	left join public.conversation_metrics cm on cm.bot_id = c.bot_id and cm.conversation_id = c.id
	where c.bot_id = p_bot_id
		and c.started_at >= p_from and c.started_at < p_to
		and (p_status is null or c.status = p_status::public.conversation_status)
		and (p_channel is null or c.channel = p_channel::public.channel)
		and (nullif(trim(p_query), '') is null or c.id in (
			select m.conversation_id from public.messages m
			where m.bot_id = p_bot_id and m.search_vector @@ websearch_to_tsquery('simple'::regconfig, p_query)))
		and (p_after_started_at is null or (c.started_at, c.id) > (p_after_started_at, coalesce(p_after_id, '00000000-0000-0000-0000-000000000000'::uuid)))
	order by c.started_at, c.id
	limit p_limit
$$;
comment on function public.export_conversations(uuid, timestamptz, timestamptz, text, text, text, timestamptz, uuid, integer) is
	'Conversations of a bot started in [p_from, p_to) with their metrics, filtered, ordered by (started_at, id); keyset paging with p_after_started_at / p_after_id / p_limit. Feeds the CSV export.';

create or replace function public.search_conversations(
	p_bot_id uuid, p_from timestamptz, p_to timestamptz,
	p_query text default null, p_status text default null, p_channel text default null,
	p_min_duration_seconds numeric default null, p_max_duration_seconds numeric default null,
	p_min_response_ms numeric default null, p_max_response_ms numeric default null,
	p_limit integer default 50, p_offset integer default 0
)
returns table (
	id uuid, external_id text, channel public.channel, end_user_id text, status public.conversation_status,
	started_at timestamptz,
	last_message_at timestamptz, ended_at timestamptz, handed_off_at timestamptz, duration_seconds numeric,
	messages integer, first_response_ms integer, response_p50_ms numeric, response_p95_ms numeric,
	success_rate numeric, tokens_in bigint, tokens_out bigint, cost_usd numeric, total_count bigint
)
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
	perform private.check_range(p_from, p_to);
	if p_status is not null and not p_status = any (enum_range(null::public.conversation_status)::text[]) then
		raise exception 'Unknown status "%": use one of %', p_status,
			array_to_string(enum_range(null::public.conversation_status)::text[], ', ')
			using errcode = '22023';
	end if;
	if p_limit is null or p_limit not between 1 and 500 then
		raise exception 'p_limit must be between 1 and 500' using errcode = '22023';
	end if;
	return query
	select e.*, count(*) over ()
	from public.export_conversations(p_bot_id, p_from, p_to, p_status, p_channel, p_query) e
	where (p_min_duration_seconds is null or e.duration_seconds >= p_min_duration_seconds)
		and (p_max_duration_seconds is null or e.duration_seconds <= p_max_duration_seconds)
		and (p_min_response_ms is null or e.response_p50_ms >= p_min_response_ms)
		and (p_max_response_ms is null or e.response_p50_ms <= p_max_response_ms)
	order by e.started_at desc, e.id desc
	limit p_limit offset greatest(p_offset, 0);
end
$$;
comment on function public.search_conversations(uuid, timestamptz, timestamptz, text, text, text, numeric, numeric, numeric, numeric, integer, integer) is
	'Conversation list: full-text search over messages (web-search syntax) plus status, channel, date, duration and median response-time filters; newest first; total_count for paging.';

create or replace function public.export_messages(
	p_bot_id uuid, p_from timestamptz, p_to timestamptz,
	p_conversation_id uuid default null, p_query text default null,
	p_after_sent_at timestamptz default null, p_after_id bigint default null, p_limit integer default null
)
returns table (
	id bigint, conversation_id uuid, conversation_external_id text, external_id text, role public.message_role,
	content text, sent_at timestamptz, response_time_ms integer, success boolean, error_code text,
	intent text, model text, tokens_in integer, tokens_out integer, cost_usd numeric
)
language sql
stable
security invoker
set search_path = ''
as $$
	select m.id, m.conversation_id, c.external_id, m.external_id, m.role, m.content, m.sent_at,
		m.response_time_ms, m.success, m.error_code, m.intent, m.model, m.tokens_in, m.tokens_out, m.cost_usd
	from public.messages m
	join public.conversations c on c.id = m.conversation_id
	where m.bot_id = p_bot_id
		and m.sent_at >= p_from and m.sent_at < p_to
		and (p_conversation_id is null or m.conversation_id = p_conversation_id)
		and (nullif(trim(p_query), '') is null or m.search_vector @@ websearch_to_tsquery('simple'::regconfig, p_query))
		and (p_after_sent_at is null or (m.sent_at, m.id) > (p_after_sent_at, coalesce(p_after_id, 0)))
	order by m.sent_at, m.id
	limit p_limit
$$;
comment on function public.export_messages(uuid, timestamptz, timestamptz, uuid, text, timestamptz, bigint, integer) is
	'Messages of a bot sent in [p_from, p_to), optionally of one conversation or matching a search, ordered by (sent_at, id); keyset paging with p_after_sent_at / p_after_id / p_limit. Feeds the CSV export and transcripts.';

create or replace function public.export_daily_metrics(p_bot_id uuid, p_from timestamptz, p_to timestamptz)
returns table (
	day date, day_start timestamptz, messages bigint, conversations bigint, resolved_conversations bigint,
	handed_off_conversations bigint, tokens_in bigint, tokens_out bigint, cost_usd numeric, replies bigint,
	failed_replies bigint, success_rate numeric, avg_response_ms numeric, p50_response_ms numeric,
	p95_response_ms numeric, p99_response_ms numeric
)
language sql
stable
security invoker
set search_path = ''
as $$
	select (s.bucket_start at time zone b.timezone)::date, s.bucket_start, s.messages, s.conversations,
		s.resolved_conversations, s.handed_off_conversations, s.tokens_in, s.tokens_out, s.cost_usd, s.replies,
		s.failed_replies, s.success_rate, s.avg_response_ms, s.p50_response_ms, s.p95_response_ms, s.p99_response_ms
	from public.bots b
	cross join lateral public.bot_usage_series(p_bot_id, p_from, p_to, 'day') s
	where b.id = p_bot_id
	order by s.bucket_start
$$;
comment on function public.export_daily_metrics(uuid, timestamptz, timestamptz) is
	'One row per local day of the bot over [p_from, p_to): the chart''s daily series, for the CSV export.';

revoke execute on function
	public.bot_summary(uuid, timestamptz, timestamptz),
	public.bot_usage_series(uuid, timestamptz, timestamptz, text),
	public.bot_breakdown(uuid, timestamptz, timestamptz, text),
	public.export_conversations(uuid, timestamptz, timestamptz, text, text, text, timestamptz, uuid, integer),
	public.search_conversations(uuid, timestamptz, timestamptz, text, text, text, numeric, numeric, numeric, numeric, integer, integer),
	public.export_messages(uuid, timestamptz, timestamptz, uuid, text, timestamptz, bigint, integer),
	public.export_daily_metrics(uuid, timestamptz, timestamptz)
	from public, anon;
grant execute on function
	public.bot_summary(uuid, timestamptz, timestamptz),
	public.bot_usage_series(uuid, timestamptz, timestamptz, text),
	public.bot_breakdown(uuid, timestamptz, timestamptz, text),
	public.export_conversations(uuid, timestamptz, timestamptz, text, text, text, timestamptz, uuid, integer),
	public.search_conversations(uuid, timestamptz, timestamptz, text, text, text, numeric, numeric, numeric, numeric, integer, integer),
	public.export_messages(uuid, timestamptz, timestamptz, uuid, text, timestamptz, bigint, integer),
	public.export_daily_metrics(uuid, timestamptz, timestamptz)
	to authenticated, service_role;

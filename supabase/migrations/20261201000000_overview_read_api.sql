-- Overview read API: every bot of an organization with today's figures, the same stretch of
-- yesterday and a 7-day sparkline, in one call, so the dashboard's overview page needs one
-- round trip instead of three per bot.
--
-- The numbers are not recomputed here: each one is a call to the public read API
-- (bot_summary, bot_usage_series) over the bot's own local day, so the overview always equals
-- what the bot page and the export show for the same range, by construction.
--
--   organization_overview(p_organization_id uuid, p_now timestamptz = null)
--     -> one row per bot the caller can see in that organization, by name;
--        today = [local midnight in the bot's time zone, p_now), previous = the same length of
--        time from yesterday's local midnight; sparkline = 7 local days ending today.

create or replace function public.organization_overview(p_organization_id uuid, p_now timestamptz default null)
returns table (
	bot_id uuid, bot_name text, channel text, timezone text,
	period_start timestamptz, period_end timestamptz,
	messages bigint, success_rate numeric, p95_response_ms numeric,
	previous_messages bigint, previous_success_rate numeric, previous_p95_response_ms numeric,
	daily_starts timestamptz[], daily_messages bigint[]
)
language sql
stable
security invoker
set search_path = ''
as $$
	with bot_days as (
		-- RLS on bots: a caller outside the organization gets no rows at all.
		select b.id, b.name, b.channel, b.timezone,
			date_trunc('day', coalesce(p_now, now()), b.timezone) day_start,
			coalesce(p_now, now()) t
		from public.bots b
		where b.organization_id = p_organization_id
	),
	windows as (
		select d.*,
			-- A range must not be empty: at the stroke of midnight "today" is its first second.
			greatest(d.t, d.day_start + interval '1 second') day_end,
			((d.day_start at time zone d.timezone) - interval '1 day') at time zone d.timezone yesterday_start,
			((d.day_start at time zone d.timezone) - interval '6 days') at time zone d.timezone week_start
		from bot_days d
	)
	select w.id, w.name, w.channel, w.timezone, w.day_start, w.day_end,
		cur.messages, cur.success_rate, cur.p95_response_ms,
		prev.messages, prev.success_rate, prev.p95_response_ms,
		spark.starts, spark.messages
	from windows w
	cross join lateral (
		select s.messages, s.success_rate, s.p95_response_ms
		from public.bot_summary(w.id, w.day_start, w.day_end) s where s.period = 'current'
	) cur
	cross join lateral (
		select s.messages, s.success_rate, s.p95_response_ms
		from public.bot_summary(w.id, w.yesterday_start, w.yesterday_start + (w.day_end - w.day_start)) s
		where s.period = 'current'
	) prev
	cross join lateral (
		select array_agg(u.bucket_start order by u.bucket_start) starts,
			array_agg(u.messages order by u.bucket_start) messages
		from public.bot_usage_series(w.id, w.week_start, w.day_end, 'day') u
	) spark
	order by w.name, w.id
$$;
comment on function public.organization_overview(uuid, timestamptz) is
	'Overview cards for every bot of an organization: today so far (bot''s local day), the same stretch of yesterday, and messages per local day for the last 7 days; each figure comes from bot_summary / bot_usage_series.';
revoke execute on function public.organization_overview(uuid, timestamptz) from public, anon;
grant execute on function public.organization_overview(uuid, timestamptz) to authenticated;

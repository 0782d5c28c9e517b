-- Metrics: the three rollup tables the dashboard reads (conversation_metrics,
-- bot_performance_metrics, usage_analytics) plus usage_breakdowns, and the SQL that keeps them.
--
-- Latency histograms: response times go into 161 fixed, log-spaced buckets, 8 per doubling.
-- Bucket 1 holds [0, 2^(1/8)) ms, bucket k holds [2^((k-1)/8), 2^(k/8)) ms, bucket 161 holds
-- everything from 2^20 ms (about 17.5 minutes). Histograms are int[161] and merge by adding,
-- so a percentile over any range is exact at bucket resolution: the reported value is the
-- upper bound of the bucket holding the true percentile, at most 9.05 % (2^(1/8)) above it.
--
-- Rollups: hours are UTC hours; days are the bot's local days (date_trunc in its time zone,
-- so a DST day has 23 or 25 hours). The hourly job recomputes from raw rows every hour between
-- its watermark and the current hour, plus every "dirty" hour a late event or a conversation
-- change touched (recorded by statement triggers on the raw tables), then upserts. Recomputing
-- whole hours makes a run idempotent; a run after downtime catches up the whole gap; moving the
-- watermark back recomputes what it passes again. Both jobs take an advisory lock and skip
-- when another run holds it. The daily job recomputes the local days the hourly job marked, once
-- the day is over. This file holds what a run computes for a set of windows
-- (private.rollup_hour_windows / rollup_day_windows); the jobs that choose the windows and keep
-- one failing bot from stopping the others are in the rollup jobs migration.
--
-- Widths: cost sums are numeric(38,6) and token / latency sums bigint, so no sum of raw values
-- inside the raw tables' bounds can overflow (counts are per bot per hour or day).

-- =====================================================================================
-- Histogram helpers
-- =====================================================================================
create or replace function private.latency_bucket(p_ms integer)
returns integer
language sql
immutable
parallel safe
set search_path = ''
as $$
	select case when p_ms is null then null
		else least(161, 1 + floor(8 * ln(greatest(p_ms, 1)::float8) / ln(2::float8))::integer) end
$$;
comment on function private.latency_bucket(integer) is
	'Histogram bucket (1..161) of a response time in ms: 8 log-spaced buckets per doubling.';

create or replace function private.latency_bucket_upper_ms(p_bucket integer)
returns numeric
language sql
immutable
parallel safe
set search_path = ''
as $$
	-- The open-ended last bucket reports its lower bound.
	select case when p_bucket is not null then round(power(2::numeric, least(p_bucket, 160) / 8.0), 1) end
$$;
comment on function private.latency_bucket_upper_ms(integer) is
	'Upper bound in ms of a histogram bucket: what percentiles report (bucket 161 reports 2^20 ms).';

create or replace function private.histogram_of(p_buckets integer[])
returns integer[]
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
declare
	v_histogram integer[] := array_fill(0, array[161]);
	v_bucket integer;
begin
	-- A loop over a local array updates in place: several times faster than a set-based count.
	if p_buckets is not null then
		foreach v_bucket in array p_buckets loop
			if v_bucket is not null then
				v_histogram[v_bucket] := v_histogram[v_bucket] + 1;
			end if;
		end loop;
	end if;
	return v_histogram;
end
$$;
comment on function private.histogram_of(integer[]) is 'Histogram (int[161]) of a list of bucket numbers.';

create or replace function private.histogram_from_pairs(p_buckets integer[], p_counts bigint[])
returns integer[]
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
declare
	v_histogram integer[] := array_fill(0, array[161]);
	v_i integer;
begin
	for v_i in 1 .. coalesce(cardinality(p_buckets), 0) loop
		v_histogram[p_buckets[v_i]] := v_histogram[p_buckets[v_i]] + p_counts[v_i];
	end loop;
	return v_histogram;
end
$$;
comment on function private.histogram_from_pairs(integer[], bigint[]) is
	'Histogram (int[161]) from parallel arrays of bucket numbers and their counts (pre-aggregated input).';

create or replace function private.histogram_fold(p_histograms integer[])
returns integer[]
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
declare
	v_histogram integer[] := array_fill(0, array[161]);
	v_i integer;
	v_k integer;
begin
	-- array_agg of int[161] rows is a 2-D array; a plain loop beats unnest + group by here.
	for v_i in 1 .. coalesce(array_length(p_histograms, 1), 0) loop
		for v_k in 1 .. 161 loop
			v_histogram[v_k] := v_histogram[v_k] + p_histograms[v_i][v_k];
		end loop;
	end loop;
	return v_histogram;
end
$$;
comment on function private.histogram_fold(integer[]) is
	'Merges histograms: private.histogram_fold(array_agg(latency_histogram)) adds them bucket by bucket.';

create or replace function private.histogram_percentile(p_histogram integer[], p_fraction float8)
returns numeric
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
declare
	v_total bigint := 0;
	v_rank numeric;
	v_seen bigint := 0;
	v_k integer;
begin
	for v_k in 1 .. coalesce(cardinality(p_histogram), 0) loop
		v_total := v_total + p_histogram[v_k];
	end loop;
	if v_total = 0 then
		return null;
	end if;
	-- The value at rank ceil(p * n), as percentile_disc defines it, at bucket resolution.
	v_rank := greatest(1, ceil(p_fraction * v_total));
	for v_k in 1 .. cardinality(p_histogram) loop
		v_seen := v_seen + p_histogram[v_k];
		if v_seen >= v_rank then
			return private.latency_bucket_upper_ms(v_k);
		end if;
	end loop;
	return null;
end
$$;
comment on function private.histogram_percentile(integer[], float8) is
	'Percentile (0..1) of a histogram in ms: the upper bound of the bucket holding it; null when empty.';

create or replace function private.bucket_start(p_at timestamptz, p_grain text, p_timezone text)
returns timestamptz
language sql
stable
parallel safe
set search_path = ''
as $$
	select case p_grain
		when 'hour' then date_trunc('hour', p_at, 'UTC')
		else date_trunc(p_grain, p_at, p_timezone)
	end
$$;
comment on function private.bucket_start(timestamptz, text, text) is
	'Start of the hour (UTC) or of the local day / week / month (bot time zone) containing a time.';

create or replace function private.local_day_end(p_day_start timestamptz, p_timezone text)
returns timestamptz
language sql
stable
parallel safe
set search_path = ''
as $$
	select ((p_day_start at time zone p_timezone) + interval '1 day') at time zone p_timezone
$$;
comment on function private.local_day_end(timestamptz, text) is
	'The next local midnight after a local midnight (23 or 25 hours later on DST days).';

-- =====================================================================================
-- Rollup tables
-- =====================================================================================
create table public.usage_analytics (
	bot_id uuid not null references public.bots (id) on delete cascade,
	hour_start timestamptz not null,
	messages integer not null default 0,
	user_messages integer not null default 0,
	bot_messages integer not null default 0,
	conversations_started integer not null default 0,
	conversations_resolved integer not null default 0,
	conversations_abandoned integer not null default 0,
	conversations_handed_off integer not null default 0,
	conversations_active integer not null default 0,
	active_end_users integer not null default 0,
	tokens_in bigint not null default 0,
	tokens_out bigint not null default 0,
	cost_usd numeric(38, 6) not null default 0,
	replies integer not null default 0,
	failed_replies integer not null default 0,
	response_time_count integer not null default 0,
	response_time_sum_ms bigint not null default 0,
	latency_histogram integer[] not null default private.histogram_of('{}')
		check (cardinality(latency_histogram) = 161),
	rolled_up_at timestamptz not null default now(),
	primary key (bot_id, hour_start)
);
comment on table public.usage_analytics is
	'Per bot per UTC hour: volume, conversations, users, tokens, cost, errors and a latency histogram. Kept after raw data expires.';
comment on column public.usage_analytics.bot_id is 'The bot.';
comment on column public.usage_analytics.hour_start is 'Start of the UTC hour.';
comment on column public.usage_analytics.messages is 'Messages sent in the hour (all roles).';
comment on column public.usage_analytics.user_messages is 'Messages from end users.';
comment on column public.usage_analytics.bot_messages is 'Messages from the bot.';
comment on column public.usage_analytics.conversations_started is 'Conversations that started in the hour.';
comment on column public.usage_analytics.conversations_resolved is 'Conversations completed by the bot in the hour.';
comment on column public.usage_analytics.conversations_abandoned is 'Conversations the end user abandoned in the hour.';
comment on column public.usage_analytics.conversations_handed_off is 'Conversations handed off to a human in the hour.';
comment on column public.usage_analytics.conversations_active is
	'Distinct conversations with a message in the hour (not additive across hours).';
comment on column public.usage_analytics.active_end_users is
	'Distinct end users with a message in the hour (not additive across hours).';
comment on column public.usage_analytics.tokens_in is 'Prompt tokens.';
comment on column public.usage_analytics.tokens_out is 'Completion tokens.';
comment on column public.usage_analytics.cost_usd is 'Cost in US dollars.';
comment on column public.usage_analytics.replies is 'Bot replies with a known outcome (success true or false).';
comment on column public.usage_analytics.failed_replies is 'Bot replies that failed (errors).';
comment on column public.usage_analytics.response_time_count is 'Bot replies with a response time.';
comment on column public.usage_analytics.response_time_sum_ms is 'Sum of those response times, for averages.';
comment on column public.usage_analytics.latency_histogram is
	'Response-time histogram, int[161], 8 log-spaced buckets per doubling from 1 ms (see private.latency_bucket).';
comment on column public.usage_analytics.rolled_up_at is 'When the hourly rollup last wrote this row.';

create table public.bot_performance_metrics (
	bot_id uuid not null references public.bots (id) on delete cascade,
	day date not null,
	day_start timestamptz not null,
	day_end timestamptz not null,
	messages integer not null default 0,
	user_messages integer not null default 0,
	bot_messages integer not null default 0,
	conversations_started integer not null default 0,
	conversations_resolved integer not null default 0,
	conversations_abandoned integer not null default 0,
	conversations_handed_off integer not null default 0,
	conversations_active integer not null default 0,
	unique_end_users integer not null default 0,
	tokens_in bigint not null default 0,
	tokens_out bigint not null default 0,
	cost_usd numeric(38, 6) not null default 0,
	replies integer not null default 0,
	failed_replies integer not null default 0,
	response_time_count integer not null default 0,
	response_time_sum_ms bigint not null default 0,
	latency_histogram integer[] not null default private.histogram_of('{}')
		check (cardinality(latency_histogram) = 161),
	rolled_up_at timestamptz not null default now(),
	primary key (bot_id, day)
);
comment on table public.bot_performance_metrics is
	'Per bot per local day (the bot''s time zone, DST-correct): KPIs and engagement. Kept after raw data expires.';
comment on column public.bot_performance_metrics.bot_id is 'The bot.';
comment on column public.bot_performance_metrics.day is 'Local calendar date in the bot''s time zone.';
comment on column public.bot_performance_metrics.day_start is 'Local midnight starting the day, as an instant.';
comment on column public.bot_performance_metrics.day_end is 'Next local midnight (23 or 25 hours later on DST days).';
comment on column public.bot_performance_metrics.messages is 'Messages sent that day (all roles).';
comment on column public.bot_performance_metrics.user_messages is 'Messages from end users.';
comment on column public.bot_performance_metrics.bot_messages is 'Messages from the bot.';
comment on column public.bot_performance_metrics.conversations_started is 'Conversations started that day.';
comment on column public.bot_performance_metrics.conversations_resolved is 'Conversations completed by the bot that day.';
comment on column public.bot_performance_metrics.conversations_abandoned is 'Conversations abandoned that day.';
comment on column public.bot_performance_metrics.conversations_handed_off is 'Conversations handed off to a human that day.';
comment on column public.bot_performance_metrics.conversations_active is 'Distinct conversations with a message that day.';
comment on column public.bot_performance_metrics.unique_end_users is 'Distinct end users with a message that day (engagement).';
comment on column public.bot_performance_metrics.tokens_in is 'Prompt tokens.';
comment on column public.bot_performance_metrics.tokens_out is 'Completion tokens.';
comment on column public.bot_performance_metrics.cost_usd is 'Cost in US dollars.';
comment on column public.bot_performance_metrics.replies is 'Bot replies with a known outcome.';
comment on column public.bot_performance_metrics.failed_replies is 'Bot replies that failed (errors).';
comment on column public.bot_performance_metrics.response_time_count is 'Bot replies with a response time.';
comment on column public.bot_performance_metrics.response_time_sum_ms is 'Sum of those response times, for averages.';
comment on column public.bot_performance_metrics.latency_histogram is
	'Response-time histogram, int[161] (see usage_analytics.latency_histogram).';
comment on column public.bot_performance_metrics.rolled_up_at is 'When the daily rollup last wrote this row.';

create table public.usage_breakdowns (
	bot_id uuid not null references public.bots (id) on delete cascade,
	hour_start timestamptz not null,
	dimension text not null check (dimension in ('channel', 'intent', 'model')),
	value text not null,
	messages integer not null default 0,
	replies integer not null default 0,
	failed_replies integer not null default 0,
	tokens_in bigint not null default 0,
	tokens_out bigint not null default 0,
	cost_usd numeric(38, 6) not null default 0,
	response_time_count integer not null default 0,
	response_time_sum_ms bigint not null default 0,
	latency_histogram integer[] not null default private.histogram_of('{}')
		check (cardinality(latency_histogram) = 161),
	rolled_up_at timestamptz not null default now(),
	primary key (bot_id, hour_start, dimension, value)
);
comment on table public.usage_breakdowns is
	'Per bot per UTC hour, split by channel, intent or model: what the breakdown charts read.';
comment on column public.usage_breakdowns.bot_id is 'The bot.';
comment on column public.usage_breakdowns.hour_start is 'Start of the UTC hour.';
comment on column public.usage_breakdowns.dimension is 'What the split is by: channel, intent or model.';
comment on column public.usage_breakdowns.value is 'The channel, intent or model (''unknown'' when the message had none).';
comment on column public.usage_breakdowns.messages is 'Messages with this value.';
comment on column public.usage_breakdowns.replies is 'Bot replies with a known outcome.';
comment on column public.usage_breakdowns.failed_replies is 'Bot replies that failed.';
comment on column public.usage_breakdowns.tokens_in is 'Prompt tokens.';
comment on column public.usage_breakdowns.tokens_out is 'Completion tokens.';
comment on column public.usage_breakdowns.cost_usd is 'Cost in US dollars.';
comment on column public.usage_breakdowns.response_time_count is 'Bot replies with a response time.';
comment on column public.usage_breakdowns.response_time_sum_ms is 'Sum of those response times.';
comment on column public.usage_breakdowns.latency_histogram is 'Response-time histogram, int[161].';
comment on column public.usage_breakdowns.rolled_up_at is 'When the hourly rollup last wrote this row.';

-- No foreign key to conversations on purpose: the metrics outlive the raw conversation.
-- Keyed by bot and conversation: a row is only ever replaced by its own bot's rollup, even if a
-- conversation id were reused by another tenant after the original conversation expired.
create table public.conversation_metrics (
	conversation_id uuid not null,
	bot_id uuid not null references public.bots (id) on delete cascade,
	started_at timestamptz not null,
	status text not null,
	channel text not null,
	messages integer not null default 0,
	user_messages integer not null default 0,
	bot_messages integer not null default 0,
	first_response_ms integer,
	response_p50_ms numeric,
	response_p95_ms numeric,
	replies integer not null default 0,
	failed_replies integer not null default 0,
	success_rate numeric,
	tokens_in bigint not null default 0,
	tokens_out bigint not null default 0,
	cost_usd numeric(38, 6) not null default 0,
	duration_seconds numeric,
	resolved boolean not null default false,
	handed_off boolean not null default false,
	rolled_up_at timestamptz not null default now(),
	primary key (bot_id, conversation_id)
);
comment on table public.conversation_metrics is
	'Per conversation: counts, response times, success, tokens, cost, duration and outcome. Kept after the raw conversation expires.';
comment on column public.conversation_metrics.conversation_id is 'The conversation (conversations.id while it is retained).';
comment on column public.conversation_metrics.bot_id is 'The bot.';
comment on column public.conversation_metrics.started_at is 'When the conversation started.';
comment on column public.conversation_metrics.status is 'Status at the last rollup: active, completed, abandoned or handed_off.';
comment on column public.conversation_metrics.channel is 'Channel of the conversation.';
comment on column public.conversation_metrics.messages is 'Messages in the conversation.';
comment on column public.conversation_metrics.user_messages is 'Messages from the end user.';
comment on column public.conversation_metrics.bot_messages is 'Messages from the bot.';
comment on column public.conversation_metrics.first_response_ms is 'Response time of the bot''s first reply, in ms.';
comment on column public.conversation_metrics.response_p50_ms is 'Median bot response time in ms (exact).';
comment on column public.conversation_metrics.response_p95_ms is '95th percentile bot response time in ms (exact).';
comment on column public.conversation_metrics.replies is 'Bot replies with a known outcome.';
comment on column public.conversation_metrics.failed_replies is 'Bot replies that failed.';
comment on column public.conversation_metrics.success_rate is 'Share of bot replies that succeeded (0..1), null without replies.';
comment on column public.conversation_metrics.tokens_in is 'Prompt tokens.';
comment on column public.conversation_metrics.tokens_out is 'Completion tokens.';
comment on column public.conversation_metrics.cost_usd is 'Cost in US dollars.';
comment on column public.conversation_metrics.duration_seconds is 'From start to end (or to the last message while active).';
comment on column public.conversation_metrics.resolved is 'True when the bot completed it.';
comment on column public.conversation_metrics.handed_off is 'True when it was handed off to a human.';
comment on column public.conversation_metrics.rolled_up_at is 'When the hourly rollup last wrote this row.';
create index conversation_metrics_bot_id_started_at_idx on public.conversation_metrics (bot_id, started_at);

-- Rollups are written by the jobs only; members read them through RLS.
alter table public.usage_analytics enable row level security;
alter table public.bot_performance_metrics enable row level security;
alter table public.usage_breakdowns enable row level security;
alter table public.conversation_metrics enable row level security;
revoke insert, update, delete, truncate on public.usage_analytics, public.bot_performance_metrics,
	public.usage_breakdowns, public.conversation_metrics from anon, authenticated;

create policy "Hourly usage is visible to members of the bot's organization"
	on public.usage_analytics for select to authenticated
	using (bot_id = any (array(select private.readable_bot_ids())));
create policy "Daily performance is visible to members of the bot's organization"
	on public.bot_performance_metrics for select to authenticated
	using (bot_id = any (array(select private.readable_bot_ids())));
create policy "Usage breakdowns are visible to members of the bot's organization"
	on public.usage_breakdowns for select to authenticated
	using (bot_id = any (array(select private.readable_bot_ids())));
create policy "Conversation metrics are visible to members of the bot's organization"
	on public.conversation_metrics for select to authenticated
	using (bot_id = any (array(select private.readable_bot_ids())));

-- The raw-event indexes the rollups need to find conversation outcomes by their own time.
create index conversations_bot_id_ended_at_idx on public.conversations (bot_id, ended_at)
	where ended_at is not null;
create index conversations_bot_id_handed_off_at_idx on public.conversations (bot_id, handed_off_at)
	where handed_off_at is not null;

-- =====================================================================================
-- Rollup state: watermarks and dirty marks (private)
-- =====================================================================================
create table private.rollup_state (
	name text primary key check (name in ('hourly', 'daily')),
	watermark timestamptz,
	last_started_at timestamptz,
	last_finished_at timestamptz,
	last_duration_ms numeric,
	last_rows integer
);
comment on table private.rollup_state is
	'One row per rollup: everything before watermark is rolled up (hourly: UTC hours; daily: days ending by then).';
comment on column private.rollup_state.name is 'hourly or daily.';
comment on column private.rollup_state.watermark is 'Rolled up to here; null before the first run (start from the oldest message).';
comment on column private.rollup_state.last_started_at is 'Start of the last run that did work.';
comment on column private.rollup_state.last_finished_at is 'End of that run.';
comment on column private.rollup_state.last_duration_ms is 'Its duration in ms.';
comment on column private.rollup_state.last_rows is 'Rows it wrote.';
insert into private.rollup_state (name) values ('hourly'), ('daily');

create table private.rollup_dirty_hours (
	bot_id uuid not null references public.bots (id) on delete cascade,
	hour_start timestamptz not null,
	primary key (bot_id, hour_start)
);
comment on table private.rollup_dirty_hours is
	'UTC hours that received a late event or a conversation change after (or while) they were rolled up.';
comment on column private.rollup_dirty_hours.bot_id is 'The bot.';
comment on column private.rollup_dirty_hours.hour_start is 'Start of the UTC hour to recompute.';
create index rollup_dirty_hours_hour_start_idx on private.rollup_dirty_hours (hour_start);

create table private.rollup_dirty_days (
	bot_id uuid not null references public.bots (id) on delete cascade,
	day_start timestamptz not null,
	day_end timestamptz not null,
	primary key (bot_id, day_start)
);
comment on table private.rollup_dirty_days is 'Local days whose hours changed: the daily rollup recomputes them once they are over.';
comment on column private.rollup_dirty_days.bot_id is 'The bot.';
comment on column private.rollup_dirty_days.day_start is 'Local midnight starting the day.';
comment on column private.rollup_dirty_days.day_end is 'Next local midnight.';
create index rollup_dirty_days_day_end_idx on private.rollup_dirty_days (day_end);

-- Marks hours that may already be rolled up. Events of the current hour are covered when the
-- watermark passes it, except near the end of the hour, where a transaction may commit after
-- the rollup read it: hence the 10-minute margin.
create or replace function private.mark_dirty_hours(p_bot_ids uuid[], p_times timestamptz[])
returns void
language sql
security definer
set search_path = ''
as $$
	insert into private.rollup_dirty_hours (bot_id, hour_start)
	select distinct u.bot_id, date_trunc('hour', u.at, 'UTC')
	from unnest(p_bot_ids, p_times) u(bot_id, at)
	where u.at is not null
		and u.at < date_trunc('hour', clock_timestamp() + interval '10 minutes', 'UTC')
	order by 1, 2
	on conflict do nothing
$$;
comment on function private.mark_dirty_hours(uuid[], timestamptz[]) is
	'Records (bot, hour) pairs the hourly rollup must recompute because data arrived for them late.';

create or replace function private.mark_dirty_from_messages()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
	perform private.mark_dirty_hours(array_agg(bot_id), array_agg(sent_at)) from new_rows;
	return null;
end
$$;
comment on function private.mark_dirty_from_messages() is 'After inserting messages: marks late hours dirty.';

create or replace function private.mark_dirty_from_conversations()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
	perform private.mark_dirty_hours(array_agg(c.bot_id), array_agg(c.at))
	from (
		select n.bot_id, t.at from new_rows n
		cross join lateral (values (n.started_at), (n.ended_at), (n.handed_off_at)) t(at)
	) c;
	return null;
end
$$;
comment on function private.mark_dirty_from_conversations() is
	'After inserting or updating conversations: marks the hours of their start, end and handoff dirty.';

create or replace function private.mark_dirty_from_conversation_changes()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
	-- Old times too: an outcome that moved leaves its former hour to correct.
	perform private.mark_dirty_hours(array_agg(c.bot_id), array_agg(c.at))
	from (
		select n.bot_id, t.at from new_rows n
		join old_rows o on o.id = n.id
		cross join lateral (values (n.started_at), (n.ended_at), (n.handed_off_at),
			(o.started_at), (o.ended_at), (o.handed_off_at)) t(at)
		where (n.status, n.started_at, n.ended_at, n.handed_off_at)
			is distinct from (o.status, o.started_at, o.ended_at, o.handed_off_at)
	) c;
	return null;
end
$$;
comment on function private.mark_dirty_from_conversation_changes() is
	'After updating conversations: marks the old and new hours of a changed status or outcome dirty.';

create trigger mark_dirty_hours
	after insert on public.messages
	referencing new table as new_rows
	for each statement execute function private.mark_dirty_from_messages();
create trigger mark_dirty_hours_on_insert
	after insert on public.conversations
	referencing new table as new_rows
	for each statement execute function private.mark_dirty_from_conversations();
create trigger mark_dirty_hours_on_update
	after update on public.conversations
	referencing old table as old_rows new table as new_rows
	for each statement execute function private.mark_dirty_from_conversation_changes();

-- =====================================================================================
-- Aggregation of raw rows (the one definition rollups and live reads share)
-- =====================================================================================
-- Windows are (bot, from, to) triples; rows are grouped per bot by p_grain ('window' = the whole
-- window, for totals that need no time split; 'hour' = UTC hour,
-- 'day' = local day), and a bucket never starts before its window (partial hours stay apart).
-- Per-row expressions repeat private.latency_bucket / private.bucket_start inline: a function
-- with a fixed search_path is never inlined, and a call per row would dominate the rollup.
create or replace function private.aggregate_raw(
	p_bot_ids uuid[], p_from timestamptz[], p_to timestamptz[], p_grain text, p_distinct_counts boolean default true
)
returns table (
	bot_id uuid, bucket_start timestamptz,
	messages bigint, user_messages bigint, bot_messages bigint,
	conversations_started bigint, conversations_resolved bigint, conversations_abandoned bigint,
	conversations_handed_off bigint, conversations_active bigint, active_end_users bigint,
	tokens_in bigint, tokens_out bigint, cost_usd numeric,
	replies bigint, failed_replies bigint, response_time_count bigint, response_time_sum_ms bigint,
	latency_histogram integer[]
)
language plpgsql
stable
set search_path = ''
set work_mem = '256MB'
as $$
#variable_conflict use_column
begin
	-- PL/pgSQL keeps this plan across calls; a SQL function would plan it on every dashboard read.
	return query
	with w as materialized (
		select w.bot_id, w.from_at, w.to_at, b.timezone
		from unnest(p_bot_ids, p_from, p_to) w(bot_id, from_at, to_at)
		join public.bots b on b.id = w.bot_id
		where w.from_at < w.to_at
	),
	-- One scan of the raw rows; every figure below is a hash aggregate over it.
	base as materialized (
		select w.bot_id, case when p_grain = 'window' then w.from_at
				when p_grain = 'hour' then greatest(w.from_at, date_trunc('hour', m.sent_at, 'UTC'))
				else greatest(w.from_at, date_trunc(p_grain, m.sent_at, w.timezone)) end b,
			m.conversation_id, m.role, m.success, m.response_time_ms rt, m.tokens_in, m.tokens_out, m.cost_usd
		from w
		cross join lateral (
			select * from public.messages m
			where m.bot_id = w.bot_id and m.sent_at >= w.from_at and m.sent_at < w.to_at
		) m
	),
	totals as (
		select base.bot_id, base.b,
			count(*) messages,
			count(*) filter (where role = 'user') user_messages,
			count(*) filter (where role = 'bot') bot_messages,
			coalesce(sum(base.tokens_in), 0) tokens_in,
			coalesce(sum(base.tokens_out), 0) tokens_out,
			coalesce(sum(base.cost_usd), 0) cost_usd,
			count(*) filter (where role = 'bot' and success is not null) replies,
			count(*) filter (where role = 'bot' and success = false) failed_replies,
			count(*) filter (where role = 'bot' and rt is not null) response_time_count,
			coalesce(sum(rt) filter (where role = 'bot'), 0) response_time_sum_ms
		from base group by 1, 2
	),
	hist as (
		select h.bot_id, h.b, private.histogram_from_pairs(array_agg(h.lb), array_agg(h.n)) latency_histogram
		from (
			select base.bot_id, base.b,
				least(161, 1 + floor(8 * ln(greatest(rt, 1)::float8) / ln(2::float8))::integer) lb, count(*) n
			from base where role = 'bot' and rt is not null group by 1, 2, 3
		) h
		group by 1, 2
	),
	-- Distinct counts are not additive across buckets: the dashboard's live reads skip them.
	bc as materialized (select distinct base.bot_id, base.b, base.conversation_id from base where p_distinct_counts),
	active as (
		select bc.bot_id, bc.b, count(*) conversations_active from bc group by 1, 2
	),
	users as (
		select u.bot_id, u.b, count(*) active_end_users
		from (
			select distinct bc.bot_id, bc.b, c.end_user_id
			from bc
			-- Lateral: one index probe per conversation, never a scan of all conversations.
			cross join lateral (select c.end_user_id from public.conversations c where c.id = bc.conversation_id) c
			where c.end_user_id is not null
		) u
		group by 1, 2
	),
	e as (
		select w.bot_id, case when p_grain = 'window' then w.from_at
				when p_grain = 'hour' then greatest(w.from_at, date_trunc('hour', c.started_at, 'UTC'))
				else greatest(w.from_at, date_trunc(p_grain, c.started_at, w.timezone)) end b, 'started' kind
		from w cross join lateral (select c.started_at from public.conversations c
			where c.bot_id = w.bot_id and c.started_at >= w.from_at and c.started_at < w.to_at) c
		union all
		select w.bot_id, case when p_grain = 'window' then w.from_at
				when p_grain = 'hour' then greatest(w.from_at, date_trunc('hour', c.ended_at, 'UTC'))
				else greatest(w.from_at, date_trunc(p_grain, c.ended_at, w.timezone)) end, c.status
		from w cross join lateral (select c.ended_at, c.status from public.conversations c
			where c.bot_id = w.bot_id and c.ended_at >= w.from_at and c.ended_at < w.to_at
				and c.status in ('completed', 'abandoned')) c
		union all
		select w.bot_id, case when p_grain = 'window' then w.from_at
				when p_grain = 'hour' then greatest(w.from_at, date_trunc('hour', c.handed_off_at, 'UTC'))
				else greatest(w.from_at, date_trunc(p_grain, c.handed_off_at, w.timezone)) end, 'handed_off'
		from w cross join lateral (select c.handed_off_at from public.conversations c
			where c.bot_id = w.bot_id and c.handed_off_at >= w.from_at and c.handed_off_at < w.to_at) c
	),
	ce as (
		select e.bot_id, e.b,
			count(*) filter (where kind = 'started') started,
			count(*) filter (where kind = 'completed') resolved,
			count(*) filter (where kind = 'abandoned') abandoned,
			count(*) filter (where kind = 'handed_off') handed_off
		from e group by 1, 2
	)
	select coalesce(t.bot_id, ce.bot_id), coalesce(t.b, ce.b),
		coalesce(t.messages, 0), coalesce(t.user_messages, 0), coalesce(t.bot_messages, 0),
		coalesce(ce.started, 0), coalesce(ce.resolved, 0), coalesce(ce.abandoned, 0),
		coalesce(ce.handed_off, 0), coalesce(a.conversations_active, 0), coalesce(u.active_end_users, 0),
		coalesce(t.tokens_in, 0), coalesce(t.tokens_out, 0), coalesce(t.cost_usd, 0),
		coalesce(t.replies, 0), coalesce(t.failed_replies, 0), coalesce(t.response_time_count, 0),
		coalesce(t.response_time_sum_ms, 0), coalesce(h.latency_histogram, private.histogram_of('{}'))
	from totals t
	left join hist h on h.bot_id = t.bot_id and h.b = t.b
	left join active a on a.bot_id = t.bot_id and a.b = t.b
	left join users u on u.bot_id = t.bot_id and u.b = t.b
	full join ce on ce.bot_id = t.bot_id and ce.b = t.b;
end
$$;
comment on function private.aggregate_raw(uuid[], timestamptz[], timestamptz[], text, boolean) is
	'Aggregates raw messages and conversation outcomes inside (bot, from, to) windows per hour or local day.';

create or replace function private.aggregate_raw_breakdowns(
	p_bot_ids uuid[], p_from timestamptz[], p_to timestamptz[]
)
returns table (
	bot_id uuid, hour_start timestamptz, dimension text, value text,
	messages bigint, replies bigint, failed_replies bigint, tokens_in bigint, tokens_out bigint,
	cost_usd numeric, response_time_count bigint, response_time_sum_ms bigint, latency_histogram integer[]
)
language plpgsql
stable
set search_path = ''
set work_mem = '256MB'
as $$
#variable_conflict use_column
begin
	-- PL/pgSQL keeps this plan across calls; a SQL function would plan it on every dashboard read.
	return query
	with w as materialized (
		select w.bot_id, w.from_at, w.to_at
		from unnest(p_bot_ids, p_from, p_to) w(bot_id, from_at, to_at)
		where w.from_at < w.to_at
	),
	-- One pass, three grouping sets: hashed together, no row is copied per dimension.
	g as (
		select w.bot_id, greatest(w.from_at, date_trunc('hour', m.sent_at, 'UTC')) h, c.channel,
			coalesce(m.intent, 'unknown') intent, coalesce(m.model, 'unknown') model,
			count(*) messages,
			count(*) filter (where m.role = 'bot' and m.success is not null) replies,
			count(*) filter (where m.role = 'bot' and m.success = false) failed_replies,
			coalesce(sum(m.tokens_in), 0) tokens_in, coalesce(sum(m.tokens_out), 0) tokens_out,
			coalesce(sum(m.cost_usd), 0) cost_usd,
			count(*) filter (where m.role = 'bot' and m.response_time_ms is not null) rt_count,
			coalesce(sum(m.response_time_ms) filter (where m.role = 'bot'), 0) rt_sum,
			array_agg(least(161, 1 + floor(8 * ln(greatest(m.response_time_ms, 1)::float8) / ln(2::float8))::integer))
				filter (where m.role = 'bot' and m.response_time_ms is not null) lbs,
			grouping(c.channel, coalesce(m.intent, 'unknown'), coalesce(m.model, 'unknown')) gid
		from w
		cross join lateral (
			select * from public.messages m
			where m.bot_id = w.bot_id and m.sent_at >= w.from_at and m.sent_at < w.to_at
		) m
		join public.conversations c on c.id = m.conversation_id
		group by grouping sets ((1, 2, 3), (1, 2, 4), (1, 2, 5))
	)
	select g.bot_id, g.h,
		case g.gid when 3 then 'channel' when 5 then 'intent' else 'model' end,
		case g.gid when 3 then g.channel when 5 then g.intent else g.model end,
		g.messages, g.replies, g.failed_replies, g.tokens_in, g.tokens_out, g.cost_usd, g.rt_count, g.rt_sum,
		private.histogram_of(g.lbs)
	from g;
end
$$;
comment on function private.aggregate_raw_breakdowns(uuid[], timestamptz[], timestamptz[]) is
	'Aggregates raw messages inside (bot, from, to) windows per UTC hour and channel / intent / model.';

-- Called by the hourly job after it filled pg_temp.rollup_rows with every message inside the
-- windows. A touched conversation's metrics are recomputed from all of its messages, but only
-- the ones outside the windows are read again from the raw table (usually none: a conversation
-- rarely spans the watermark), which replaces a random read of every message of every touched
-- conversation by two empty index probes each. Recomputing stays exact and idempotent.
create or replace function private.refresh_conversation_metrics(
	p_bot_ids uuid[], p_from timestamptz[], p_to timestamptz[]
)
returns integer
language plpgsql
set search_path = ''
as $$
declare
	v_gap_from timestamptz;
	v_gap_to timestamptz;
	v_end timestamptz;
	v_rows integer;
begin
	-- The widest window (the gap since the watermark) bounds the index probes; other windows
	-- (dirty hours) are subtracted row by row. After the last window's end lies only the current
	-- hour, read by time.
	select w.from_at, w.to_at into v_gap_from, v_gap_to
	from unnest(p_bot_ids, p_from, p_to) w(bot_id, from_at, to_at)
	order by w.to_at - w.from_at desc limit 1;
	select max(w.to_at) into v_end from unnest(p_to) w(to_at);

	with touched as materialized (
		select r.conversation_id id, r.bot_id from pg_temp.rollup_rows r group by 1, 2
		union
		select c.id, c.bot_id
		from unnest(p_bot_ids, p_from, p_to) w(bot_id, from_at, to_at)
		cross join lateral (
			select c.id, c.bot_id from public.conversations c
			where c.bot_id = w.bot_id and c.started_at >= w.from_at and c.started_at < w.to_at
			union all
			select c.id, c.bot_id from public.conversations c
			where c.bot_id = w.bot_id and c.ended_at >= w.from_at and c.ended_at < w.to_at
			union all
			select c.id, c.bot_id from public.conversations c
			where c.bot_id = w.bot_id and c.handed_off_at >= w.from_at and c.handed_off_at < w.to_at
		) c
	),
	-- Messages of those conversations outside every window, each read once: up to the last
	-- window's end by an index probe per conversation (almost always empty), after it (the
	-- current hour) by one time-range scan.
	outside as materialized (
		select m.* from touched t
		cross join lateral (
			select m.bot_id, m.conversation_id, m.role, m.sent_at, m.response_time_ms rt, m.success,
				m.tokens_in, m.tokens_out, m.cost_usd
			from public.messages m
			where m.conversation_id = t.id and m.bot_id = t.bot_id and m.sent_at < v_gap_from
			union all
			select m.bot_id, m.conversation_id, m.role, m.sent_at, m.response_time_ms, m.success,
				m.tokens_in, m.tokens_out, m.cost_usd
			from public.messages m
			where v_end > v_gap_to
				and m.conversation_id = t.id and m.bot_id = t.bot_id and m.sent_at >= v_gap_to and m.sent_at < v_end
		) m
		where not exists (
			select 1 from unnest(p_bot_ids, p_from, p_to) w(bot_id, from_at, to_at)
			where w.bot_id = m.bot_id and m.sent_at >= w.from_at and m.sent_at < w.to_at
		)
		union all
		select m.bot_id, m.conversation_id, m.role, m.sent_at, m.response_time_ms, m.success,
			m.tokens_in, m.tokens_out, m.cost_usd
		from public.messages m
		join touched t on t.id = m.conversation_id
		where m.sent_at >= v_end
	),
	-- Every message of the touched conversations, each exactly once; inlined in both readers
	-- (a materialized copy of a million rows costs more than reading the temp table twice).
	cm as not materialized (
		select r.conversation_id, r.role, r.sent_at, r.rt, r.success, r.tokens_in, r.tokens_out, r.cost_usd
		from pg_temp.rollup_rows r
		union all
		select o.conversation_id, o.role, o.sent_at, o.rt, o.success, o.tokens_in, o.tokens_out, o.cost_usd
		from outside o
	),
	-- Hashed, no ordered aggregate: a sort of every message costs more than all of this.
	msg as (
		select m.conversation_id,
			count(*) messages,
			count(*) filter (where m.role = 'user') user_messages,
			count(*) filter (where m.role = 'bot') bot_messages,
			-- The earliest bot reply's response time, without a per-group sort.
			(min(array[extract(epoch from m.sent_at)::float8, m.rt::float8])
				filter (where m.role = 'bot' and m.rt is not null))[2]::integer first_response_ms,
			count(*) filter (where m.role = 'bot' and m.success is not null) replies,
			count(*) filter (where m.role = 'bot' and m.success = false) failed,
			coalesce(sum(m.tokens_in), 0) tokens_in, coalesce(sum(m.tokens_out), 0) tokens_out,
			coalesce(sum(m.cost_usd), 0) cost_usd, max(m.sent_at) last_at
		from cm m
		group by 1
	),
	-- Response times in order, from one sort of the replies only, for exact percentiles.
	rts as (
		select s.conversation_id, array_agg(s.rt) rts
		from (select m.conversation_id, m.rt from cm m where m.role = 'bot' and m.rt is not null order by 1, 2) s
		group by 1
	),
	agg as (
		select c.id, c.bot_id, c.started_at, c.status, c.channel,
			coalesce(msg.messages, 0) messages, coalesce(msg.user_messages, 0) user_messages,
			coalesce(msg.bot_messages, 0) bot_messages, msg.first_response_ms,
			-- percentile_disc: the value at rank ceil(p * n).
			rts.rts[greatest(1, ceil(0.5 * cardinality(rts.rts)))::integer] p50,
			rts.rts[greatest(1, ceil(0.95 * cardinality(rts.rts)))::integer] p95,
			coalesce(msg.replies, 0) replies, coalesce(msg.failed, 0) failed,
			coalesce(msg.tokens_in, 0) tokens_in, coalesce(msg.tokens_out, 0) tokens_out,
			coalesce(msg.cost_usd, 0) cost_usd,
			extract(epoch from coalesce(c.ended_at, c.handed_off_at, msg.last_at, c.started_at) - c.started_at) duration
		from touched t
		join public.conversations c on c.id = t.id
		left join msg on msg.conversation_id = t.id
		left join rts on rts.conversation_id = t.id
	),
	up as (
		insert into public.conversation_metrics as t (conversation_id, bot_id, started_at, status, channel,
			messages, user_messages, bot_messages, first_response_ms, response_p50_ms, response_p95_ms,
			replies, failed_replies, success_rate, tokens_in, tokens_out, cost_usd, duration_seconds,
			resolved, handed_off, rolled_up_at)
		select id, bot_id, started_at, status, channel, messages, user_messages, bot_messages,
			first_response_ms, p50, p95, replies, failed,
			case when replies > 0 then round((replies - failed)::numeric / replies, 4) end,
			tokens_in, tokens_out, cost_usd, greatest(duration, 0), status = 'completed', status = 'handed_off', now()
		from agg
		on conflict (bot_id, conversation_id) do update set
			started_at = excluded.started_at, status = excluded.status,
			channel = excluded.channel, messages = excluded.messages, user_messages = excluded.user_messages,
			bot_messages = excluded.bot_messages, first_response_ms = excluded.first_response_ms,
			response_p50_ms = excluded.response_p50_ms, response_p95_ms = excluded.response_p95_ms,
			replies = excluded.replies, failed_replies = excluded.failed_replies,
			success_rate = excluded.success_rate, tokens_in = excluded.tokens_in,
			tokens_out = excluded.tokens_out, cost_usd = excluded.cost_usd,
			duration_seconds = excluded.duration_seconds, resolved = excluded.resolved,
			handed_off = excluded.handed_off, rolled_up_at = excluded.rolled_up_at
		-- Unchanged rows are not rewritten: a repeated run changes nothing.
		where (t.status, t.messages, t.replies, t.failed_replies, t.cost_usd, t.tokens_in, t.tokens_out,
				t.duration_seconds, t.first_response_ms, t.response_p50_ms, t.response_p95_ms, t.channel)
			is distinct from (excluded.status, excluded.messages, excluded.replies, excluded.failed_replies,
				excluded.cost_usd, excluded.tokens_in, excluded.tokens_out, excluded.duration_seconds,
				excluded.first_response_ms, excluded.response_p50_ms, excluded.response_p95_ms, excluded.channel)
		returning 1
	)
	select count(*)::integer into v_rows from up;
	return v_rows;
end
$$;
comment on function private.refresh_conversation_metrics(uuid[], timestamptz[], timestamptz[]) is
	'Recomputes conversation_metrics of every conversation with a message or an outcome in the windows; reads pg_temp.rollup_rows.';

-- =====================================================================================
-- The jobs
-- =====================================================================================
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

revoke execute on function private.latency_bucket(integer), private.latency_bucket_upper_ms(integer),
	private.histogram_of(integer[]), private.histogram_from_pairs(integer[], bigint[]), private.histogram_fold(integer[]),
	private.histogram_percentile(integer[], float8), private.bucket_start(timestamptz, text, text),
	private.local_day_end(timestamptz, text),
	private.aggregate_raw(uuid[], timestamptz[], timestamptz[], text, boolean),
	private.aggregate_raw_breakdowns(uuid[], timestamptz[], timestamptz[]),
	private.mark_dirty_hours(uuid[], timestamptz[]), private.mark_dirty_from_messages(),
	private.mark_dirty_from_conversations(), private.mark_dirty_from_conversation_changes(),
	private.refresh_conversation_metrics(uuid[], timestamptz[], timestamptz[]),
	private.rollup_hour_windows(uuid[], timestamptz[], timestamptz[], timestamptz, timestamptz, uuid[]),
	private.rollup_day_windows(uuid[], timestamptz[], timestamptz[])
	from public, anon;
-- The read API (security invoker) runs these as the caller, under the caller's RLS.
grant execute on function private.latency_bucket(integer), private.latency_bucket_upper_ms(integer),
	private.histogram_of(integer[]), private.histogram_from_pairs(integer[], bigint[]), private.histogram_fold(integer[]),
	private.histogram_percentile(integer[], float8), private.bucket_start(timestamptz, text, text),
	private.local_day_end(timestamptz, text),
	private.aggregate_raw(uuid[], timestamptz[], timestamptz[], text, boolean),
	private.aggregate_raw_breakdowns(uuid[], timestamptz[], timestamptz[])
	to authenticated, service_role;
revoke execute on function private.mark_dirty_hours(uuid[], timestamptz[]),
	private.refresh_conversation_metrics(uuid[], timestamptz[], timestamptz[]),
	private.rollup_hour_windows(uuid[], timestamptz[], timestamptz[], timestamptz, timestamptz, uuid[]),
	private.rollup_day_windows(uuid[], timestamptz[], timestamptz[])
	from authenticated;

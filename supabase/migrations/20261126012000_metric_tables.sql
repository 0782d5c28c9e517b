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
-- the day is over. This file holds the metric tables; the histogram helpers, the change
-- tracking (watermarks and dirty marks), the aggregation, what a run computes for a set of
-- windows and the jobs (which keep one failing bot from stopping the others) have their own
-- migrations.
--
-- Widths: cost sums are numeric(38,6) and token / latency sums bigint, so no sum of raw values
-- inside the raw tables' bounds can overflow (counts are per bot per hour or day).

-- =====================================================================================
-- Rollup tables
-- =====================================================================================
-- bot_id has no foreign key: the rollups write hundreds of thousands of rows a run, and a
-- foreign key checks each row with a query of its own (a third of a run's time). A run instead
-- locks its bots once (for key share, as the foreign key would) and a bot's deletion removes
-- its rows (private.delete_bot_metrics below), which is what the cascade did.
create table public.usage_analytics (
	bot_id uuid not null,
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
	bot_id uuid not null,
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
	bot_id uuid not null,
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
	bot_id uuid not null,
	started_at timestamptz not null,
	status public.conversation_status not null,
	channel public.channel not null,
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

-- The current UTC hour up to two minutes ago (private.run_current_hour_rollup), so a live read
-- of a busy bot takes at most about three minutes of raw rows, not up to a whole hour.
-- Additive figures only (no distinct counts). Private: a read reaches a row only through
-- private.current_hour_usage(), which checks that the caller reads the bot and that no late
-- event has made the row stale since.
create table private.usage_current_hours (
	bot_id uuid not null references public.bots (id) on delete cascade,
	hour_start timestamptz not null,
	covered_to timestamptz not null check (covered_to > hour_start and covered_to <= hour_start + interval '1 hour'),
	messages integer not null,
	user_messages integer not null,
	bot_messages integer not null,
	conversations_started integer not null,
	conversations_resolved integer not null,
	conversations_abandoned integer not null,
	conversations_handed_off integer not null,
	tokens_in bigint not null,
	tokens_out bigint not null,
	cost_usd numeric(38, 6) not null,
	replies integer not null,
	failed_replies integer not null,
	response_time_count integer not null,
	response_time_sum_ms bigint not null,
	latency_histogram integer[] not null check (cardinality(latency_histogram) = 161),
	rolled_up_at timestamptz not null default now(),
	primary key (bot_id, hour_start)
);
comment on table private.usage_current_hours is
	'Per bot: the current UTC hour from its start to covered_to (a minute boundary), with the additive figures of usage_analytics.';
comment on column private.usage_current_hours.bot_id is 'The bot.';
comment on column private.usage_current_hours.hour_start is 'Start of the UTC hour.';
comment on column private.usage_current_hours.covered_to is 'End of the rolled-up part: the figures cover [hour_start, covered_to).';
comment on column private.usage_current_hours.messages is 'As in usage_analytics, for the covered part.';
comment on column private.usage_current_hours.user_messages is 'As in usage_analytics, for the covered part.';
comment on column private.usage_current_hours.bot_messages is 'As in usage_analytics, for the covered part.';
comment on column private.usage_current_hours.conversations_started is 'As in usage_analytics, for the covered part.';
comment on column private.usage_current_hours.conversations_resolved is 'As in usage_analytics, for the covered part.';
comment on column private.usage_current_hours.conversations_abandoned is 'As in usage_analytics, for the covered part.';
comment on column private.usage_current_hours.conversations_handed_off is 'As in usage_analytics, for the covered part.';
comment on column private.usage_current_hours.tokens_in is 'As in usage_analytics, for the covered part.';
comment on column private.usage_current_hours.tokens_out is 'As in usage_analytics, for the covered part.';
comment on column private.usage_current_hours.cost_usd is 'As in usage_analytics, for the covered part.';
comment on column private.usage_current_hours.replies is 'As in usage_analytics, for the covered part.';
comment on column private.usage_current_hours.failed_replies is 'As in usage_analytics, for the covered part.';
comment on column private.usage_current_hours.response_time_count is 'As in usage_analytics, for the covered part.';
comment on column private.usage_current_hours.response_time_sum_ms is 'As in usage_analytics, for the covered part.';
comment on column private.usage_current_hours.latency_histogram is 'As in usage_analytics, for the covered part.';
comment on column private.usage_current_hours.rolled_up_at is 'When the current-hour rollup last wrote this row.';

-- Each rolled-up hour in quarters (private.rollup_hour_windows writes them with the hour), so a
-- range starting or ending inside an hour reads at most 7.5 minutes of raw rows at that end:
-- the quarters up to the nearest quarter boundary, plus or minus the minutes between. Additive
-- figures only. Kept as long as the raw rows (private.apply_retention): an edge is only read
-- this way while its raw rows are there. Private: reads reach it through
-- private.rolled_up_quarters(), which checks that the caller reads the bot. No foreign key, as
-- for the rollup tables above: private.delete_bot_metrics removes a deleted bot's rows.
create table private.usage_quarters (
	bot_id uuid not null,
	quarter_start timestamptz not null check (quarter_start = date_bin('15 minutes', quarter_start, timestamptz '2000-01-01 00:00+00')),
	messages integer not null,
	user_messages integer not null,
	bot_messages integer not null,
	conversations_started integer not null,
	conversations_resolved integer not null,
	conversations_abandoned integer not null,
	conversations_handed_off integer not null,
	tokens_in bigint not null,
	tokens_out bigint not null,
	cost_usd numeric(38, 6) not null,
	replies integer not null,
	failed_replies integer not null,
	response_time_count integer not null,
	response_time_sum_ms bigint not null,
	latency_histogram integer[] not null check (cardinality(latency_histogram) = 161),
	primary key (bot_id, quarter_start)
);
comment on table private.usage_quarters is
	'Per bot per UTC quarter hour of a rolled-up hour: the additive figures of usage_analytics, for the edges of a range.';
comment on column private.usage_quarters.bot_id is 'The bot.';
comment on column private.usage_quarters.quarter_start is 'Start of the UTC quarter hour.';
comment on column private.usage_quarters.messages is 'As in usage_analytics, for the quarter hour.';
comment on column private.usage_quarters.user_messages is 'As in usage_analytics, for the quarter hour.';
comment on column private.usage_quarters.bot_messages is 'As in usage_analytics, for the quarter hour.';
comment on column private.usage_quarters.conversations_started is 'As in usage_analytics, for the quarter hour.';
comment on column private.usage_quarters.conversations_resolved is 'As in usage_analytics, for the quarter hour.';
comment on column private.usage_quarters.conversations_abandoned is 'As in usage_analytics, for the quarter hour.';
comment on column private.usage_quarters.conversations_handed_off is 'As in usage_analytics, for the quarter hour.';
comment on column private.usage_quarters.tokens_in is 'As in usage_analytics, for the quarter hour.';
comment on column private.usage_quarters.tokens_out is 'As in usage_analytics, for the quarter hour.';
comment on column private.usage_quarters.cost_usd is 'As in usage_analytics, for the quarter hour.';
comment on column private.usage_quarters.replies is 'As in usage_analytics, for the quarter hour.';
comment on column private.usage_quarters.failed_replies is 'As in usage_analytics, for the quarter hour.';
comment on column private.usage_quarters.response_time_count is 'As in usage_analytics, for the quarter hour.';
comment on column private.usage_quarters.response_time_sum_ms is 'As in usage_analytics, for the quarter hour.';
comment on column private.usage_quarters.latency_histogram is 'As in usage_analytics, for the quarter hour.';

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

-- What `on delete cascade` did: a deleted bot (also through its organization) takes its rollup
-- rows with it, in one statement per table.
create or replace function private.delete_bot_metrics()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
	delete from public.usage_analytics t using deleted_bots d where t.bot_id = d.id;
	delete from public.usage_breakdowns t using deleted_bots d where t.bot_id = d.id;
	delete from public.bot_performance_metrics t using deleted_bots d where t.bot_id = d.id;
	delete from public.conversation_metrics t using deleted_bots d where t.bot_id = d.id;
	delete from private.usage_quarters t using deleted_bots d where t.bot_id = d.id;
	return null;
end
$$;
comment on function private.delete_bot_metrics() is
	'After deleting bots: deletes their rows from the rollup tables without a foreign key (the four public ones and private.usage_quarters).';
revoke execute on function private.delete_bot_metrics() from public, anon, authenticated;
create trigger delete_bot_metrics
	after delete on public.bots
	referencing old table as deleted_bots
	for each statement execute function private.delete_bot_metrics();

-- Locks the bots a rollup run writes for, as the foreign key's per-row check would: a bot
-- cannot be deleted until the run commits, so the run never leaves rows for a deleted bot.
create or replace function private.lock_bots_for_rollup(p_bot_ids uuid[])
returns void
language plpgsql
set search_path = ''
as $$
begin
	-- PERFORM reads every row (a SQL function would stop at the first), in one key order.
	perform from public.bots b where b.id = any (p_bot_ids) order by b.id for key share;
end
$$;
comment on function private.lock_bots_for_rollup(uuid[]) is
	'Takes a key-share lock on the bots a rollup run writes for (what their foreign key did per row).';
revoke execute on function private.lock_bots_for_rollup(uuid[]) from public, anon, authenticated;

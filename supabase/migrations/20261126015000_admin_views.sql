-- Admin views for Supabase Studio: cross-tenant figures an operator reads without joins, and
-- the bots whose rollups fail (admin.rollup_failures).
-- Schema `admin` is not in the API's exposed schemas and grants nothing to the API roles, so
-- only database users (Studio connects as postgres) can read it. The views are
-- security_invoker like every other view, so they never lend their owner's rights to anyone.

create schema if not exists admin;
comment on schema admin is 'Operator views for Studio; not exposed through the REST API.';
revoke all on schema admin from public, anon, authenticated, service_role;

create or replace view admin.organization_daily_usage
with (security_invoker = true)
as
select o.id organization_id, o.name organization_name, d.day, count(distinct d.bot_id) active_bots,
	sum(d.messages) messages, sum(d.conversations_started) conversations_started,
	sum(d.unique_end_users) unique_end_users_sum, sum(d.tokens_in) tokens_in, sum(d.tokens_out) tokens_out,
	sum(d.cost_usd) cost_usd, sum(d.failed_replies) failed_replies
from public.bot_performance_metrics d
join public.bots b on b.id = d.bot_id
join public.organizations o on o.id = b.organization_id
group by o.id, o.name, d.day;
comment on view admin.organization_daily_usage is
	'Usage per organization per day (each bot''s local day): volume, tokens, cost, errors.';
comment on column admin.organization_daily_usage.organization_id is 'Organization id.';
comment on column admin.organization_daily_usage.organization_name is 'Organization name.';
comment on column admin.organization_daily_usage.day is 'Calendar day (local to each bot).';
comment on column admin.organization_daily_usage.active_bots is 'Bots with traffic that day.';
comment on column admin.organization_daily_usage.messages is 'Messages.';
comment on column admin.organization_daily_usage.conversations_started is 'Conversations started.';
comment on column admin.organization_daily_usage.unique_end_users_sum is
	'Sum over bots of distinct end users (a user of two bots counts twice).';
comment on column admin.organization_daily_usage.tokens_in is 'Prompt tokens.';
comment on column admin.organization_daily_usage.tokens_out is 'Completion tokens.';
comment on column admin.organization_daily_usage.cost_usd is 'Cost in US dollars.';
comment on column admin.organization_daily_usage.failed_replies is 'Failed bot replies.';

create or replace view admin.organization_daily_performance
with (security_invoker = true)
as
select o.id organization_id, o.name organization_name, d.day,
	case when sum(d.replies) > 0 then round((sum(d.replies) - sum(d.failed_replies))::numeric / sum(d.replies), 4) end success_rate,
	case when sum(d.response_time_count) > 0 then round(sum(d.response_time_sum_ms)::numeric / sum(d.response_time_count), 1) end avg_response_ms,
	private.histogram_percentile(private.histogram_fold(array_agg(d.latency_histogram)), 0.5) p50_response_ms,
	private.histogram_percentile(private.histogram_fold(array_agg(d.latency_histogram)), 0.95) p95_response_ms,
	private.histogram_percentile(private.histogram_fold(array_agg(d.latency_histogram)), 0.99) p99_response_ms,
	case when sum(d.conversations_started) > 0 then round(sum(d.conversations_resolved)::numeric / sum(d.conversations_started), 4) end resolution_rate,
	case when sum(d.conversations_started) > 0 then round(sum(d.conversations_handed_off)::numeric / sum(d.conversations_started), 4) end handoff_rate
from public.bot_performance_metrics d
join public.bots b on b.id = d.bot_id
join public.organizations o on o.id = b.organization_id
group by o.id, o.name, d.day;
comment on view admin.organization_daily_performance is
	'Performance per organization per day: success rate, response times (percentiles merged from histograms), resolution and handoff rates.';
comment on column admin.organization_daily_performance.organization_id is 'Organization id.';
comment on column admin.organization_daily_performance.organization_name is 'Organization name.';
comment on column admin.organization_daily_performance.day is 'Calendar day (local to each bot).';
comment on column admin.organization_daily_performance.success_rate is 'Share of bot replies that succeeded.';
comment on column admin.organization_daily_performance.avg_response_ms is 'Mean bot response time in ms.';
comment on column admin.organization_daily_performance.p50_response_ms is 'Median response time (histogram resolution).';
comment on column admin.organization_daily_performance.p95_response_ms is '95th percentile response time (histogram resolution).';
comment on column admin.organization_daily_performance.p99_response_ms is '99th percentile response time (histogram resolution).';
comment on column admin.organization_daily_performance.resolution_rate is 'Conversations completed / started.';
comment on column admin.organization_daily_performance.handoff_rate is 'Conversations handed off / started.';

create or replace view admin.cron_job_health
with (security_invoker = true)
as
select j.jobid, j.jobname, j.schedule, j.active, r.start_time last_run_started_at,
	r.end_time last_run_finished_at, r.status last_run_status, r.return_message last_run_message,
	(select count(*) from cron.job_run_details f
		where f.jobid = j.jobid and f.status = 'failed' and f.start_time > now() - interval '24 hours') failures_last_24h,
	s.watermark rollup_watermark,
	case when s.name = 'hourly' then now() - s.watermark
		when s.name = 'daily' then now() - s.watermark end watermark_lag,
	s.last_duration_ms rollup_last_duration_ms
from cron.job j
left join lateral (
	select d.start_time, d.end_time, d.status, d.return_message
	from cron.job_run_details d where d.jobid = j.jobid order by d.start_time desc limit 1
) r on true
left join private.rollup_state s
	on s.name = case j.jobname when 'botflow-rollup-hourly' then 'hourly' when 'botflow-rollup-daily' then 'daily' end;
comment on view admin.cron_job_health is
	'Every pg_cron job: last run, its status and message, failures in 24 h, and for rollups the watermark and how far it lags now.';
comment on column admin.cron_job_health.jobid is 'pg_cron job id.';
comment on column admin.cron_job_health.jobname is 'Job name.';
comment on column admin.cron_job_health.schedule is 'Cron schedule (UTC).';
comment on column admin.cron_job_health.active is 'False when the job is paused.';
comment on column admin.cron_job_health.last_run_started_at is 'Start of the latest run.';
comment on column admin.cron_job_health.last_run_finished_at is 'End of the latest run.';
comment on column admin.cron_job_health.last_run_status is 'succeeded, failed, running, ...';
comment on column admin.cron_job_health.last_run_message is 'What the latest run returned or its error.';
comment on column admin.cron_job_health.failures_last_24h is 'Failed runs in the last 24 hours.';
comment on column admin.cron_job_health.rollup_watermark is 'For rollups: everything before this is rolled up.';
comment on column admin.cron_job_health.watermark_lag is 'For rollups: now minus the watermark (over ~1h30 means the rollup is behind).';
comment on column admin.cron_job_health.rollup_last_duration_ms is 'For rollups: duration of the last run that did work.';

create or replace view admin.rollup_failures
with (security_invoker = true)
as
select f.job, f.bot_id, b.name bot_name, o.id organization_id, o.name organization_name, f.error_sqlstate,
	f.error_message, f.attempts, f.first_failed_at, f.last_failed_at,
	(select count(*) from private.rollup_dirty_hours h where h.bot_id = f.bot_id) pending_hours,
	(select min(h.hour_start) from private.rollup_dirty_hours h where h.bot_id = f.bot_id) oldest_pending_hour,
	(select count(*) from private.rollup_dirty_days d where d.bot_id = f.bot_id) pending_days
from private.rollup_failures f
join public.bots b on b.id = f.bot_id
join public.organizations o on o.id = b.organization_id;
comment on view admin.rollup_failures is
	'Bots whose rollup fails on its own: the error, how often, and what waits for the retry every run makes (other bots are not affected).';
comment on column admin.rollup_failures.job is 'hourly or daily.';
comment on column admin.rollup_failures.bot_id is 'The failing bot.';
comment on column admin.rollup_failures.bot_name is 'Its name.';
comment on column admin.rollup_failures.organization_id is 'Its organization.';
comment on column admin.rollup_failures.organization_name is 'The organization''s name.';
comment on column admin.rollup_failures.error_sqlstate is 'SQLSTATE of the latest error (22003: numeric overflow).';
comment on column admin.rollup_failures.error_message is 'The latest error.';
comment on column admin.rollup_failures.attempts is 'Failed attempts since the bot last rolled up.';
comment on column admin.rollup_failures.first_failed_at is 'First failure since the bot last rolled up.';
comment on column admin.rollup_failures.last_failed_at is 'Latest failure.';
comment on column admin.rollup_failures.pending_hours is 'UTC hours of the bot waiting to be rolled up (their raw rows are kept).';
comment on column admin.rollup_failures.oldest_pending_hour is 'The oldest of them.';
comment on column admin.rollup_failures.pending_days is 'Local days of the bot waiting for the daily rollup.';

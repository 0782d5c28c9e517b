-- Scheduled jobs (pg_cron, times in UTC). The hourly rollup runs every 15 minutes: its
-- watermark only advances by whole hours, but late events for past hours are folded in sooner,
-- and an idle run costs a few milliseconds. The daily rollup runs every hour because local days
-- end at a different UTC hour for every time zone. The current-hour rollup keeps live reads of
-- the hour in progress short. cron.schedule() replaces a job of the same
-- name, so this migration is safe to re-apply.

-- Where hosted Supabase creates it (its jobs live in schema `cron` either way); never in public.
create extension if not exists pg_cron with schema pg_catalog;

select cron.schedule('botflow-rollup-hourly', '*/15 * * * *', 'select private.run_hourly_rollup()');
-- The current hour up to the minute that ended two minutes ago.
select cron.schedule('botflow-rollup-current-hour', '* * * * *', 'select private.run_current_hour_rollup()');
select cron.schedule('botflow-rollup-daily', '20 * * * *', 'select private.run_daily_rollup()');
select cron.schedule('botflow-retention', '30 3 * * *', 'select private.apply_retention()');
-- pg_cron keeps every run's details forever otherwise.
select cron.schedule('botflow-prune-cron-history', '45 3 * * *',
	$$delete from cron.job_run_details where end_time < now() - interval '7 days'$$);

-- Retention: raw rows older than the organization's retention_days go, in bounded batches;
-- newer rows and other organizations' rows stay; the rollups of deleted rows stay, also through
-- later rollup runs; raw rows that are not rolled up yet (past the watermark, or in an hour or
-- day still marked dirty, e.g. after a failed rollup) are never deleted.
begin;
select plan(12);
\ir fixtures.psql

insert into public.conversations (id, bot_id, external_id, started_at, last_message_at, ended_at, status)
values ('eeeeeeee-0000-4000-8000-00000000000e', 'a1a1a1a1-0000-4000-8000-0000000000a1', 'fx-old', now() - interval '3 days',
	now() - interval '3 days' + interval '50 seconds', now() - interval '3 days' + interval '50 seconds', 'completed');
insert into public.messages (bot_id, conversation_id, external_id, role, sent_at)
select 'a1a1a1a1-0000-4000-8000-0000000000a1', 'eeeeeeee-0000-4000-8000-00000000000e', 'fx-old-' || n, 'user', now() - interval '3 days' + n * interval '10 seconds'
from generate_series(1, 5) n;
-- Same age in org B, which keeps 90 days.
insert into public.conversations (bot_id, external_id, started_at, last_message_at, status)
values ('b1b1b1b1-0000-4000-8000-0000000000b1', 'fx-old-b', now() - interval '3 days', now() - interval '3 days', 'completed');
update public.organizations set retention_days = 1 where id = 'a0a0a0a0-0000-4000-8000-00000000000a';

select is((private.apply_retention() ->> 'messages_deleted')::int, 0, 'nothing is deleted before the rollups ever ran');
select private.run_hourly_rollup();
select is((private.apply_retention() ->> 'messages_deleted')::int, 0,
	'nothing is deleted while its local day still waits for the daily rollup');
select private.run_daily_rollup();
-- A failed (or late) hour of bot A1 three days ago stays dirty: its raw rows wait for the retry.
insert into private.rollup_dirty_hours (bot_id, hour_start)
values ('a1a1a1a1-0000-4000-8000-0000000000a1', date_trunc('hour', now() - interval '3 days', 'UTC'));
select is((private.apply_retention() ->> 'messages_deleted')::int, 0, 'raw rows of an hour still to be rolled up are kept');
select private.run_hourly_rollup(), private.run_daily_rollup();
create temp table rolled as select sum(messages) n from public.usage_analytics
	where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' and hour_start < now() - interval '2 days';

select is(private.apply_retention(1, 2) - 'conversations_deleted',
	'{"messages_deleted": 2, "batches": 2, "budget_exhausted": true}'::jsonb, 'a run never exceeds its batch budget');
select is((private.apply_retention(2, 1000) ->> 'budget_exhausted')::boolean, false, 'retention runs to completion in batches of 2');
select is_empty($$select 1 from public.messages where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' and sent_at < now() - interval '1 day'$$,
	'messages older than the organization''s retention are deleted');
select is_empty($$select 1 from public.conversations where id = 'eeeeeeee-0000-4000-8000-00000000000e'$$,
	'their finished conversation is deleted too');
select is((select count(*)::int from public.messages where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1'), 4,
	'newer messages stay');
select isnt_empty($$select 1 from public.conversations where external_id = 'fx-old-b'$$,
	'another organization with a longer retention keeps its rows');
select is((select sum(messages) from public.usage_analytics where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' and hour_start < now() - interval '2 days'),
	(select n from rolled), 'the rollups of deleted rows stay');
-- Unlike an owner's delete, expiry marks nothing: the next runs keep those rollups too.
select private.run_hourly_rollup(), private.run_daily_rollup();
select is((select sum(messages) from public.usage_analytics where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' and hour_start < now() - interval '2 days'),
	(select n from rolled), 'and the next rollup runs keep them');
select isnt_empty($$select 1 from public.conversation_metrics where conversation_id = 'eeeeeeee-0000-4000-8000-00000000000e'$$,
	'as the expired conversation''s metrics');

select * from finish();
rollback;

-- Rollup isolation: a bot whose rollup fails (here a trigger raises numeric field overflow for
-- its rows, standing in for any data-dependent failure) is recorded with its error in
-- admin.rollup_failures and retried on later runs, while every other bot still rolls up,
-- completely and equal to a from-scratch aggregation. Once the cause is gone, the next run
-- catches the failed bot up and forgets the failure.
begin;
select plan(20);
\ir fixtures.psql

-- A third bot P in org B, and traffic two days ago for all three bots (so their days are over).
insert into public.bots (id, organization_id, name, timezone)
values ('b2b2b2b2-0000-4000-8000-0000000000b2', 'b0b0b0b0-0000-4000-8000-00000000000b', 'Poisoned bot', 'Asia/Tokyo');
insert into public.conversations (id, bot_id, external_id, started_at, end_user_id)
select ('c2c2c2c2-0000-4000-8000-00000000000' || n)::uuid, b, 'iso-conv', date_trunc('hour', now(), 'UTC') - interval '2 days', 'u' || n
from (values (1, 'a1a1a1a1-0000-4000-8000-0000000000a1'::uuid), (2, 'b1b1b1b1-0000-4000-8000-0000000000b1'),
	(3, 'b2b2b2b2-0000-4000-8000-0000000000b2')) v(n, b);
insert into public.messages (bot_id, conversation_id, external_id, role, sent_at, response_time_ms, success, tokens_in, cost_usd)
select c.bot_id, c.id, 'iso-' || k, (case when k % 2 = 0 then 'bot' else 'user' end)::public.message_role, c.started_at + k * interval '20 seconds',
	case when k % 2 = 0 then 500 + k end, case when k % 2 = 0 then k % 10 <> 0 end, 1000 * k, 1000
from public.conversations c cross join generate_series(1, 101) k
where c.external_id = 'iso-conv';

create function private.test_poison() returns trigger language plpgsql set search_path = '' as $$
begin
	if new.bot_id = 'b2b2b2b2-0000-4000-8000-0000000000b2' then
		raise exception 'numeric field overflow' using errcode = '22003';
	end if;
	return new;
end
$$;
create trigger test_poison before insert or update on public.usage_analytics
	for each row execute function private.test_poison();
create trigger test_poison before insert or update on public.bot_performance_metrics
	for each row execute function private.test_poison();

-- From scratch, per bot and UTC hour, for the healthy bots or for one bot.
create view pg_temp.scratch_hours as
select m.bot_id, date_trunc('hour', m.sent_at, 'UTC') hour_start, count(*)::int messages,
	(count(*) filter (where m.role = 'bot'))::int bot_messages, sum(m.tokens_in) tokens_in, sum(m.cost_usd) cost_usd,
	(count(*) filter (where m.role = 'bot' and not m.success))::int failed_replies,
	coalesce(sum(m.response_time_ms) filter (where m.role = 'bot'), 0) response_time_sum_ms
from public.messages m
where m.sent_at < (select watermark from private.rollup_state where name = 'hourly')
group by 1, 2;
create view pg_temp.rolled_hours as
select bot_id, hour_start, messages, bot_messages, tokens_in, cost_usd, failed_replies, response_time_sum_ms
from public.usage_analytics where messages > 0;

-- ---------------------------------------------------------------- the poisoned run
select is(private.run_hourly_rollup() -> 'failed_bots', '["b2b2b2b2-0000-4000-8000-0000000000b2"]'::jsonb,
	'the hourly run reports the one bot that failed');
select set_eq($$select * from pg_temp.rolled_hours$$,
	$$select * from pg_temp.scratch_hours where bot_id <> 'b2b2b2b2-0000-4000-8000-0000000000b2'$$,
	'every other bot''s hours are complete and equal a from-scratch aggregation');
select is((select count(*)::int from public.conversation_metrics where bot_id <> 'b2b2b2b2-0000-4000-8000-0000000000b2'),
	(select count(*)::int from public.conversations where bot_id <> 'b2b2b2b2-0000-4000-8000-0000000000b2'
		and started_at < (select watermark from private.rollup_state where name = 'hourly')),
	'every other bot''s conversations have their metrics');
select is_empty($$select 1 from public.usage_analytics where bot_id = 'b2b2b2b2-0000-4000-8000-0000000000b2'$$,
	'nothing half-written for the failing bot');
select results_eq($$select bot_name, organization_name, job, error_sqlstate, error_message, attempts from admin.rollup_failures$$,
	$$values ('Poisoned bot'::text, 'Fixture Org B'::text, 'hourly'::text, '22003'::text, 'numeric field overflow'::text, 1)$$,
	'admin.rollup_failures shows the bot, its organization, the job and the error');
select isnt_empty($$select 1 from private.rollup_dirty_hours where bot_id = 'b2b2b2b2-0000-4000-8000-0000000000b2'
	and hour_start = date_trunc('hour', now(), 'UTC') - interval '2 days'$$,
	'the failing bot''s hours are marked for a retry (and retention keeps their raw rows)');

select is(private.run_daily_rollup() -> 'failed_bots', '[]'::jsonb,
	'the daily run is not held up (the failing bot''s days wait for its hours)');
select is_empty($$select d.bot_id, d.day, d.messages from public.bot_performance_metrics d
	except
	select d.bot_id, d.day, (select count(*)::int from public.messages m
		where m.bot_id = d.bot_id and m.sent_at >= d.day_start and m.sent_at < d.day_end) from public.bot_performance_metrics d$$,
	'every other bot''s days equal their raw messages');
select is((select count(distinct d.bot_id)::int from public.bot_performance_metrics d
	join public.conversations c on c.bot_id = d.bot_id and c.external_id = 'iso-conv'
		and c.started_at >= d.day_start and c.started_at < d.day_end), 2,
	'both healthy bots have their local day of two days ago');

-- A later run, still poisoned: the healthy bots take the fast path, the failure is counted again.
select is(private.run_hourly_rollup() -> 'failed_bots', '["b2b2b2b2-0000-4000-8000-0000000000b2"]'::jsonb,
	'the next run retries the failing bot');
select is((select attempts from admin.rollup_failures where job = 'hourly'), 2, 'and counts the attempt');
select set_eq($$select * from pg_temp.rolled_hours$$,
	$$select * from pg_temp.scratch_hours where bot_id <> 'b2b2b2b2-0000-4000-8000-0000000000b2'$$,
	'the other bots stay complete');

-- ---------------------------------------------------------------- the cause is fixed
drop trigger test_poison on public.usage_analytics;
select is(private.run_hourly_rollup() -> 'failed_bots', '[]'::jsonb, 'once fixed, the hourly run has no failure');
select set_eq($$select * from pg_temp.rolled_hours$$, $$select * from pg_temp.scratch_hours$$,
	'the recovered bot''s hours are caught up: every bot equals a from-scratch aggregation');
select is((select count(*)::int from public.conversation_metrics), (select count(*)::int from public.conversations
		where started_at < (select watermark from private.rollup_state where name = 'hourly')),
	'every conversation has its metrics');
-- Its days are now due, and the daily table is still poisoned for it.
select is(private.run_daily_rollup() -> 'failed_bots', '["b2b2b2b2-0000-4000-8000-0000000000b2"]'::jsonb,
	'the daily run isolates the same bot');
select results_eq($$select job from admin.rollup_failures$$, $$values ('daily'::text)$$,
	'only the daily failure remains recorded');
drop trigger test_poison on public.bot_performance_metrics;
select is(private.run_daily_rollup() -> 'failed_bots', '[]'::jsonb, 'once fixed, the daily run has no failure');
select is((select sum(messages)::int from public.bot_performance_metrics where bot_id = 'b2b2b2b2-0000-4000-8000-0000000000b2'),
	101, 'the recovered bot has its day(s)');
select is_empty($$select 1 from admin.rollup_failures$$, 'the failures are forgotten once the bot rolls up');

select * from finish();
rollback;

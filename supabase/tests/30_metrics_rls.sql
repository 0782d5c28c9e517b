-- Metrics tables: members of org A read their bots' rollups and never org B's; nobody writes
-- rollups through the API (only the jobs do), viewers included; anonymous has no access; a
-- conversation id reused by another tenant never replaces the first tenant's kept metrics.
begin;
select plan(51);
\ir fixtures.psql

insert into public.usage_analytics (bot_id, hour_start, messages) values
	('a1a1a1a1-0000-4000-8000-0000000000a1', '2026-01-01 10:00Z', 5), ('b1b1b1b1-0000-4000-8000-0000000000b1', '2026-01-01 10:00Z', 7);
insert into public.bot_performance_metrics (bot_id, day, day_start, day_end, messages) values
	('a1a1a1a1-0000-4000-8000-0000000000a1', '2026-01-01', '2025-12-31 23:00Z', '2026-01-01 23:00Z', 5),
	('b1b1b1b1-0000-4000-8000-0000000000b1', '2026-01-01', '2026-01-01 05:00Z', '2026-01-02 05:00Z', 7);
insert into public.usage_breakdowns (bot_id, hour_start, dimension, value, messages) values
	('a1a1a1a1-0000-4000-8000-0000000000a1', '2026-01-01 10:00Z', 'model', 'gpt-4o', 5),
	('b1b1b1b1-0000-4000-8000-0000000000b1', '2026-01-01 10:00Z', 'model', 'gpt-4o', 7);
insert into public.conversation_metrics (conversation_id, bot_id, started_at, status, channel, messages) values
	(gen_random_uuid(), 'a1a1a1a1-0000-4000-8000-0000000000a1', '2026-01-01 10:00Z', 'completed', 'web', 5),
	(gen_random_uuid(), 'b1b1b1b1-0000-4000-8000-0000000000b1', '2026-01-01 10:00Z', 'completed', 'web', 7);

create function pg_temp.metrics_checks(p_who text, p_table text, p_where text, p_visible boolean, p_insert text)
returns setof text language plpgsql as $$
begin
	if p_who = 'anon' then
		return next throws_ok(format('select 1 from public.%I where %s', p_table, p_where), '42501', null, p_who || ': has no access to ' || p_table);
	elsif p_visible then
		return next isnt_empty(format('select 1 from public.%I where %s', p_table, p_where), p_who || ': reads ' || p_table);
	else
		return next is_empty(format('select 1 from public.%I where %s', p_table, p_where), p_who || ': cannot see ' || p_table);
	end if;
	return next throws_ok(format('insert into public.%I %s', p_table, p_insert), '42501', null, p_who || ': cannot insert into ' || p_table);
	return next throws_ok(format('update public.%I set messages = 0 where %s', p_table, p_where), '42501', null, p_who || ': cannot update ' || p_table);
	return next throws_ok(format('delete from public.%I where %s', p_table, p_where), '42501', null, p_who || ': cannot delete from ' || p_table);
end
$$;

create temp table targets (t text, ins text);
insert into targets values
	('usage_analytics', $$(bot_id, hour_start) values ('b1b1b1b1-0000-4000-8000-0000000000b1', '2026-01-02 10:00Z')$$),
	('bot_performance_metrics', $$(bot_id, day, day_start, day_end) values ('b1b1b1b1-0000-4000-8000-0000000000b1', '2026-01-02', now(), now())$$),
	('usage_breakdowns', $$(bot_id, hour_start, dimension, value) values ('b1b1b1b1-0000-4000-8000-0000000000b1', '2026-01-02 10:00Z', 'model', 'x')$$),
	('conversation_metrics', $$(conversation_id, bot_id, started_at, status, channel) values (gen_random_uuid(), 'b1b1b1b1-0000-4000-8000-0000000000b1', now(), 'active', 'web')$$);
grant select on targets to authenticated, anon;

-- Member of A looking at B's rows.
select pg_temp.login('aaaaaaaa-0000-4000-8000-000000000001');
select pg_temp.metrics_checks('A', t, $$bot_id = 'b1b1b1b1-0000-4000-8000-0000000000b1'$$, false, ins) from targets;
-- Viewer of A on A's own rows: reads, never writes.
select pg_temp.login('aaaaaaaa-0000-4000-8000-000000000003');
select pg_temp.metrics_checks('viewer', t, $$bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1'$$, true,
	replace(ins, 'b1b1b1b1-0000-4000-8000-0000000000b1', 'a1a1a1a1-0000-4000-8000-0000000000a1')) from targets;
-- Anonymous on everything.
select pg_temp.login_anon();
select pg_temp.metrics_checks('anon', t, 'true', false, ins) from targets;
select pg_temp.logout();

-- ---------------------------------------------------------------- kept metrics are keyed by bot
-- B1's conversation expires (its metrics stay); its id, visible to any Realtime DELETE
-- subscriber, then shows up as a conversation of bot A1 (whoever wrote it).
select private.run_hourly_rollup();
create temp table b_metrics as select * from public.conversation_metrics
	where bot_id = 'b1b1b1b1-0000-4000-8000-0000000000b1' and conversation_id = 'c1b1b1b1-0000-4000-8000-000000000001';
select is((select count(*)::int from b_metrics), 1, 'metrics: B1''s conversation is rolled up');
-- Deleted as retention deletes (an owner's delete would take the metrics along).
select set_config('botflow.retention_purge', 'on', true);
delete from public.conversations where id = 'c1b1b1b1-0000-4000-8000-000000000001';
select set_config('botflow.retention_purge', 'off', true);
insert into public.conversations (id, bot_id, external_id, started_at)
values ('c1b1b1b1-0000-4000-8000-000000000001', 'a1a1a1a1-0000-4000-8000-0000000000a1', 'reused-id',
	date_trunc('hour', now(), 'UTC') - interval '150 minutes');
insert into public.messages (bot_id, conversation_id, external_id, role, sent_at, cost_usd)
values ('a1a1a1a1-0000-4000-8000-0000000000a1', 'c1b1b1b1-0000-4000-8000-000000000001', 'reused-id-m', 'bot',
	date_trunc('hour', now(), 'UTC') - interval '149 minutes', 5);
select private.run_hourly_rollup();
select is((select to_jsonb(m) - 'rolled_up_at' from public.conversation_metrics m
	where bot_id = 'b1b1b1b1-0000-4000-8000-0000000000b1' and conversation_id = 'c1b1b1b1-0000-4000-8000-000000000001'),
	(select to_jsonb(b) - 'rolled_up_at' from b_metrics b), 'metrics: B1''s kept metrics are untouched by A1''s rollup');
select is((select cost_usd from public.conversation_metrics
	where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' and conversation_id = 'c1b1b1b1-0000-4000-8000-000000000001'), 5.0,
	'metrics: A1 gets its own row for its conversation');

select * from finish();
rollback;

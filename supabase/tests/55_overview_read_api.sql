-- Overview read API: one call gives every bot of an organization, and each figure equals what
-- bot_summary / bot_usage_series return for the same bot and local-day range; other tenants
-- get no rows and signed-out callers cannot call it.
begin;
select plan(11);
\ir fixtures.psql

-- A second bot in org A with no traffic at all, and a message today for bot A1.
insert into public.bots (id, organization_id, name, channel, timezone) values
	('a2a2a2a2-0000-4000-8000-0000000000a2', 'a0a0a0a0-0000-4000-8000-00000000000a', 'Fixture bot A2 (quiet)', 'web', 'Asia/Tokyo');
insert into public.messages (bot_id, conversation_id, external_id, role, sent_at, response_time_ms, success)
select bot_id, id, 'fx-overview-today', 'bot',
	greatest(now() - interval '1 minute', date_trunc('day', now(), 'Europe/Paris')), 321, true
from public.conversations where external_id = 'fx-conv-1' and bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1';

-- The ranges the overview promises, computed here independently.
create temp table expected_ranges as
select b.id, date_trunc('day', now(), b.timezone) day_start,
	((date_trunc('day', now(), b.timezone) at time zone b.timezone) - interval '1 day') at time zone b.timezone yesterday_start,
	((date_trunc('day', now(), b.timezone) at time zone b.timezone) - interval '6 days') at time zone b.timezone week_start
from public.bots b where b.organization_id = 'a0a0a0a0-0000-4000-8000-00000000000a';
grant select on expected_ranges to authenticated;

select pg_temp.login('aaaaaaaa-0000-4000-8000-000000000003');
create temp table overview as
select * from public.organization_overview('a0a0a0a0-0000-4000-8000-00000000000a');

select is(array(select bot_name from overview), array['Fixture bot A1', 'Fixture bot A2 (quiet)'],
	'a viewer gets every bot of the organization, by name, in one call');
select ok((select messages >= 1 from overview where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1'),
	'today counts the message sent today');
select results_eq(
	$$select messages, success_rate, p95_response_ms from overview where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1'$$,
	$$select s.messages, s.success_rate, s.p95_response_ms from expected_ranges r,
		public.bot_summary(r.id, r.day_start, now()) s
		where r.id = 'a1a1a1a1-0000-4000-8000-0000000000a1' and s.period = 'current'$$,
	'today: messages, success rate and p95 equal bot_summary over the bot''s local day so far');
select results_eq(
	$$select previous_messages, previous_success_rate, previous_p95_response_ms from overview where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1'$$,
	$$select s.messages, s.success_rate, s.p95_response_ms from expected_ranges r,
		public.bot_summary(r.id, r.yesterday_start, r.yesterday_start + (now() - r.day_start)) s
		where r.id = 'a1a1a1a1-0000-4000-8000-0000000000a1' and s.period = 'current'$$,
	'previous: the same stretch of yesterday, as bot_summary gives it');
select is((select cardinality(daily_messages) from overview where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1'), 7,
	'the sparkline has 7 local days');
select is(
	(select d from overview o, unnest(o.daily_starts) d where o.bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' order by d desc limit 1),
	(select day_start from expected_ranges where id = 'a1a1a1a1-0000-4000-8000-0000000000a1'),
	'the sparkline ends with today''s local midnight (Paris)');
select is(
	(select sum(m)::bigint from overview o, unnest(o.daily_messages) m where o.bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1'),
	(select s.messages from expected_ranges r, public.bot_summary(r.id, r.week_start, now()) s
		where r.id = 'a1a1a1a1-0000-4000-8000-0000000000a1' and s.period = 'current'),
	'the sparkline adds up to bot_summary over the same 7 days');
select results_eq(
	$$select messages, success_rate, p95_response_ms, daily_messages from overview where bot_id = 'a2a2a2a2-0000-4000-8000-0000000000a2'$$,
	$$values (0::bigint, null::numeric, null::numeric, array[0, 0, 0, 0, 0, 0, 0]::bigint[])$$,
	'a bot without traffic shows zero messages, no rate, no p95 and a flat sparkline');

select pg_temp.login('bbbbbbbb-0000-4000-8000-000000000001');
select is_empty($$select * from public.organization_overview('a0a0a0a0-0000-4000-8000-00000000000a')$$,
	'another tenant''s owner gets no rows for organization A');
select is((select count(*)::int from public.organization_overview('b0b0b0b0-0000-4000-8000-00000000000b')), 1,
	'and sees their own bot');

select pg_temp.login_anon();
select throws_ok($$select * from public.organization_overview('a0a0a0a0-0000-4000-8000-00000000000a')$$,
	'42501', null, 'a signed-out caller cannot call it');

select * from finish();
rollback;

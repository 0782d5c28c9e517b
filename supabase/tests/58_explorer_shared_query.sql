-- The conversations list's one statement (private.explorer_sql), which the list, its count and
-- the CSV export run: with intent, handoff, duration and response-time filters it selects what
-- the raw rows say; values stay data however they are spelled; run by another tenant it reads
-- nothing (RLS); signed-out callers cannot build it; bad input says what to fix.
begin;
select plan(12);
\ir fixtures.psql

-- Two days of conversations for bot A1, outcomes, intents and reply times by n.
insert into public.conversations (bot_id, external_id, channel, end_user_id, status, started_at,
	last_message_at, ended_at, handed_off_at)
select 'a1a1a1a1-0000-4000-8000-0000000000a1', 'fx-shared-' || n,
	(case when n % 3 = 0 then 'whatsapp' else 'web' end)::public.channel, 'fx-u-' || (n % 7),
	(case when n % 4 = 0 then 'handed_off' else 'completed' end)::public.conversation_status,
	now() - n * interval '20 minutes',
	now() - n * interval '20 minutes' + (n % 30) * interval '11 seconds',
	case when n % 4 <> 0 then now() - n * interval '20 minutes' + (n % 30) * interval '11 seconds' end,
	case when n % 4 = 0 then now() - n * interval '20 minutes' + interval '3 minutes' end
from generate_series(1, 144) n;
insert into public.messages (bot_id, conversation_id, external_id, role, content, sent_at, response_time_ms,
	success, intent)
select c.bot_id, c.id, c.external_id || '-' || k, (case when k = 1 then 'user' else 'bot' end)::public.message_role,
	case when k = 1 then 'question ' || n else 'answer ' || n end,
	c.started_at + (k - 1) * interval '2 seconds',
	case when k = 2 then 200 + (n * 53) % 2800 end, case when k = 2 then true end,
	case when k = 1 then (array['billing', 'shipping'])[1 + n % 2] end
from public.conversations c
cross join lateral (select substring(c.external_id from 11)::int n) x
cross join generate_series(1, 2) k
where c.external_id like 'fx-shared-%';
select private.run_hourly_rollup();

create temp table r as select now() - interval '2 days 1 hour' f, now() t;
grant select on r to authenticated;
-- Runs a statement as the current caller and counts its rows.
create function pg_temp.rows_of(p_sql text) returns bigint language plpgsql as $$
declare v bigint;
begin
	execute format('select count(*) from (%s) x', p_sql) into v;
	return v;
end $$;

-- What the raw rows say for: intent billing, not handed off, median reply in [1000, 2500] ms,
-- duration in [60, 300) s.
create temp table expected as
select c.id from public.conversations c
join public.conversation_metrics cm on cm.conversation_id = c.id
where c.external_id like 'fx-shared-%' and c.handed_off_at is null
	and exists (select 1 from public.messages m where m.conversation_id = c.id and m.intent = 'billing')
	and cm.response_p50_ms between 1000 and 2500
	and extract(epoch from coalesce(c.ended_at, c.last_message_at, c.started_at) - c.started_at) >= 60
	and extract(epoch from coalesce(c.ended_at, c.last_message_at, c.started_at) - c.started_at) < 300;
grant select on expected to authenticated;

select pg_temp.login('aaaaaaaa-0000-4000-8000-000000000003');
select ok((select count(*) from expected) between 1 and 40, 'the combined filters select some but not all');
create temp table built as
select private.explorer_sql('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t, 'started', null, null, null,
	'billing', false, 60, 300, 1000, 2500) s from r;
select is(pg_temp.rows_of((select s from built)), (select count(*) from expected),
	'intent + no handoff + duration + response time: the statement selects what the raw rows say');
select set_eq(format('select id from (%s) x', (select s from built)), 'select id from expected',
	'... exactly those conversations');
select is(
	(select public.count_explored_conversations('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t,
		p_intent => 'billing', p_handoff => false, p_min_duration_seconds => 60, p_max_duration_seconds => 300,
		p_min_response_ms => 1000, p_max_response_ms => 2500) from r),
	(select count(*) from expected), 'the list''s count runs the same statement');
select set_eq(
	$$select e.id from r, public.explore_conversations('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t,
		p_intent => 'billing', p_handoff => false, p_min_duration_seconds => 60, p_max_duration_seconds => 300,
		p_min_response_ms => 1000, p_max_response_ms => 2500, p_limit => 500) e$$,
	'select id from expected', 'the list pages run the same statement');

-- Values are quoted by the database, whatever they hold.
select is(pg_temp.rows_of((select private.explorer_sql('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t,
	'started', $q$x') or true or ('$q$, null, null, $q$' or 1=1 --$q$, null, null, null, null, null) from r)),
	0::bigint, 'quotes and SQL in search and intent are data: no match, no error');

-- Another tenant running A1's statement reads nothing: RLS decides, not the statement.
select pg_temp.logout();
select pg_temp.login('bbbbbbbb-0000-4000-8000-000000000001');
select is(pg_temp.rows_of((select private.explorer_sql('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t,
	'started', null, null, null, null, null, null, null, null, null) from r)), 0::bigint,
	'another tenant running the statement for A1 gets no row');
select is(pg_temp.rows_of((select private.explorer_sql('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t,
	'started', 'question', null, null, null, null, null, null, null, null) from r)), 0::bigint,
	'... nor through the full-text search');
select pg_temp.logout();
select pg_temp.login_anon();
select throws_ok(
	$$select private.explorer_sql('a1a1a1a1-0000-4000-8000-0000000000a1', now() - interval '1 day', now(),
		'started', null, null, null, null, null, null, null, null, null)$$,
	'42501', null, 'signed-out callers cannot build the statement');
select pg_temp.logout();
select pg_temp.login('aaaaaaaa-0000-4000-8000-000000000003');

-- Bad input says what to change.
select throws_ok(
	$$select private.explorer_sql('a1a1a1a1-0000-4000-8000-0000000000a1', now() - interval '1 day', now(),
		'sent', null, null, null, null, null, null, null, null, null)$$,
	'22023', 'Unknown p_by "sent": use started, ended or handed_off', 'an unknown timestamp names the valid ones');
select throws_ok(
	$$select private.explorer_sql('a1a1a1a1-0000-4000-8000-0000000000a1', now() - interval '1 day', now(),
		'started', null, null, null, null, null, -1, null, null, null)$$,
	'22023', 'Duration and response-time bounds cannot be negative', 'negative bounds are refused');
select throws_ok(
	$$select private.explorer_sql('a1a1a1a1-0000-4000-8000-0000000000a1', now(), now() - interval '1 day',
		'started', null, null, null, null, null, null, null, null, null)$$,
	'22023', null, 'an empty range is refused');

select * from finish();
rollback;

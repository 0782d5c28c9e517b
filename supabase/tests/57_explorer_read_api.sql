-- Explorer read API: keyset pages cover the filtered set exactly once in order for every sort;
-- the count equals the rows listed; started-at filters list exactly what export_conversations
-- exports; a chart bucket's drill-down (started, resolved by ended_at, handed off by
-- handed_off_at) counts exactly what bot_usage_series counted; other tenants see nothing; bad
-- input says what to fix.
begin;
select plan(24);
\ir fixtures.psql

-- Three days of traffic for bot A1: a conversation every 15 minutes; outcomes by n.
insert into public.conversations (bot_id, external_id, channel, end_user_id, status, started_at,
	last_message_at, ended_at, handed_off_at)
select 'a1a1a1a1-0000-4000-8000-0000000000a1', 'fx-explore-' || n,
	(case when n % 3 = 0 then 'whatsapp' else 'web' end)::public.channel, 'fx-u-' || (n % 13),
	(case when n % 5 = 0 then 'handed_off' when n % 5 = 1 then 'abandoned' when n % 5 = 2 then 'active' else 'completed' end)::public.conversation_status,
	now() - n * interval '15 minutes',
	now() - n * interval '15 minutes' + (n % 40) * interval '7 seconds',
	case when n % 5 in (1, 3, 4) then now() - n * interval '15 minutes' + (n % 40) * interval '7 seconds' end,
	case when n % 5 = 0 then now() - n * interval '15 minutes' + interval '50 minutes' end
from generate_series(1, 288) n;
insert into public.messages (bot_id, conversation_id, external_id, role, content, sent_at, response_time_ms,
	success, intent, model, tokens_in, tokens_out, cost_usd)
select c.bot_id, c.id, c.external_id || '-' || k, (case when k = 1 then 'user' else 'bot' end)::public.message_role,
	case when k = 1 then case when n % 4 = 0 then 'I want a refund for order ' || n else 'where is parcel ' || n end
		else 'Happy to help' end,
	c.started_at + (k - 1) * interval '2 seconds',
	case when k > 1 then 100 + (n * 37) % 3000 end, case when k > 1 then true end,
	case when k = 1 then (array['billing', 'shipping', 'other'])[1 + n % 3] end,
	case when k > 1 then 'gpt-4o-mini' end, 10, 5, 0.0001
from public.conversations c
cross join lateral (select substring(c.external_id from 12)::int n) x
cross join generate_series(1, 2) k
where c.external_id like 'fx-explore-%' and c.started_at + (k - 1) * interval '2 seconds' < now();
select private.run_hourly_rollup(), private.run_daily_rollup();

create temp table r as select now() - interval '3 days 1 hour' f, now() t;
grant select on r to authenticated;

select pg_temp.login('aaaaaaaa-0000-4000-8000-000000000003');

-- Every page of 7, following the cursor, for a sort and direction.
create function pg_temp.walk(p_sort text, p_dir text, p_query text default null, p_status text default null)
returns table (n integer, id uuid, sort_key text) language plpgsql as $$
declare
	v_key text; v_id uuid; v_n integer := 0; v_row record; v_got integer;
begin
	loop
		v_got := 0;
		for v_row in select e.id, e.sort_key from r, public.explore_conversations('a1a1a1a1-0000-4000-8000-0000000000a1',
			r.f, r.t, p_query => p_query, p_status => p_status, p_sort => p_sort, p_dir => p_dir,
			p_after_key => v_key, p_after_id => v_id, p_limit => 7) e
		loop
			v_n := v_n + 1; v_got := v_got + 1;
			n := v_n; id := v_row.id; sort_key := v_row.sort_key; return next;
			v_key := v_row.sort_key; v_id := v_row.id;
		end loop;
		exit when v_got < 7;
	end loop;
end $$;

select results_eq(
	$$select id from pg_temp.walk('started', 'desc') order by n$$,
	$$select c.id from r, public.export_conversations('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t) c
		order by c.started_at desc, c.id desc$$,
	'pages by start, newest first, list every conversation of the range once, in order');
select results_eq(
	$$select id from pg_temp.walk('duration', 'asc') order by n$$,
	$$select c.id from r, public.export_conversations('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t) c
		order by c.duration_seconds, c.id$$,
	'pages by duration, shortest first, list every conversation once, in order');
select results_eq(
	$$select id from pg_temp.walk('response', 'desc') order by n$$,
	$$select c.id from r, public.export_conversations('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t) c
		order by coalesce(c.response_p50_ms, -1) desc, c.id desc$$,
	'pages by median response time, slowest first, list every conversation once, in order');
select is((select count(*) from pg_temp.walk('started', 'desc')), 290::bigint,
	'the range holds the 288 new conversations and the two fixture ones');

select is(
	(select count(*) from pg_temp.walk('started', 'asc', 'refund', 'completed')),
	(select count(*) from r, public.export_conversations('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t,
		'completed', null, 'refund')),
	'search + status: the list has exactly the export''s rows');
select ok((select count(*) from pg_temp.walk('started', 'asc', 'refund', 'completed')) between 1 and 100,
	'the search narrows the list (some but not all conversations match)');
select set_eq(
	$$select id from pg_temp.walk('started', 'desc', 'refund order', null)$$,
	$$select c.id from r, public.export_conversations('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t,
		null, null, 'refund order') c$$,
	'web-search syntax over message content matches the export''s rows');

-- Counts equal the rows listed, whatever the filters.
select is(
	(select public.count_explored_conversations('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t,
		p_channel => 'whatsapp', p_intent => 'billing', p_handoff => false) from r),
	(select count(*) from r, public.explore_conversations('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t,
		p_channel => 'whatsapp', p_intent => 'billing', p_handoff => false, p_limit => 500)),
	'channel + intent + no handoff: the count equals the rows listed');
select is(
	(select count(*) from r, public.explore_conversations('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t,
		p_channel => 'whatsapp', p_intent => 'billing', p_handoff => false, p_limit => 500)),
	(select count(*) from public.conversations c where c.external_id like 'fx-explore-%'
		and c.channel = 'whatsapp' and c.handed_off_at is null
		and exists (select 1 from public.messages m where m.conversation_id = c.id and m.intent = 'billing')),
	'channel + intent + no handoff lists the conversations that have them');
select is(
	(select public.count_explored_conversations('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t,
		p_min_duration_seconds => 60, p_max_duration_seconds => 120) from r),
	(select count(*) from r, public.export_conversations('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t) c
		where c.duration_seconds >= 60 and c.duration_seconds < 120),
	'duration bounds are [min, max): a histogram bar''s drill-down counts exactly its conversations');
select is(
	(select public.count_explored_conversations('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t,
		p_min_response_ms => 1000, p_max_response_ms => 2000) from r),
	(select count(*) from r, public.export_conversations('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t) c
		where c.response_p50_ms between 1000 and 2000),
	'response-time bounds filter on the conversation''s median response time');

-- Drill-down: each chart bucket's value equals the count of its list.
create temp table buckets as
select s.bucket_start f, coalesce(lead(s.bucket_start) over (order by s.bucket_start), r.t) t,
	s.conversations, s.resolved_conversations, s.handed_off_conversations
from r, public.bot_usage_series('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t, 'hour') s;
select ok((select sum(resolved_conversations) > 0 and sum(handed_off_conversations) > 0 from buckets),
	'the chart has resolved and handed-off conversations to drill into');
select is(
	(select count(*) from buckets b where b.conversations <> public.count_explored_conversations(
		'a1a1a1a1-0000-4000-8000-0000000000a1', b.f, b.t)),
	0::bigint, 'every hour bucket: conversations = the list of conversations started in it');
select is(
	(select count(*) from buckets b where b.resolved_conversations <> public.count_explored_conversations(
		'a1a1a1a1-0000-4000-8000-0000000000a1', b.f, b.t, p_by => 'ended', p_status => 'completed')),
	0::bigint, 'every hour bucket: resolved = the list of completed conversations that ended in it');
select is(
	(select count(*) from buckets b where b.handed_off_conversations <> public.count_explored_conversations(
		'a1a1a1a1-0000-4000-8000-0000000000a1', b.f, b.t, p_by => 'handed_off')),
	0::bigint, 'every hour bucket: handed off = the list of conversations handed off in it');

-- Other tenants and signed-out callers.
select pg_temp.login('bbbbbbbb-0000-4000-8000-000000000001');
select is((select count(*) from r, public.explore_conversations('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t)),
	0::bigint, 'another tenant lists none of the bot''s conversations');
select is((select public.count_explored_conversations('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t) from r),
	0::bigint, 'another tenant counts none of them');
select is((select count(*) from private.explorer_search_ids('a1a1a1a1-0000-4000-8000-0000000000a1', 'refund')),
	0::bigint, 'the search helper (security definer) gives another tenant no conversation id');
select pg_temp.logout();
select pg_temp.login('aaaaaaaa-0000-4000-8000-000000000003');
select ok((select count(*) from private.explorer_search_ids('a1a1a1a1-0000-4000-8000-0000000000a1', 'refund')) > 0,
	'the search helper finds the member''s matches');
select pg_temp.logout();
select pg_temp.login_anon();
select throws_ok(
	$$select * from public.explore_conversations('a1a1a1a1-0000-4000-8000-0000000000a1', now() - interval '1 day', now())$$,
	'42501', null, 'signed-out callers cannot call the explorer');
select pg_temp.logout();
select pg_temp.login('aaaaaaaa-0000-4000-8000-000000000003');

-- Bad input says what to change.
select throws_ok(
	$$select * from public.explore_conversations('a1a1a1a1-0000-4000-8000-0000000000a1', now() - interval '1 day', now(), p_sort => 'cost')$$,
	'22023', 'Unknown sort "cost": use started, duration or response', 'an unknown sort names the valid ones');
select throws_ok(
	$$select * from public.explore_conversations('a1a1a1a1-0000-4000-8000-0000000000a1', now() - interval '1 day', now(), p_by => 'sent')$$,
	'22023', 'Unknown p_by "sent": use started, ended or handed_off', 'an unknown timestamp names the valid ones');
select throws_ok(
	$$select * from public.explore_conversations('a1a1a1a1-0000-4000-8000-0000000000a1', now() - interval '1 day', now(),
		p_sort => 'duration', p_after_key => 'yesterday', p_after_id => gen_random_uuid())$$,
	'22023', 'The page cursor does not fit sort "duration": start again from the first page',
	'a cursor from another sort is refused with what to do');
select throws_ok(
	$$select public.count_explored_conversations('a1a1a1a1-0000-4000-8000-0000000000a1', now() - interval '1 day', now(), p_channel => 'fax')$$,
	'22023', null, 'an unknown channel is refused');

select * from finish();
rollback;

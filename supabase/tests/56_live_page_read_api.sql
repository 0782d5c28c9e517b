-- Live page read API: the duration distribution counts conversations started in the range by
-- band [min, max), each band equals the conversations list filtered to it (search_conversations
-- with max - 0.001), other tenants see zeros and signed-out callers cannot call it.
begin;
select plan(8);
\ir fixtures.psql

-- Bot A1 has two one-minute conversations (fixtures); add two on the 30-second edge.
insert into public.conversations (id, bot_id, external_id, channel, status, started_at, last_message_at, ended_at)
values
	('ca1a1a1a-0000-4000-8000-0000000000e1', 'a1a1a1a1-0000-4000-8000-0000000000a1', 'fx-edge-1', 'web', 'completed',
		now() - interval '2 hours', now() - interval '2 hours' + interval '29.999 seconds', now() - interval '2 hours' + interval '29.999 seconds'),
	('ca1a1a1a-0000-4000-8000-0000000000e2', 'a1a1a1a1-0000-4000-8000-0000000000a1', 'fx-edge-2', 'web', 'completed',
		now() - interval '2 hours', now() - interval '2 hours' + interval '30 seconds', now() - interval '2 hours' + interval '30 seconds');

create temp table ranges as select now() - interval '1 day' f, now() t;
grant select on ranges to authenticated, anon;

select pg_temp.login('aaaaaaaa-0000-4000-8000-000000000003');
create temp table dist as
select d.* from ranges r, public.bot_duration_distribution('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t) d;

select is((select count(*)::integer from dist), 7, 'every band is returned, empty ones included');
select is(array(select conversations::integer from dist order by band), array[1, 1, 2, 0, 0, 0, 0],
	'29.999 s is under 30 s, 30 s starts the next band, one-minute conversations are in 1–2 min');
select is((select max_seconds from dist where band = 7), null, 'the last band is open-ended');
select is(
	(select sum(conversations)::bigint from dist),
	(select count(*) from ranges r, public.export_conversations('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t)),
	'the bands add up to the conversations the export lists for the range');
select is(
	array(select (select count(*) from ranges r, public.search_conversations('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t,
			p_min_duration_seconds => d.min_seconds, p_max_duration_seconds => d.max_seconds - 0.001, p_limit => 500))::integer
		from dist d where d.max_seconds is not null order by d.band),
	array(select conversations::integer from dist where max_seconds is not null order by band),
	'each closed band equals the conversations list filtered to [min, max - 1 ms]');

select pg_temp.login('bbbbbbbb-0000-4000-8000-000000000001');
select is(
	(select sum(d.conversations)::integer from ranges r, public.bot_duration_distribution('a1a1a1a1-0000-4000-8000-0000000000a1', r.f, r.t) d),
	0, 'another tenant''s owner counts nothing for a bot they cannot see');

select pg_temp.logout();
select pg_temp.login_anon();
select throws_ok(
	$$select * from public.bot_duration_distribution('a1a1a1a1-0000-4000-8000-0000000000a1', now() - interval '1 day', now())$$,
	'42501', null, 'signed-out callers cannot call it');

select pg_temp.logout();
select pg_temp.login('aaaaaaaa-0000-4000-8000-000000000003');
select throws_ok(
	$$select * from public.bot_duration_distribution('a1a1a1a1-0000-4000-8000-0000000000a1', now(), now() - interval '1 day')$$,
	'22023', null, 'an empty range is refused with a message saying what to change');

select * from finish();
rollback;

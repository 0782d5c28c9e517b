-- Raw events: conversations and messages of org B are invisible and untouchable for members
-- of org A; nobody inserts or updates raw rows through the API (ingest is the only writer, so
-- clients never choose ids nor skip its checks); owners and admins may delete; anonymous has no
-- access. Idempotency keys hold, a message cannot be filed under another bot's conversation,
-- and every raw value is bounded so no tenant can poison the rollups.
begin;
select plan(53);
\ir fixtures.psql

select pg_temp.login('aaaaaaaa-0000-4000-8000-000000000001');
select is((select count(*)::int from public.conversations where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1'), 2,
	'conversations: A sees its own');
select is_empty($$select 1 from public.conversations where bot_id = 'b1b1b1b1-0000-4000-8000-0000000000b1'$$,
	'conversations: A cannot see B''s');
select throws_ok($$insert into public.conversations (bot_id, external_id, started_at)
	values ('b1b1b1b1-0000-4000-8000-0000000000b1', 'forged', now())$$, '42501', null, 'conversations: A cannot insert into B');
select throws_ok($$update public.conversations set status = 'abandoned' where bot_id = 'b1b1b1b1-0000-4000-8000-0000000000b1'$$,
	'42501', null, 'conversations: A cannot update B''s');
select is_empty($$delete from public.conversations where bot_id = 'b1b1b1b1-0000-4000-8000-0000000000b1' returning 1$$,
	'conversations: A cannot delete B''s');
select throws_ok($$update public.conversations set bot_id = 'b1b1b1b1-0000-4000-8000-0000000000b1'
	where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1'$$, '42501', null, 'conversations: A cannot move its rows into B');

select is((select count(*)::int from public.messages where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1'), 4,
	'messages: A sees its own');
select is_empty($$select 1 from public.messages where bot_id = 'b1b1b1b1-0000-4000-8000-0000000000b1'$$,
	'messages: A cannot see B''s');
select throws_ok($$insert into public.messages (bot_id, conversation_id, external_id, role, sent_at)
	values ('b1b1b1b1-0000-4000-8000-0000000000b1', (select id from public.conversations where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' limit 1), 'forged', 'user', now())$$,
	'42501', null, 'messages: A cannot insert into B');
select throws_ok($$update public.messages set content = 'x' where bot_id = 'b1b1b1b1-0000-4000-8000-0000000000b1'$$,
	'42501', null, 'messages: A cannot update B''s');
select is_empty($$delete from public.messages where bot_id = 'b1b1b1b1-0000-4000-8000-0000000000b1' returning 1$$,
	'messages: A cannot delete B''s');
select throws_ok($$insert into public.conversations (id, bot_id, external_id, started_at)
	values ('c0000000-0000-4000-8000-0000000000ff', 'a1a1a1a1-0000-4000-8000-0000000000a1', 'owner-made', now())$$,
	'42501', null, 'conversations: not even the owner inserts raw rows (or picks their id) through the API');
select throws_ok($$update public.conversations set ended_at = '-infinity'
	where external_id = 'fx-conv-2' and bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1'$$,
	'42501', null, 'conversations: not even the owner updates raw rows through the API');
select throws_ok($$insert into public.messages (bot_id, conversation_id, external_id, role, sent_at, cost_usd)
	select bot_id, id, 'owner-made', 'bot', now(), 99999999 from public.conversations where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' limit 1$$,
	'42501', null, 'messages: not even the owner inserts raw rows through the API');
select throws_ok($$update public.messages set cost_usd = 99999999 where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1'$$,
	'42501', null, 'messages: not even the owner updates raw rows through the API');
select isnt_empty($$delete from public.messages where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' and external_id = 'fx-conv-2-bot' returning 1$$,
	'messages: the owner can delete its own');
select isnt_empty($$select 1 from public.search_conversations('a1a1a1a1-0000-4000-8000-0000000000a1', now() - interval '1 day', now(), 'parcel')$$,
	'search: full text finds A''s conversation');
select is_empty($$select 1 from public.search_conversations('b1b1b1b1-0000-4000-8000-0000000000b1', now() - interval '1 day', now(), 'parcel')$$,
	'search: A finds nothing of B');
select is_empty($$select 1 from public.export_messages('b1b1b1b1-0000-4000-8000-0000000000b1', now() - interval '1 day', now())$$,
	'export: A exports nothing of B');

select pg_temp.login('aaaaaaaa-0000-4000-8000-000000000003');
select is((select count(*)::int from public.messages where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1'), 3,
	'viewer: reads messages (all but the one the owner deleted)');
select throws_ok($$insert into public.conversations (bot_id, external_id, started_at)
	values ('a1a1a1a1-0000-4000-8000-0000000000a1', 'viewer-made', now())$$, '42501', null, 'viewer: cannot insert conversations');
select throws_ok($$update public.conversations set status = 'abandoned'$$, '42501', null, 'viewer: cannot update conversations');
select is_empty($$delete from public.conversations returning 1$$, 'viewer: cannot delete conversations');
select throws_ok($$insert into public.messages (bot_id, conversation_id, external_id, role, sent_at)
	select bot_id, id, 'viewer-made', 'user', now() from public.conversations limit 1$$, '42501', null, 'viewer: cannot insert messages');
select throws_ok($$update public.messages set content = 'x'$$, '42501', null, 'viewer: cannot update messages');
select is_empty($$delete from public.messages returning 1$$, 'viewer: cannot delete messages');

select pg_temp.login_anon();
select throws_ok($$select 1 from public.conversations$$, '42501', null, 'anon: has no access to conversations at all');
select throws_ok($$select 1 from public.messages$$, '42501', null, 'anon: has no access to messages at all');
select throws_ok($$insert into public.conversations (bot_id, external_id, started_at)
	values ('a1a1a1a1-0000-4000-8000-0000000000a1', 'anon', now())$$, '42501', null, 'anon: cannot insert conversations');
select throws_ok($$update public.messages set content = 'x'$$, '42501', null, 'anon: cannot update messages');
select throws_ok($$delete from public.conversations$$, '42501', null, 'anon: cannot delete conversations');
select pg_temp.logout();

-- Idempotency and integrity hold for every writer, the ingest function included.
select throws_ok($$insert into public.conversations (bot_id, external_id, started_at)
	values ('a1a1a1a1-0000-4000-8000-0000000000a1', 'fx-conv-1', now())$$, '23505', null,
	'conversations: the bot''s own id is unique per bot');
select lives_ok($$insert into public.conversations (bot_id, external_id, started_at)
	values ('b1b1b1b1-0000-4000-8000-0000000000b1', 'fx-conv-1-copy', now())
	on conflict (bot_id, external_id) do nothing$$, 'conversations: on conflict do nothing makes retries idempotent');
select throws_ok($$insert into public.messages (bot_id, conversation_id, external_id, role, sent_at)
	select bot_id, conversation_id, external_id, role, sent_at from public.messages where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' limit 1$$,
	'23505', null, 'messages: the bot''s own event id is unique per bot');
select throws_ok($$insert into public.messages (bot_id, conversation_id, external_id, role, sent_at)
	values ('a1a1a1a1-0000-4000-8000-0000000000a1', (select id from public.conversations where bot_id = 'b1b1b1b1-0000-4000-8000-0000000000b1' limit 1), 'cross', 'user', now())$$,
	'23503', null, 'messages: cannot belong to another bot''s conversation');
select ok((select relreplident = 'f' from pg_class where oid = 'public.conversations'::regclass)
	and exists (select 1 from pg_publication_tables where pubname = 'supabase_realtime' and tablename = 'messages')
	and exists (select 1 from pg_publication_tables where pubname = 'supabase_realtime' and tablename = 'conversations'),
	'realtime: both tables are published, conversations with replica identity full');

-- ---------------------------------------------------------------- bounds (every writer, ingest included)
-- An insert of one bot reply with one column set to a value (sent_at is now() unless it is the column).
create function pg_temp.msg(p_col text, p_value text) returns text language sql as $f$
	select format('insert into public.messages (bot_id, conversation_id, external_id, role, sent_at, %I)
		select bot_id, id, %L, ''bot'', %s, %s from public.conversations
		where bot_id = ''a1a1a1a1-0000-4000-8000-0000000000a1'' limit 1',
		case when p_col = 'sent_at' then 'tokens_in' else p_col end, 'bound-' || p_col || p_value,
		case when p_col = 'sent_at' then p_value else 'now()' end, case when p_col = 'sent_at' then '0' else p_value end)
$f$;
select throws_ok(pg_temp.msg('cost_usd', '99999999'), '23514', null, 'bounds: a message costing $99,999,999 is refused');
select throws_ok(pg_temp.msg('cost_usd', '1000.000001'), '23514', null, 'bounds: cost above $1,000 per message is refused');
select lives_ok(pg_temp.msg('cost_usd', '1000'), 'bounds: cost of exactly $1,000 is accepted');
select throws_ok(pg_temp.msg('tokens_in', '10000001'), '23514', null, 'bounds: more than 10M prompt tokens is refused');
select throws_ok(pg_temp.msg('tokens_out', '-1'), '23514', null, 'bounds: negative completion tokens are refused');
select throws_ok(pg_temp.msg('response_time_ms', '86400001'), '23514', null, 'bounds: a response time over a day is refused');
select throws_ok(pg_temp.msg('model', $$''$$), '23514', null, 'bounds: an empty model name is refused');
select throws_ok(pg_temp.msg('sent_at', $$'-infinity'$$), '23514', null, 'bounds: a message at -infinity is refused');
select throws_ok(pg_temp.msg('sent_at', $$now() + interval '2 hours'$$), '23514', null, 'bounds: a message two hours in the future is refused');
select throws_ok(pg_temp.msg('sent_at', $$'1999-12-31T23:59:59Z'$$), '23514', null, 'bounds: a message before 2000 is refused');
select throws_ok($$update public.conversations set ended_at = '-infinity' where external_id = 'fx-conv-2'$$, '23514', null,
	'bounds: a conversation cannot end at -infinity');
select throws_ok($$update public.conversations set started_at = 'infinity' where external_id = 'fx-conv-2'$$, '23514', null,
	'bounds: a conversation cannot start at infinity');
select throws_ok($$update public.conversations set metadata = jsonb_build_object('x', repeat('y', 17000)) where external_id = 'fx-conv-2'$$,
	'23514', null, 'bounds: conversation metadata over 16 KiB is refused');
select throws_ok($$update public.conversations set metadata = '[1]' where external_id = 'fx-conv-2'$$,
	'23514', null, 'bounds: conversation metadata is a JSON object');

-- Conversation ids are time-ordered (version 7), so indexes keyed by them grow at their end.
insert into public.conversations (bot_id, external_id, started_at)
values ('a1a1a1a1-0000-4000-8000-0000000000a1', 'v7-check', now());
select is((select substring(id::text, 15, 1) || substring(id::text, 20, 1) ~ '^7[89ab]$'
		from public.conversations where external_id = 'v7-check'), true,
	'ids: a new conversation gets a version 7 uuid (RFC 9562 version and variant bits)');
select ok((select abs(('x' || lpad(replace(left(id::text, 13), '-', ''), 16, '0'))::bit(64)::bigint
		- floor(extract(epoch from clock_timestamp()) * 1000)::bigint) < 60000
	from public.conversations where external_id = 'v7-check'),
	'ids: its first 48 bits are the time it was created, in Unix milliseconds');
select is((select bool_and(id >= lag_id) from (
		select id, lag(id) over (order by n) lag_id
		from (select n, private.uuid_v7() id from generate_series(1, 20000) n) g) x
	where left(id::text, 13) <> left(lag_id::text, 13)), true,
	'ids: an id made later sorts after an earlier one (whenever the millisecond differs)');

select * from finish();
rollback;

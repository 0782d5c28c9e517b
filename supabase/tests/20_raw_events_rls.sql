-- Raw events: conversations and messages of org B are invisible and untouchable for members
-- of org A; viewers read but never write; owners and admins may correct; anonymous sees nothing.
-- Idempotency keys hold, and a message cannot be filed under another bot's conversation.
begin;
select plan(32);
\ir fixtures.psql

select pg_temp.login('aaaaaaaa-0000-4000-8000-000000000001');
select is((select count(*)::int from public.conversations where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1'), 2,
	'conversations: A sees its own');
select is_empty($$select 1 from public.conversations where bot_id = 'b1b1b1b1-0000-4000-8000-0000000000b1'$$,
	'conversations: A cannot see B''s');
select throws_ok($$insert into public.conversations (bot_id, external_id, started_at)
	values ('b1b1b1b1-0000-4000-8000-0000000000b1', 'forged', now())$$, '42501', null, 'conversations: A cannot insert into B');
select is_empty($$update public.conversations set status = 'abandoned' where bot_id = 'b1b1b1b1-0000-4000-8000-0000000000b1' returning 1$$,
	'conversations: A cannot update B''s');
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
select is_empty($$update public.messages set content = 'x' where bot_id = 'b1b1b1b1-0000-4000-8000-0000000000b1' returning 1$$,
	'messages: A cannot update B''s');
select is_empty($$delete from public.messages where bot_id = 'b1b1b1b1-0000-4000-8000-0000000000b1' returning 1$$,
	'messages: A cannot delete B''s');
select isnt_empty($$update public.conversations set status = 'handed_off', handed_off_at = now()
	where external_id = 'fx-conv-2' and bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' returning 1$$,
	'conversations: the owner can correct its own');
select isnt_empty($$select 1 from public.search_conversations('a1a1a1a1-0000-4000-8000-0000000000a1', now() - interval '1 day', now(), 'parcel')$$,
	'search: full text finds A''s conversation');
select is_empty($$select 1 from public.search_conversations('b1b1b1b1-0000-4000-8000-0000000000b1', now() - interval '1 day', now(), 'parcel')$$,
	'search: A finds nothing of B');
select is_empty($$select 1 from public.export_messages('b1b1b1b1-0000-4000-8000-0000000000b1', now() - interval '1 day', now())$$,
	'export: A exports nothing of B');

select pg_temp.login('aaaaaaaa-0000-4000-8000-000000000003');
select is((select count(*)::int from public.messages where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1'), 4,
	'viewer: reads messages');
select throws_ok($$insert into public.conversations (bot_id, external_id, started_at)
	values ('a1a1a1a1-0000-4000-8000-0000000000a1', 'viewer-made', now())$$, '42501', null, 'viewer: cannot insert conversations');
select is_empty($$update public.conversations set status = 'abandoned' returning 1$$, 'viewer: cannot update conversations');
select is_empty($$delete from public.conversations returning 1$$, 'viewer: cannot delete conversations');
select throws_ok($$insert into public.messages (bot_id, conversation_id, external_id, role, sent_at)
	select bot_id, id, 'viewer-made', 'user', now() from public.conversations limit 1$$, '42501', null, 'viewer: cannot insert messages');
select is_empty($$update public.messages set content = 'x' returning 1$$, 'viewer: cannot update messages');
select is_empty($$delete from public.messages returning 1$$, 'viewer: cannot delete messages');

select pg_temp.login_anon();
select is_empty($$select 1 from public.conversations$$, 'anon: sees no conversations');
select is_empty($$select 1 from public.messages$$, 'anon: sees no messages');
select throws_ok($$insert into public.conversations (bot_id, external_id, started_at)
	values ('a1a1a1a1-0000-4000-8000-0000000000a1', 'anon', now())$$, '42501', null, 'anon: cannot insert conversations');
select is_empty($$update public.messages set content = 'x' returning 1$$, 'anon: cannot update messages');
select is_empty($$delete from public.conversations returning 1$$, 'anon: cannot delete conversations');
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

select * from finish();
rollback;

-- Raw events: conversations and their messages as bots report them through `ingest`.
--
-- Idempotency: a bot's own event ids are unique per bot, so a retried or concurrent batch can
-- `insert ... on conflict (bot_id, external_id) do nothing` on both tables.
--
-- Volume: messages are ordered by time on disk (append-mostly), so a BRIN index on sent_at
-- serves retention and the rollups' time windows for a few pages. Messages are deliberately
-- not declaratively partitioned: Realtime's logical decoding (wal2json) reports a partition's
-- own name, not its parent's, so postgres_changes on a partitioned `messages` would never reach
-- subscribers. Retention therefore deletes old rows in bounded batches (see the retention
-- migration) instead of dropping partitions.
--
-- Realtime: both tables are in publication supabase_realtime. conversations has replica
-- identity full so UPDATE/DELETE events carry bot_id (the feed's filter) and the old status;
-- messages are insert-only for the feed and keep the default identity (primary key), which
-- also keeps retention deletes cheap in WAL.
--
-- For the ingest function: conversations.last_message_at / ended_at / handed_off_at / status
-- are set by the writer (no per-row triggers here, to keep ingest to one round trip).
--
-- Bounds: every raw value is checked here (cost, tokens, latency, lengths, metadata size, and
-- times between 2000-01-01 and one hour after the row was written), so that no tenant's data
-- can overflow or poison the rollups. Ingest validates the same bounds per event first; the
-- API roles cannot insert or update raw rows at all (ingest is the only writer), so clients
-- never choose ids nor skip ingest's checks. Owners and admins may still delete raw rows.

-- =====================================================================================
-- conversations
-- =====================================================================================
-- Conversation ids are time-ordered (RFC 9562 version 7: 48 bits of Unix milliseconds, then 74
-- random bits), not random (version 4): every index keyed by a conversation id (this primary key,
-- the messages' (conversation_id, bot_id, sent_at), conversation_metrics' (bot_id,
-- conversation_id)) then grows at its end as conversations arrive, instead of writing a random
-- page of an index far larger than memory at 10M messages (and, after each checkpoint, a full
-- page image of it into the WAL). The random part still makes an id unguessable; the time it
-- reveals is the conversation's start, which every reader of the row sees anyway.
create or replace function private.uuid_v7()
returns uuid
language sql
volatile
parallel safe
set search_path = ''
as $$
	-- A version 4 uuid with its first 6 bytes replaced by the time, and its version nibble turned
	-- from 0100 into 0111 (bits 52 and 53, counted from the least significant bit of byte 0).
	select encode(
		set_bit(set_bit(
			overlay(uuid_send(gen_random_uuid())
				placing substring(int8send(floor(extract(epoch from clock_timestamp()) * 1000)::bigint) from 3)
				from 1 for 6),
			52, 1), 53, 1),
		'hex')::uuid
$$;
comment on function private.uuid_v7() is 'A time-ordered uuid (RFC 9562 version 7) for conversation ids.';
revoke execute on function private.uuid_v7() from public, anon;
grant execute on function private.uuid_v7() to service_role;

create table public.conversations (
	id uuid primary key default private.uuid_v7(),
	bot_id uuid not null references public.bots (id) on delete cascade,
	external_id text not null check (length(external_id) between 1 and 200),
	channel public.channel not null default 'web',
	end_user_id text check (length(end_user_id) <= 200),
	status public.conversation_status not null default 'active',
	started_at timestamptz not null,
	last_message_at timestamptz,
	ended_at timestamptz,
	handed_off_at timestamptz,
	metadata jsonb not null default '{}'::jsonb
		check (jsonb_typeof(metadata) = 'object' and octet_length(metadata::text) <= 16384),
	created_at timestamptz not null default now()
		check (created_at >= '2000-01-01T00:00:00Z' and created_at < '2100-01-01T00:00:00Z'),
	updated_at timestamptz not null default now()
		check (updated_at >= '2000-01-01T00:00:00Z' and updated_at < '2100-01-01T00:00:00Z'),
	unique (bot_id, external_id),
	unique (id, bot_id),
	-- Event times as the bot reports them: after 2000 and never far ahead of when they arrived.
	constraint conversations_started_at_window
		check (started_at >= '2000-01-01T00:00:00Z' and started_at <= created_at + interval '1 hour'),
	constraint conversations_last_message_at_window
		check (last_message_at >= '2000-01-01T00:00:00Z' and last_message_at <= updated_at + interval '1 hour'),
	constraint conversations_ended_at_window
		check (ended_at >= '2000-01-01T00:00:00Z' and ended_at <= updated_at + interval '1 hour'),
	constraint conversations_handed_off_at_window
		check (handed_off_at >= '2000-01-01T00:00:00Z' and handed_off_at <= updated_at + interval '1 hour')
);
comment on table public.conversations is
	'One conversation between a bot and an end user, as reported by the bot (raw; kept for the organization''s retention days).';
comment on column public.conversations.id is 'Conversation id.';
comment on column public.conversations.bot_id is 'The bot that had the conversation.';
comment on column public.conversations.external_id is
	'The bot''s own id for the conversation; unique per bot, so re-sent events are idempotent.';
comment on column public.conversations.channel is
	'Where it happened: web, whatsapp, messenger, telegram, slack, sms, voice or api.';
comment on column public.conversations.end_user_id is 'The bot''s id for the end user (opaque, may be null).';
comment on column public.conversations.status is
	'active, completed (resolved by the bot), abandoned (user left) or handed_off (to a human).';
comment on column public.conversations.started_at is 'When the conversation started (bot''s clock).';
comment on column public.conversations.last_message_at is 'Time of the latest message.';
comment on column public.conversations.ended_at is 'When it completed or was abandoned.';
comment on column public.conversations.handed_off_at is 'When it was handed off to a human agent.';
comment on column public.conversations.metadata is 'Free-form attributes the bot attached (a JSON object, at most 16 KiB).';
comment on column public.conversations.created_at is 'When the row was first ingested.';
comment on column public.conversations.updated_at is 'When the row was last changed by ingest.';

-- The dashboard lists a bot's conversations by start time (id breaks ties, for the explorer's
-- keyset pages) and its active ones by recency.
create index conversations_bot_id_started_at_id_idx on public.conversations (bot_id, started_at, id);
create index conversations_active_idx on public.conversations (bot_id, last_message_at)
	where status = 'active';

-- =====================================================================================
-- messages
-- =====================================================================================
create table public.messages (
	id bigint generated always as identity primary key,
	bot_id uuid not null,
	conversation_id uuid not null,
	external_id text not null check (length(external_id) between 1 and 200),
	role public.message_role not null,
	content text not null default '' check (length(content) <= 32768),
	sent_at timestamptz not null,
	ingested_at timestamptz not null default now()
		check (ingested_at >= '2000-01-01T00:00:00Z' and ingested_at < '2100-01-01T00:00:00Z'),
	-- Realistic bounds (a day-long reply, 10M tokens, $1,000 per message): the rollups' sums
	-- cannot overflow with values inside them.
	response_time_ms integer check (response_time_ms between 0 and 86400000),
	success boolean,
	error_code text check (length(error_code) between 1 and 100),
	intent text check (length(intent) between 1 and 100),
	model text check (length(model) between 1 and 100),
	tokens_in integer not null default 0 check (tokens_in between 0 and 10000000),
	tokens_out integer not null default 0 check (tokens_out between 0 and 10000000),
	cost_usd numeric(14, 6) not null default 0 check (cost_usd between 0 and 1000),
	search_vector tsvector generated always as (to_tsvector('simple'::regconfig, content)) stored,
	unique (bot_id, external_id),
	constraint messages_sent_at_window
		check (sent_at >= '2000-01-01T00:00:00Z' and sent_at <= ingested_at + interval '1 hour'),
	-- One composite key proves both that the conversation exists and that it is this bot's,
	-- which keeps bot_id trustworthy for RLS at the cost of a single index probe.
	foreign key (conversation_id, bot_id) references public.conversations (id, bot_id) on delete cascade
);
comment on table public.messages is
	'Every message of every conversation (raw; kept for the organization''s retention days).';
comment on column public.messages.id is 'Message id (ascending in ingest order).';
comment on column public.messages.bot_id is 'The bot (copied from the conversation, which the foreign key checks) for RLS and indexes.';
comment on column public.messages.conversation_id is 'The conversation it belongs to.';
comment on column public.messages.external_id is
	'The bot''s own event id; unique per bot, so re-sent events are idempotent.';
comment on column public.messages.role is 'Who wrote it: user, bot, agent (human) or system.';
comment on column public.messages.content is 'Message text (up to 32 KiB).';
comment on column public.messages.sent_at is
	'When it was sent (bot''s clock; after 2000 and at most an hour after ingested_at); all metrics use this time.';
comment on column public.messages.ingested_at is 'When the platform received it.';
comment on column public.messages.response_time_ms is
	'For bot replies: milliseconds between the user message and this reply (at most a day).';
comment on column public.messages.success is
	'For bot replies: true when the bot answered, false when it failed (see error_code).';
comment on column public.messages.error_code is 'Failure reason reported by the bot, when success is false.';
comment on column public.messages.intent is 'Detected intent, e.g. order_status.';
comment on column public.messages.model is 'LLM that produced the reply, e.g. gpt-4o-mini.';
comment on column public.messages.tokens_in is 'Prompt tokens spent on this message (at most 10 million).';
comment on column public.messages.tokens_out is 'Completion tokens spent on this message (at most 10 million).';
comment on column public.messages.cost_usd is 'Cost of this message in US dollars (at most 1,000).';
comment on column public.messages.search_vector is 'Full-text index of content (simple configuration, any language).';

-- Only what the dashboard and rollups read: a bot's time range, a transcript, time windows
-- across bots (BRIN, a few pages for any size), and full-text search. The time range carries
-- the conversation: the cards' active-conversation counts then read the index alone (once
-- vacuum has marked the pages visible), not a heap page per message.
create index messages_bot_id_sent_at_idx on public.messages (bot_id, sent_at) include (conversation_id);
create index messages_conversation_id_sent_at_idx on public.messages (conversation_id, bot_id, sent_at);
create index messages_sent_at_brin on public.messages using brin (sent_at) with (pages_per_range = 32);
create index messages_search_vector_idx on public.messages using gin (search_vector);

-- =====================================================================================
-- Row level security: members read; owners and admins may delete; only ingest writes
-- =====================================================================================
alter table public.conversations enable row level security;
alter table public.messages enable row level security;

create policy "Conversations are visible to members of the bot's organization"
	on public.conversations for select to authenticated
	using (bot_id = any (array(select private.readable_bot_ids())));
create policy "Owners and admins can delete conversations of their bots"
	on public.conversations for delete to authenticated
	using (bot_id = any (array(select private.managed_bot_ids())));

create policy "Messages are visible to members of the bot's organization"
	on public.messages for select to authenticated
	using (bot_id = any (array(select private.readable_bot_ids())));
create policy "Owners and admins can delete messages of their bots"
	on public.messages for delete to authenticated
	using (bot_id = any (array(select private.managed_bot_ids())));

-- No insert or update policy and no privilege either: raw events enter through ingest only.
revoke insert, update on public.conversations, public.messages from anon, authenticated;

-- =====================================================================================
-- Realtime
-- =====================================================================================
alter table public.conversations replica identity full;
alter publication supabase_realtime add table public.conversations, public.messages;

-- Ingest: the SQL behind the `ingest` Edge Function, and the per-bot rate limit.
--
-- Two calls per request, cheapest first:
-- 1. private.ingest_admit(key_hash), before the body is read: authenticates the bot API key by
--    its SHA-256 (hex) and takes one request from the bot's bucket (an atomic update, so
--    concurrent requests cannot all pass). A bad key is refused whatever the body holds.
-- 2. private.ingest_events(key_hash, events, event_count), after validation: writes the whole
--    batch and answers which events it accepted (the others were duplicates) in one round
--    trip, then takes the batch's events from the bucket as its last statement, so the bucket
--    row stays locked only for the commit; a batch over the rate raises 'BF429' and writes
--    nothing.
-- Idempotency rests on the unique (bot_id, external_id) keys of conversations and messages with
-- `on conflict do nothing`, so a retried or concurrent identical batch never writes a row twice.
-- Lifecycle events (started / ended / handed off) are duplicates when they teach nothing new.
--
-- Rate: two token buckets per bot (not per key: more keys buy no more rate), one counting
-- requests and one counting events. Defaults: 50 requests/s with bursts of 100, so a bot that
-- sends each message as it happens keeps up at 50 messages/s; and 2,000 events/s with bursts
-- of 10,000, so a batching client sends two full batches (1,000 events) a second, ten back to
-- back. An admin changes a bot's limits by updating its row in private.ingest_rate_limits.

-- =====================================================================================
-- Rate limit per bot
-- =====================================================================================
create table private.ingest_rate_limits (
	bot_id uuid primary key references public.bots (id) on delete cascade,
	requests_per_second numeric not null default 50 check (requests_per_second > 0),
	request_burst integer not null default 100 check (request_burst >= 1),
	events_per_second numeric not null default 2000 check (events_per_second > 0),
	-- A full batch (1,000 events) must always fit, or it could never be admitted.
	event_burst integer not null default 10000 check (event_burst >= 1000),
	request_tokens numeric,
	event_tokens numeric,
	refilled_at timestamptz not null default now()
);
comment on table private.ingest_rate_limits is
	'Token buckets of each bot for the ingest endpoint: one for requests, one for events. Shared by all the bot''s API keys.';
comment on column private.ingest_rate_limits.bot_id is 'The bot.';
comment on column private.ingest_rate_limits.requests_per_second is 'Refill rate of the request bucket: sustained requests per second.';
comment on column private.ingest_rate_limits.request_burst is 'Size of the request bucket: requests allowed back to back.';
comment on column private.ingest_rate_limits.events_per_second is 'Refill rate of the event bucket: sustained events per second.';
comment on column private.ingest_rate_limits.event_burst is 'Size of the event bucket: events allowed back to back (at least one full batch).';
comment on column private.ingest_rate_limits.request_tokens is 'Requests left at refilled_at (null: full).';
comment on column private.ingest_rate_limits.event_tokens is 'Events left at refilled_at (null: full).';
comment on column private.ingest_rate_limits.refilled_at is 'When the token counts were last computed.';

-- Tokens in a bucket at time p_at (refilled since refilled_at, capped at the burst).
create or replace function private.ingest_tokens(
	p_tokens numeric, p_burst integer, p_per_second numeric, p_refilled_at timestamptz, p_at timestamptz)
returns numeric
language sql
immutable
set search_path = ''
as $$
	select least(p_burst, coalesce(p_tokens, p_burst)
		+ greatest(0, extract(epoch from p_at - p_refilled_at)) * p_per_second)
$$;
comment on function private.ingest_tokens(numeric, integer, numeric, timestamptz, timestamptz) is
	'Ingest rate limit: tokens in a bucket at a given time, after refilling since the last debit.';
revoke execute on function private.ingest_tokens(numeric, integer, numeric, timestamptz, timestamptz)
	from public, anon, authenticated;

-- =====================================================================================
-- The validated event, as the Edge Function sends it (i = index in the request)
-- =====================================================================================
create type private.ingest_event as (
	i integer,
	type text,
	conversation_id text,
	"timestamp" timestamptz,
	message_id text,
	role public.message_role,
	content text,
	response_time_ms integer,
	success boolean,
	error_code text,
	intent text,
	model text,
	tokens_in integer,
	tokens_out integer,
	cost_usd numeric,
	channel public.channel,
	end_user_id text,
	status public.conversation_status,
	reason text
);
comment on type private.ingest_event is 'One ingest event after validation by the Edge Function.';

-- =====================================================================================
-- 1. Admission: the key, and one request from the bot's bucket
-- =====================================================================================
create or replace function private.ingest_admit(p_key_hash text)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
	v_key_id uuid;
	v_bot_id uuid;
	v_last_used timestamptz;
	v_retention integer;
	v_admitted boolean := false;
	v_retry numeric;
begin
	select k.id, k.bot_id, k.last_used_at, o.retention_days into v_key_id, v_bot_id, v_last_used, v_retention
	from public.bot_api_keys k
	join public.bots b on b.id = k.bot_id
	join public.organizations o on o.id = b.organization_id
	where k.key_hash = decode(p_key_hash, 'hex') and k.revoked_at is null;
	if v_key_id is null then
		return jsonb_build_object('error', 'invalid_key');
	end if;

	-- The row lock serialises concurrent requests of one bot for this short statement only:
	-- each sees the tokens the previous one left.
	for attempt in 1..2 loop
		update private.ingest_rate_limits r
		set request_tokens = private.ingest_tokens(r.request_tokens, r.request_burst,
				r.requests_per_second, r.refilled_at, now()) - 1,
			event_tokens = private.ingest_tokens(r.event_tokens, r.event_burst,
				r.events_per_second, r.refilled_at, now()),
			refilled_at = greatest(r.refilled_at, now())
		where r.bot_id = v_bot_id
			and private.ingest_tokens(r.request_tokens, r.request_burst, r.requests_per_second,
				r.refilled_at, now()) >= 1
			-- An empty event bucket refuses before the body is read, too.
			and private.ingest_tokens(r.event_tokens, r.event_burst, r.events_per_second,
				r.refilled_at, now()) >= 1;
		v_admitted := found;
		exit when v_admitted or attempt = 2;
		-- A bot's first request creates its bucket (full), then debits it; when another request
		-- creates it meanwhile, this waits for that one and debits the row it made.
		insert into private.ingest_rate_limits (bot_id) values (v_bot_id) on conflict do nothing;
	end loop;
	if not v_admitted then
		select greatest(
				(1 - private.ingest_tokens(r.request_tokens, r.request_burst, r.requests_per_second,
					r.refilled_at, now())) / r.requests_per_second,
				(1 - private.ingest_tokens(r.event_tokens, r.event_burst, r.events_per_second,
					r.refilled_at, now())) / r.events_per_second)
		into v_retry
		from private.ingest_rate_limits r where r.bot_id = v_bot_id;
		return jsonb_build_object('error', 'rate_limited', 'retry_after', coalesce(v_retry, 1));
	end if;

	-- At most one write a minute per key keeps hot keys from contending on one row.
	if v_last_used is null or v_last_used < now() - interval '1 minute' then
		update public.bot_api_keys set last_used_at = now() where id = v_key_id;
	end if;
	-- The organization's retention bounds how old an accepted event may be (see the function).
	return jsonb_build_object('bot_id', v_bot_id, 'retention_days', v_retention);
end
$$;
comment on function private.ingest_admit(text) is
	'Ingest, before the body is read: checks the API key (SHA-256 hex) and takes one request from its bot''s rate limit.';
revoke execute on function private.ingest_admit(text) from public, anon, authenticated;
grant execute on function private.ingest_admit(text) to service_role;

-- =====================================================================================
-- 2. The batch: written whole, then its events taken from the bot's bucket
-- =====================================================================================
create or replace function private.ingest_events(p_key_hash text, p_events jsonb, p_event_count integer)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
	v_bot_id uuid;
	v_channel public.channel;
	v_retry numeric;
	v_accepted integer[] := '{}';
	v_part integer[];
	v_created text[];
	v_events private.ingest_event[];
	v_types text[];
	v_inserted jsonb;
begin
	-- Checked again in the writing transaction, so a key revoked meanwhile writes nothing.
	select k.bot_id, b.channel into v_bot_id, v_channel
	from public.bot_api_keys k
	join public.bots b on b.id = k.bot_id
	where k.key_hash = decode(p_key_hash, 'hex') and k.revoked_at is null;
	if v_bot_id is null then
		return jsonb_build_object('error', 'invalid_key');
	end if;

	-- Parsed once; each statement below reads the array, and skips when its type is absent.
	v_events := array(select jsonb_populate_recordset(null::private.ingest_event, p_events));
	select coalesce(array_agg(distinct e.type), '{}') into v_types from unnest(v_events) e;

	-- Every conversation the batch mentions exists afterwards; a start event supplies its details.
	with ev as (select * from unnest(v_events)),
	mentioned as (
		select e.conversation_id,
			min(e."timestamp") as first_seen,
			(array_agg(e.channel order by e.i) filter (where e.channel is not null))[1] as channel,
			(array_agg(e.end_user_id order by e.i) filter (where e.end_user_id is not null))[1] as end_user_id
		from ev e group by e.conversation_id
	),
	started as (
		select distinct on (e.conversation_id) e.conversation_id, e."timestamp", e.channel, e.end_user_id
		from ev e where e.type = 'conversation_started' order by e.conversation_id, e.i
	),
	created as (
		insert into public.conversations (bot_id, external_id, channel, end_user_id, started_at)
		select v_bot_id, m.conversation_id, coalesce(s.channel, m.channel, v_channel),
			coalesce(s.end_user_id, m.end_user_id), coalesce(s."timestamp", m.first_seen)
		from mentioned m left join started s using (conversation_id)
		order by m.conversation_id
		on conflict (bot_id, external_id) do nothing
		returning external_id
	)
	select coalesce(array_agg(external_id), '{}') into v_created from created;

	-- A start event for a conversation first seen through its messages adds what it knows.
	if 'conversation_started' = any (v_types) then
	with ev as (select * from unnest(v_events)),
	started as (
		select distinct on (e.conversation_id) e.i, e.conversation_id, e."timestamp", e.channel, e.end_user_id
		from ev e where e.type = 'conversation_started' order by e.conversation_id, e.i
	),
	learned as (
		update public.conversations c
		set started_at = least(c.started_at, s."timestamp"),
			channel = coalesce(s.channel, c.channel),
			end_user_id = coalesce(s.end_user_id, c.end_user_id),
			updated_at = now()
		from started s
		where c.bot_id = v_bot_id and c.external_id = s.conversation_id
			and not (s.conversation_id = any (v_created))
			and (c.started_at > s."timestamp"
				or c.channel is distinct from coalesce(s.channel, c.channel)
				or c.end_user_id is distinct from coalesce(s.end_user_id, c.end_user_id))
		returning c.external_id
	)
	select coalesce(array_agg(s.i), '{}') into v_part
	from started s
	where s.conversation_id = any (v_created) or s.conversation_id in (select external_id from learned);
	v_accepted := v_accepted || v_part;
	end if;

	-- Messages: the unique (bot_id, external_id) key makes every re-send a no-op.
	if 'message' = any (v_types) then
	with ev as (select * from unnest(v_events)),
	firsts as (
		select distinct on (e.message_id) e.*
		from ev e where e.type = 'message' order by e.message_id, e.i
	),
	-- The batch's conversations, one index probe each (a batch holds a few dozen): joined per
	-- message, the probe ran once for every message.
	convs as materialized (
		select c.id, c.external_id from public.conversations c
		where c.bot_id = v_bot_id and c.external_id = any (array(select distinct f.conversation_id from firsts f))
	),
	inserted as (
		insert into public.messages (bot_id, conversation_id, external_id, role, content, sent_at,
			response_time_ms, success, error_code, intent, model, tokens_in, tokens_out, cost_usd)
		select v_bot_id, c.id, f.message_id, f.role, f.content, f."timestamp", f.response_time_ms,
			f.success, f.error_code, f.intent, f.model, coalesce(f.tokens_in, 0),
			coalesce(f.tokens_out, 0), coalesce(f.cost_usd, 0)
		from firsts f
		join convs c on c.external_id = f.conversation_id
		-- One key order for every batch, so concurrent batches wait for each other, never deadlock.
		order by f.message_id
		on conflict (bot_id, external_id) do nothing
		returning conversation_id, external_id, sent_at
	),
	touched as (
		update public.conversations c
		set last_message_at = t.last_at, updated_at = now()
		from (select conversation_id, max(sent_at) as last_at from inserted group by conversation_id) t
		where c.id = t.conversation_id and c.last_message_at is distinct from greatest(c.last_message_at, t.last_at)
		returning c.id
	)
	-- (touched runs regardless: data-modifying CTEs always complete.)
	select jsonb_object_agg(i.external_id, true) into v_inserted from inserted i;
	-- Each event's id is looked up in that object (a binary search): a join would compare every
	-- event with every inserted row, as the planner takes both sides for one row.
	select coalesce(array_agg(f.i), '{}') into v_part
	from (select distinct on (e.message_id) e.i, e.message_id
		from unnest(v_events) e where e.type = 'message' order by e.message_id, e.i) f
	where v_inserted ? f.message_id;
	v_accepted := v_accepted || v_part;
	end if;

	-- Ending: the first end event wins; a handed-off conversation keeps that status.
	if 'conversation_ended' = any (v_types) then
	with ev as (select * from unnest(v_events)),
	ends as (
		select distinct on (e.conversation_id) e.i, e.conversation_id, e."timestamp", e.status
		from ev e where e.type = 'conversation_ended' order by e.conversation_id, e.i
	),
	ended as (
		update public.conversations c
		set ended_at = x."timestamp",
			status = case when c.status = 'handed_off' then c.status else coalesce(x.status, 'completed') end,
			updated_at = now()
		from ends x
		where c.bot_id = v_bot_id and c.external_id = x.conversation_id and c.ended_at is null
		returning c.external_id
	)
	select coalesce(array_agg(x.i), '{}') into v_part
	from ends x where x.conversation_id in (select external_id from ended);
	v_accepted := v_accepted || v_part;
	end if;

	if 'conversation_handed_off' = any (v_types) then
	with ev as (select * from unnest(v_events)),
	handoffs as (
		select distinct on (e.conversation_id) e.i, e.conversation_id, e."timestamp", e.reason
		from ev e where e.type = 'conversation_handed_off' order by e.conversation_id, e.i
	),
	handed as (
		update public.conversations c
		set handed_off_at = h."timestamp", status = 'handed_off', updated_at = now(),
			metadata = case when h.reason is null then c.metadata
				else c.metadata || jsonb_build_object('handoff_reason', h.reason) end
		from handoffs h
		where c.bot_id = v_bot_id and c.external_id = h.conversation_id and c.handed_off_at is null
		returning c.external_id
	)
	select coalesce(array_agg(h.i), '{}') into v_part
	from handoffs h where h.conversation_id in (select external_id from handed);
	v_accepted := v_accepted || v_part;
	end if;

	-- Last, so concurrent batches of one bot wait for each other only during the commit. The
	-- row lock makes the check and the debit one step; a refusal undoes the batch's writes.
	update private.ingest_rate_limits r
	set event_tokens = private.ingest_tokens(r.event_tokens, r.event_burst, r.events_per_second,
			r.refilled_at, now()) - p_event_count,
		request_tokens = private.ingest_tokens(r.request_tokens, r.request_burst,
			r.requests_per_second, r.refilled_at, now()),
		refilled_at = greatest(r.refilled_at, now())
	where r.bot_id = v_bot_id
		and private.ingest_tokens(r.event_tokens, r.event_burst, r.events_per_second, r.refilled_at,
			now()) >= p_event_count;
	if not found then
		select (p_event_count - private.ingest_tokens(r.event_tokens, r.event_burst,
				r.events_per_second, r.refilled_at, now())) / r.events_per_second
		into v_retry
		from private.ingest_rate_limits r where r.bot_id = v_bot_id;
		raise exception 'rate_limited'
			using errcode = 'BF429', detail = jsonb_build_object('retry_after', coalesce(v_retry, 1))::text;
	end if;

	-- The indexes of the accepted events; every other event sent here was a duplicate. A plain
	-- array: an object per event cost more than the rest of the answer (1.7 ms per 500 events).
	return jsonb_build_object('bot_id', v_bot_id, 'accepted', to_jsonb(v_accepted));
end
$$;
comment on function private.ingest_events(text, jsonb, integer) is
	'Ingest: writes a validated batch idempotently, returns the indexes of the accepted events (the others were duplicates), then takes event_count events from the bot''s rate limit (SQLSTATE BF429 and nothing written when over it).';
revoke execute on function private.ingest_events(text, jsonb, integer) from public, anon, authenticated;
grant execute on function private.ingest_events(text, jsonb, integer) to service_role;

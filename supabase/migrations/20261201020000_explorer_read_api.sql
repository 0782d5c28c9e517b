-- Conversations explorer read API: one SQL definition for the list, its exact count and its
-- CSV export.
--
--   explore_conversations(p_bot_id, p_from, p_to, p_by = 'started', p_query, p_status, p_channel,
--     p_intent, p_handoff, p_min/max_duration_seconds, p_min/max_response_ms,
--     p_sort = 'started' | 'duration' | 'response', p_dir = 'desc' | 'asc',
--     p_after_key text, p_after_id uuid, p_limit = 50)
--     -> one page; pass the last row's (sort_key, id) as (p_after_key, p_after_id) for the next.
--   count_explored_conversations(same filters) -> bigint
--
-- p_by names the timestamp that must lie in [p_from, p_to): started_at (what bot_usage_series
-- counts as conversations), ended_at (resolved, with status completed) or handed_off_at
-- (handed off), so a chart bucket's drill-down lists exactly the conversations it counted.
--
-- The list (explore_conversations), the count (count_explored_conversations) and export-csv all
-- run the statement private.explorer_sql builds: the same FROM, columns and WHERE, the filter
-- values written in as quoted literals. The list adds its sort and keyset page, the export its
-- time window and order, so the file of a filtered view holds exactly the listed conversations.
-- export-csv runs it inside COPY ... TO STDOUT over the tables themselves (RLS decides, as the
-- caller): plain SQL that Postgres plans and streams row by row, where a SQL function with a
-- fixed search_path (not inlinable) would first materialise its whole result.

-- Timestamps other than started_at for drill-down from outcome charts, and intent lookups.
create index if not exists conversations_bot_id_ended_at_idx on public.conversations (bot_id, ended_at)
	where ended_at is not null;
create index if not exists conversations_bot_id_handed_off_at_idx on public.conversations (bot_id, handed_off_at)
	where handed_off_at is not null;
create index if not exists messages_bot_id_intent_idx on public.messages (bot_id, intent, conversation_id)
	where intent is not null;

-- Full-text search runs as the definer: under RLS, Postgres may not use the GIN index for `@@`
-- (ts_match_vq is not leakproof, so it is evaluated after the policy, row by row over the
-- bot's messages). The caller's right to read the bot is checked first, and only conversation
-- ids of that bot come back; the conversations themselves are still read under RLS.
create or replace function private.explorer_search_ids(p_bot_id uuid, p_query text)
returns setof uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
	if not p_bot_id = any (array(select private.readable_bot_ids())) then
		return;
	end if;
	return query
	select distinct m.conversation_id from public.messages m
	where m.bot_id = p_bot_id and m.search_vector @@ websearch_to_tsquery('simple'::regconfig, p_query);
end
$$;
comment on function private.explorer_search_ids(uuid, text) is
	'Ids of the conversations of a bot the caller can read that have a message matching the search (web-search syntax); empty for any other bot.';

create or replace function private.explorer_duration_sql()
returns text
language sql
immutable
set search_path = ''
as $$
	-- Exactly export_conversations' duration_seconds.
	select 'round(extract(epoch from coalesce(c.ended_at, c.handed_off_at, c.last_message_at, c.started_at) - c.started_at)::numeric, 3)'
$$;
comment on function private.explorer_duration_sql() is 'A conversation''s duration in seconds as export_conversations computes it (SQL text).';

-- Indexes for the explorer at 100,000+ conversations a bot: keyset order by duration and
-- median response time, and the full-text search within one bot's messages (the order by
-- start reads conversations_bot_id_started_at_id_idx of the raw events migration).

-- Exactly private.explorer_duration_sql(), so the duration sort reads the index in order.
create index if not exists conversations_bot_id_duration_idx on public.conversations (bot_id,
	(round(extract(epoch from coalesce(ended_at, handed_off_at, last_message_at, started_at) - started_at)::numeric, 3)), id);

-- =====================================================================================
-- The statement
-- =====================================================================================
create or replace function private.explorer_at_sql(p_by text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
	return case p_by when 'started' then 'c.started_at' when 'ended' then 'c.ended_at'
		when 'handed_off' then 'c.handed_off_at'
		else private.explorer_refuse('Unknown p_by "' || coalesce(p_by, 'null') || '": use started, ended or handed_off') end;
end
$$;
comment on function private.explorer_at_sql(text) is
	'The timestamp a list''s range applies to (started, ended or handed_off), as SQL text.';

create or replace function private.explorer_refuse(p_message text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
	raise exception '%', p_message using errcode = '22023';
end
$$;
comment on function private.explorer_refuse(text) is 'Raises invalid_parameter_value (22023) with the message; typed text so it fits in a CASE.';

create or replace function private.explorer_sql(
	p_bot_id uuid, p_from timestamptz, p_to timestamptz, p_by text, p_query text, p_status text,
	p_channel text, p_intent text, p_handoff boolean,
	p_min_duration_seconds numeric, p_max_duration_seconds numeric,
	p_min_response_ms numeric, p_max_response_ms numeric, p_extra_column text default null
)
returns text
language plpgsql
stable
set search_path = ''
as $$
declare
	v_at text := private.explorer_at_sql(p_by);
	v_where text;
begin
	perform private.check_range(p_from, p_to);
	if p_status is not null and not p_status = any (enum_range(null::public.conversation_status)::text[]) then
		raise exception 'Unknown status "%": use one of %', p_status,
			array_to_string(enum_range(null::public.conversation_status)::text[], ', ') using errcode = '22023';
	end if;
	if p_channel is not null and not p_channel = any (enum_range(null::public.channel)::text[]) then
		raise exception 'Unknown channel "%": use one of %', p_channel,
			array_to_string(enum_range(null::public.channel)::text[], ', ') using errcode = '22023';
	end if;
	if p_min_duration_seconds < 0 or p_max_duration_seconds < 0 or p_min_response_ms < 0 or p_max_response_ms < 0 then
		raise exception 'Duration and response-time bounds cannot be negative' using errcode = '22023';
	end if;
	v_where := format('c.bot_id = %1$L::uuid and %2$s >= %3$L::timestamptz and %2$s < %4$L::timestamptz',
		p_bot_id, v_at, p_from, p_to);
	if p_status is not null then
		v_where := v_where || format(' and c.status = %L::public.conversation_status', p_status);
	end if;
	if p_channel is not null then v_where := v_where || format(' and c.channel = %L::public.channel', p_channel); end if;
	if p_handoff is not null then
		v_where := v_where || case when p_handoff then ' and c.handed_off_at is not null' else ' and c.handed_off_at is null' end;
	end if;
	if nullif(trim(p_query), '') is not null then
		-- The same match as export_conversations (pgTAP 57 checks), through the GIN index. Kept a
		-- hashed filter on the scan in list order (`is true` stops it becoming a semi-join, which the
		-- planner would size at 200 matches and then join and sort every match before the first page).
		v_where := v_where || format(' and (c.id in (select private.explorer_search_ids(%L::uuid, %L))) is true',
			p_bot_id, p_query);
	end if;
	if p_intent is not null then
		v_where := v_where || format(' and c.id in (select m.conversation_id from public.messages m'
			|| ' where m.bot_id = %L::uuid and m.intent = %L)', p_bot_id, p_intent);
	end if;
	-- Max duration is exclusive: a duration histogram's bars [lo, hi) drill down exactly.
	if p_min_duration_seconds is not null then
		v_where := v_where || format(' and %s >= %L::numeric', private.explorer_duration_sql(), p_min_duration_seconds);
	end if;
	if p_max_duration_seconds is not null then
		v_where := v_where || format(' and %s < %L::numeric', private.explorer_duration_sql(), p_max_duration_seconds);
	end if;
	if p_min_response_ms is not null then
		v_where := v_where || format(' and cm.response_p50_ms >= %L::numeric', p_min_response_ms);
	end if;
	if p_max_response_ms is not null then
		v_where := v_where || format(' and cm.response_p50_ms <= %L::numeric', p_max_response_ms);
	end if;
	-- Unused, the metrics join costs nothing: Postgres removes a left join on a unique key.
	return format(
		'select c.id, c.external_id, c.channel::text as channel, c.end_user_id, c.status::text as status,
			c.started_at, c.last_message_at, c.ended_at, c.handed_off_at, %1$s as duration_seconds,
			cm.messages, cm.first_response_ms, cm.response_p50_ms, cm.response_p95_ms, cm.success_rate,
			cm.tokens_in, cm.tokens_out, cm.cost_usd%3$s
		from public.conversations c
		left join public.conversation_metrics cm on cm.bot_id = c.bot_id and cm.conversation_id = c.id
		where %2$s', private.explorer_duration_sql(), v_where, ', ' || p_extra_column);
end
$$;
comment on function private.explorer_sql(uuid, timestamptz, timestamptz, text, text, text, text, text, boolean, numeric, numeric, numeric, numeric, text) is
	'The conversations list''s statement for the given filters (values as quoted literals; tables as c and cm; p_extra_column appended to the columns): the list, its count and the CSV export all run it. Refuses unknown values with what to use instead.';

-- =====================================================================================
-- The list and its count, over that statement
-- =====================================================================================
create or replace function public.explore_conversations(
	p_bot_id uuid, p_from timestamptz, p_to timestamptz,
	p_by text default 'started', p_query text default null, p_status text default null,
	p_channel text default null, p_intent text default null, p_handoff boolean default null,
	p_min_duration_seconds numeric default null, p_max_duration_seconds numeric default null,
	p_min_response_ms numeric default null, p_max_response_ms numeric default null,
	p_sort text default 'started', p_dir text default 'desc',
	p_after_key text default null, p_after_id uuid default null, p_limit integer default 50
)
returns table (
	id uuid, external_id text, channel text, end_user_id text, status text, started_at timestamptz,
	last_message_at timestamptz, ended_at timestamptz, handed_off_at timestamptz, duration_seconds numeric,
	messages integer, first_response_ms integer, response_p50_ms numeric, response_p95_ms numeric,
	success_rate numeric, tokens_in bigint, tokens_out bigint, cost_usd numeric, sort_key text
)
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
	v_key text := case p_sort when 'started' then 'c.started_at'
		when 'duration' then private.explorer_duration_sql()
		-- Conversations not rolled up yet have no median: they sort below every measured one.
		when 'response' then 'coalesce(cm.response_p50_ms, -1)' end;
	v_cast text := case p_sort when 'started' then 'timestamptz' else 'numeric' end;
	v_cmp text := case p_dir when 'desc' then '<' when 'asc' then '>' end;
	v_sql text;
	v_after text := '';
begin
	if v_key is null then
		raise exception 'Unknown sort "%": use started, duration or response', p_sort using errcode = '22023';
	end if;
	if v_cmp is null then
		raise exception 'Unknown direction "%": use asc or desc', p_dir using errcode = '22023';
	end if;
	if p_limit is null or p_limit not between 1 and 500 then
		raise exception 'p_limit must be between 1 and 500' using errcode = '22023';
	end if;
	if (p_after_key is null) <> (p_after_id is null) then
		raise exception 'Give both p_after_key and p_after_id (the last row''s sort_key and id), or neither'
			using errcode = '22023';
	end if;
	v_sql := private.explorer_sql(p_bot_id, p_from, p_to, p_by, p_query, p_status, p_channel, p_intent,
		p_handoff, p_min_duration_seconds, p_max_duration_seconds, p_min_response_ms, p_max_response_ms,
		format('(%s)::text as sort_key', v_key));
	if p_after_key is not null then
		begin
			execute format('select $1::%s', v_cast) using p_after_key;
		exception when others then
			raise exception 'The page cursor does not fit sort "%": start again from the first page', p_sort
				using errcode = '22023';
		end;
		v_after := format(' and (%s, c.id) %s ($1::%s, $2)', v_key, v_cmp, v_cast);
	end if;
	-- The sort and the page wrap the shared statement.
	return query execute v_sql || v_after || format(' order by %1$s %2$s, c.id %2$s limit $3', v_key, p_dir)
	using p_after_key, p_after_id, p_limit;
end
$$;
comment on function public.explore_conversations(uuid, timestamptz, timestamptz, text, text, text, text, text, boolean, numeric, numeric, numeric, numeric, text, text, text, uuid, integer) is
	'Conversations list: filters (which timestamp is in [p_from, p_to), full-text search over messages, status, channel, intent, handoff, duration [min, max), median response time) sorted by start, duration or response time with keyset paging on (sort_key, id).';

create or replace function public.count_explored_conversations(
	p_bot_id uuid, p_from timestamptz, p_to timestamptz,
	p_by text default 'started', p_query text default null, p_status text default null,
	p_channel text default null, p_intent text default null, p_handoff boolean default null,
	p_min_duration_seconds numeric default null, p_max_duration_seconds numeric default null,
	p_min_response_ms numeric default null, p_max_response_ms numeric default null
)
returns bigint
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
	v_count bigint;
begin
	-- Unused columns and the unused metrics join drop out of the plan: a count of an index range.
	execute format('select count(*) from (%s) x', private.explorer_sql(p_bot_id, p_from, p_to, p_by,
		p_query, p_status, p_channel, p_intent, p_handoff, p_min_duration_seconds, p_max_duration_seconds,
		p_min_response_ms, p_max_response_ms))
	into v_count;
	return v_count;
end
$$;
comment on function public.count_explored_conversations(uuid, timestamptz, timestamptz, text, text, text, text, text, boolean, numeric, numeric, numeric, numeric) is
	'Exact number of conversations explore_conversations lists for the same filters (all pages).';

revoke execute on function
	private.explorer_search_ids(uuid, text),
	private.explorer_duration_sql(),
	private.explorer_at_sql(text),
	private.explorer_refuse(text),
	private.explorer_sql(uuid, timestamptz, timestamptz, text, text, text, text, text, boolean, numeric, numeric, numeric, numeric, text),
	public.explore_conversations(uuid, timestamptz, timestamptz, text, text, text, text, text, boolean, numeric, numeric, numeric, numeric, text, text, text, uuid, integer),
	public.count_explored_conversations(uuid, timestamptz, timestamptz, text, text, text, text, text, boolean, numeric, numeric, numeric, numeric)
	from public, anon;
-- export-csv reads the statement as the signed-in caller, then runs it under their RLS.
grant execute on function
	private.explorer_search_ids(uuid, text),
	private.explorer_duration_sql(),
	private.explorer_at_sql(text),
	private.explorer_refuse(text),
	private.explorer_sql(uuid, timestamptz, timestamptz, text, text, text, text, text, boolean, numeric, numeric, numeric, numeric, text),
	public.explore_conversations(uuid, timestamptz, timestamptz, text, text, text, text, text, boolean, numeric, numeric, numeric, numeric, text, text, text, uuid, integer),
	public.count_explored_conversations(uuid, timestamptz, timestamptz, text, text, text, text, text, boolean, numeric, numeric, numeric, numeric)
	to authenticated, service_role;

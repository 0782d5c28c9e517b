-- Conversations explorer read API: the list page's keyset-paginated, filtered, full-text search
-- and the exact count of the same filters. Both build their WHERE clause from one function
-- (private.explorer_filter_sql), so the count always describes the rows listed.
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
-- With p_by = 'started' and only status, channel and search, the rows are exactly those of
-- export_conversations (same predicates), which feeds the CSV export.
--
-- Each call runs its statement with EXECUTE ... USING: a plan per filter combination, so an
-- absent filter costs nothing and the (bot_id, started_at) index serves the default page.

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

create or replace function private.explorer_filter_sql(
	p_by text, p_query text, p_status text, p_channel text, p_intent text, p_handoff boolean,
	p_min_duration_seconds numeric, p_max_duration_seconds numeric,
	p_min_response_ms numeric, p_max_response_ms numeric
)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
	-- $1 bot, $2 from, $3 to, $4 query, $5 status, $6 channel, $7 intent, $8 handoff,
	-- $9..$12 duration and response bounds (the USING list of both callers).
	v_at text := case p_by when 'started' then 'c.started_at' when 'ended' then 'c.ended_at'
		when 'handed_off' then 'c.handed_off_at' end;
	v_sql text;
begin
	if v_at is null then
		raise exception 'Unknown p_by "%": use started, ended or handed_off', p_by using errcode = '22023';
	end if;
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
	v_sql := format('c.bot_id = $1 and %1$s >= $2 and %1$s < $3', v_at);
	if p_status is not null then v_sql := v_sql || ' and c.status = $5::public.conversation_status'; end if;
	if p_channel is not null then v_sql := v_sql || ' and c.channel = $6::public.channel'; end if;
	if p_handoff is not null then
		v_sql := v_sql || case when p_handoff then ' and c.handed_off_at is not null' else ' and c.handed_off_at is null' end;
	end if;
	if nullif(trim(p_query), '') is not null then
		-- The same match as export_conversations (pgTAP 57 checks), through the GIN index.
		v_sql := v_sql || ' and c.id in (select private.explorer_search_ids($1, $4))';
	end if;
	if p_intent is not null then
		v_sql := v_sql || ' and c.id in (select m.conversation_id from public.messages m'
			|| ' where m.bot_id = $1 and m.intent = $7)';
	end if;
	-- Max duration is exclusive: a duration histogram's bars [lo, hi) drill down exactly.
	if p_min_duration_seconds is not null then v_sql := v_sql || ' and ' || private.explorer_duration_sql() || ' >= $9'; end if;
	if p_max_duration_seconds is not null then v_sql := v_sql || ' and ' || private.explorer_duration_sql() || ' < $10'; end if;
	if p_min_response_ms is not null then v_sql := v_sql || ' and cm.response_p50_ms >= $11'; end if;
	if p_max_response_ms is not null then v_sql := v_sql || ' and cm.response_p50_ms <= $12'; end if;
	return v_sql;
end
$$;
comment on function private.explorer_filter_sql(text, text, text, text, text, boolean, numeric, numeric, numeric, numeric) is
	'The explorer''s WHERE clause for the given filters (values stay bind parameters $1..$12); refuses unknown values with what to use instead.';

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
	v_where text;
begin
	perform private.check_range(p_from, p_to);
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
	v_where := private.explorer_filter_sql(p_by, p_query, p_status, p_channel, p_intent, p_handoff,
		p_min_duration_seconds, p_max_duration_seconds, p_min_response_ms, p_max_response_ms);
	if p_after_key is not null then
		begin
			execute format('select $1::%s', v_cast) using p_after_key;
		exception when others then
			raise exception 'The page cursor does not fit sort "%": start again from the first page', p_sort
				using errcode = '22023';
		end;
		v_where := v_where || format(' and (%s, c.id) %s ($13::%s, $14)', v_key, v_cmp, v_cast);
	end if;
	return query execute format(
		'select c.id, c.external_id, c.channel::text, c.end_user_id, c.status::text, c.started_at, c.last_message_at,
			c.ended_at, c.handed_off_at, %1$s, cm.messages, cm.first_response_ms, cm.response_p50_ms,
			cm.response_p95_ms, cm.success_rate, cm.tokens_in, cm.tokens_out, cm.cost_usd, (%2$s)::text
		from public.conversations c
		left join public.conversation_metrics cm on cm.bot_id = c.bot_id and cm.conversation_id = c.id
		where %3$s
		order by %2$s %4$s, c.id %4$s
		limit $15', private.explorer_duration_sql(), v_key, v_where, p_dir)
	using p_bot_id, p_from, p_to, p_query, p_status, p_channel, p_intent, p_handoff,
		p_min_duration_seconds, p_max_duration_seconds, p_min_response_ms, p_max_response_ms,
		p_after_key, p_after_id, p_limit;
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
	v_where text := private.explorer_filter_sql(p_by, p_query, p_status, p_channel, p_intent, p_handoff,
		p_min_duration_seconds, p_max_duration_seconds, p_min_response_ms, p_max_response_ms);
begin
	perform private.check_range(p_from, p_to);
	execute format(
		'select count(*) from public.conversations c
		%s where %s',
		-- The metrics join only when a response-time bound needs it (count of a plain index range otherwise).
		case when p_min_response_ms is not null or p_max_response_ms is not null
			then 'left join public.conversation_metrics cm on cm.bot_id = c.bot_id and cm.conversation_id = c.id' else '' end,
		v_where)
	into v_count
	using p_bot_id, p_from, p_to, p_query, p_status, p_channel, p_intent, p_handoff,
		p_min_duration_seconds, p_max_duration_seconds, p_min_response_ms, p_max_response_ms;
	return v_count;
end
$$;
comment on function public.count_explored_conversations(uuid, timestamptz, timestamptz, text, text, text, text, text, boolean, numeric, numeric, numeric, numeric) is
	'Exact number of conversations explore_conversations lists for the same filters (all pages).';

revoke execute on function
	private.explorer_search_ids(uuid, text),
	private.explorer_filter_sql(text, text, text, text, text, boolean, numeric, numeric, numeric, numeric),
	private.explorer_duration_sql(),
	public.explore_conversations(uuid, timestamptz, timestamptz, text, text, text, text, text, boolean, numeric, numeric, numeric, numeric, text, text, text, uuid, integer),
	public.count_explored_conversations(uuid, timestamptz, timestamptz, text, text, text, text, text, boolean, numeric, numeric, numeric, numeric)
	from public, anon;
grant execute on function
	private.explorer_search_ids(uuid, text),
	private.explorer_filter_sql(text, text, text, text, text, boolean, numeric, numeric, numeric, numeric),
	private.explorer_duration_sql(),
	public.explore_conversations(uuid, timestamptz, timestamptz, text, text, text, text, text, boolean, numeric, numeric, numeric, numeric, text, text, text, uuid, integer),
	public.count_explored_conversations(uuid, timestamptz, timestamptz, text, text, text, text, text, boolean, numeric, numeric, numeric, numeric)
	to authenticated, service_role;

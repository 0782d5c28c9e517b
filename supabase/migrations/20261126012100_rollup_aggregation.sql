-- Rollup aggregation: the one definition of every figure computed from raw rows, shared by the
-- rollups and the read API's live tail, and the recomputation of conversation_metrics.

-- =====================================================================================
-- Aggregation of raw rows (the one definition rollups and live reads share)
-- =====================================================================================
-- Windows are (bot, from, to) triples; rows are grouped per bot by p_grain ('window' = the whole
-- window, for totals that need no time split; 'quarter' = UTC quarter hour; 'hour' = UTC hour;
-- 'day' = local day), and a bucket never starts before its window (partial hours stay apart).
-- Latency buckets come from messages.latency_bucket (computed once per row on insert); the
-- bucket-start expressions repeat private.bucket_start inline: a function with a fixed
-- search_path is never inlined, and a call per row would dominate the reads.
create or replace function private.aggregate_raw(
	p_bot_ids uuid[], p_from timestamptz[], p_to timestamptz[], p_grain text, p_distinct_counts boolean default true,
	p_gap_from timestamptz default null, p_gap_to timestamptz default null, p_skip_bots uuid[] default '{}'
)
returns table (
	bot_id uuid, bucket_start timestamptz,
	messages bigint, user_messages bigint, bot_messages bigint,
	conversations_started bigint, conversations_resolved bigint, conversations_abandoned bigint,
	conversations_handed_off bigint, conversations_active bigint, active_end_users bigint,
	tokens_in bigint, tokens_out bigint, cost_usd numeric,
	replies bigint, failed_replies bigint, response_time_count bigint, response_time_sum_ms bigint,
	latency_histogram integer[]
)
language plpgsql
stable
set search_path = ''
set work_mem = '256MB'
-- The hourly job's gap branch is costed as a scan of millions of rows even where it never runs
-- (a dashboard read passes no gap), which makes a read of a few thousand rows pass
-- jit_above_cost and spend 100+ ms compiling.
set jit = off
as $$
#variable_conflict use_column
begin
	if p_gap_from is not null and p_grain not in ('hour', 'quarter') then
		raise exception 'aggregate_raw: a gap (p_gap_from) is read by UTC hour or quarter only, not by %', p_grain;
	end if;
	-- PL/pgSQL keeps this plan across calls; a SQL function would plan it on every dashboard read.
	return query
	with w as materialized (
		select w.bot_id, w.from_at, w.to_at, b.timezone
		from unnest(p_bot_ids, p_from, p_to) w(bot_id, from_at, to_at)
		join public.bots b on b.id = w.bot_id
		where w.from_at < w.to_at
	),
	-- One scan of the raw rows; every figure below is a hash aggregate over it.
	base as materialized (
		select w.bot_id, case when p_grain = 'window' then w.from_at
				when p_grain = 'quarter' then greatest(w.from_at, date_bin('15 minutes', m.sent_at, timestamptz '2000-01-01 00:00+00'))
				when p_grain = 'hour' then greatest(w.from_at, date_trunc('hour', m.sent_at, 'UTC'))
				else greatest(w.from_at, date_trunc(p_grain, m.sent_at, w.timezone)) end b,
			m.conversation_id, m.role, m.success, m.response_time_ms rt, m.latency_bucket lb, m.tokens_in,
			m.tokens_out, m.cost_usd
		from w
		cross join lateral (
			select * from public.messages m
			where m.bot_id = w.bot_id and m.sent_at >= w.from_at and m.sent_at < w.to_at
			-- offset 0: an index range per window. Flattened, many windows (a rollup's dirty
			-- hours, every bot's current hour) got a hash join over the whole table.
			offset 0
		) m
		where p_gap_from is null or w.to_at <= p_gap_from or w.from_at >= p_gap_to
		union all
		-- The hourly job's gap since its watermark is the same for every bot: one time-range scan
		-- (BRIN), as cheap as a plain scan, instead of a probe per bot that ends in a full scan.
		select m.bot_id, case when p_grain = 'quarter' then date_bin('15 minutes', m.sent_at, timestamptz '2000-01-01 00:00+00')
				else date_trunc('hour', m.sent_at, 'UTC') end, m.conversation_id, m.role, m.success,
			m.response_time_ms, m.latency_bucket, m.tokens_in, m.tokens_out, m.cost_usd
		from public.messages m
		where p_gap_from is not null and m.sent_at >= p_gap_from and m.sent_at < p_gap_to
			and not (m.bot_id = any (p_skip_bots))
	),
	totals as (
		select base.bot_id, base.b,
			count(*) messages,
			count(*) filter (where role = 'user') user_messages,
			count(*) filter (where role = 'bot') bot_messages,
			coalesce(sum(base.tokens_in), 0) tokens_in,
			coalesce(sum(base.tokens_out), 0) tokens_out,
			coalesce(sum(base.cost_usd), 0) cost_usd,
			count(*) filter (where role = 'bot' and success is not null) replies,
			count(*) filter (where role = 'bot' and success = false) failed_replies,
			count(*) filter (where role = 'bot' and rt is not null) response_time_count,
			coalesce(sum(rt) filter (where role = 'bot'), 0) response_time_sum_ms
		from base group by 1, 2
	),
	hist as (
		select h.bot_id, h.b, private.histogram_from_pairs(array_agg(h.lb), array_agg(h.n)) latency_histogram
		from (
			select base.bot_id, base.b, base.lb, count(*) n
			from base where role = 'bot' and rt is not null group by 1, 2, 3
		) h
		group by 1, 2
	),
	-- Distinct counts are not additive across buckets: the dashboard's live reads skip them. By
	-- quarter they are the quarter's UTC hour's (the hourly rollup sums its hours from quarters).
	bc as materialized (
		select distinct base.bot_id, case when p_grain = 'quarter' then date_trunc('hour', base.b, 'UTC') else base.b end b,
			base.conversation_id
		from base where p_distinct_counts
	),
	active as (
		select bc.bot_id, bc.b, count(*) conversations_active from bc group by 1, 2
	),
	users as (
		select u.bot_id, u.b, count(*) active_end_users
		from (
			select distinct bc.bot_id, bc.b, c.end_user_id
			from bc
			-- One index probe per conversation, never a scan of all conversations (offset 0 keeps
			-- the planner from turning the probe into a hash join over the whole table).
			cross join lateral (select c.end_user_id from public.conversations c where c.id = bc.conversation_id offset 0) c
			where c.end_user_id is not null
		) u
		group by 1, 2
	),
	e as (
		select w.bot_id, case when p_grain = 'window' then w.from_at
				when p_grain = 'quarter' then greatest(w.from_at, date_bin('15 minutes', c.started_at, timestamptz '2000-01-01 00:00+00'))
				when p_grain = 'hour' then greatest(w.from_at, date_trunc('hour', c.started_at, 'UTC'))
				else greatest(w.from_at, date_trunc(p_grain, c.started_at, w.timezone)) end b, 'started'::text kind
		-- An index range per window (offset 0: never a hash join over every conversation).
		from w cross join lateral (select c.started_at from public.conversations c
			where c.bot_id = w.bot_id and c.started_at >= w.from_at and c.started_at < w.to_at offset 0) c
		union all
		select w.bot_id, case when p_grain = 'window' then w.from_at
				when p_grain = 'quarter' then greatest(w.from_at, date_bin('15 minutes', c.ended_at, timestamptz '2000-01-01 00:00+00'))
				when p_grain = 'hour' then greatest(w.from_at, date_trunc('hour', c.ended_at, 'UTC'))
				else greatest(w.from_at, date_trunc(p_grain, c.ended_at, w.timezone)) end, c.status::text
		from w cross join lateral (select c.ended_at, c.status from public.conversations c
			where c.bot_id = w.bot_id and c.ended_at >= w.from_at and c.ended_at < w.to_at
				and c.status in ('completed', 'abandoned') offset 0) c
		union all
		select w.bot_id, case when p_grain = 'window' then w.from_at
				when p_grain = 'quarter' then greatest(w.from_at, date_bin('15 minutes', c.handed_off_at, timestamptz '2000-01-01 00:00+00'))
				when p_grain = 'hour' then greatest(w.from_at, date_trunc('hour', c.handed_off_at, 'UTC'))
				else greatest(w.from_at, date_trunc(p_grain, c.handed_off_at, w.timezone)) end, 'handed_off'
		from w cross join lateral (select c.handed_off_at from public.conversations c
			where c.bot_id = w.bot_id and c.handed_off_at >= w.from_at and c.handed_off_at < w.to_at offset 0) c
	),
	ce as (
		select e.bot_id, e.b,
			count(*) filter (where kind = 'started') started,
			count(*) filter (where kind = 'completed') resolved,
			count(*) filter (where kind = 'abandoned') abandoned,
			count(*) filter (where kind = 'handed_off') handed_off
		from e group by 1, 2
	)
	select coalesce(t.bot_id, ce.bot_id), coalesce(t.b, ce.b),
		coalesce(t.messages, 0), coalesce(t.user_messages, 0), coalesce(t.bot_messages, 0),
		coalesce(ce.started, 0), coalesce(ce.resolved, 0), coalesce(ce.abandoned, 0),
		coalesce(ce.handed_off, 0), coalesce(a.conversations_active, 0), coalesce(u.active_end_users, 0),
		coalesce(t.tokens_in, 0), coalesce(t.tokens_out, 0), coalesce(t.cost_usd, 0),
		coalesce(t.replies, 0), coalesce(t.failed_replies, 0), coalesce(t.response_time_count, 0),
		coalesce(t.response_time_sum_ms, 0), coalesce(h.latency_histogram, private.histogram_of('{}'))
	from totals t
	left join hist h on h.bot_id = t.bot_id and h.b = t.b
	left join active a on a.bot_id = t.bot_id
		and a.b = case when p_grain = 'quarter' then date_trunc('hour', t.b, 'UTC') else t.b end
	left join users u on u.bot_id = t.bot_id
		and u.b = case when p_grain = 'quarter' then date_trunc('hour', t.b, 'UTC') else t.b end
	full join ce on ce.bot_id = t.bot_id and ce.b = t.b;
end
$$;
comment on function private.aggregate_raw(uuid[], timestamptz[], timestamptz[], text, boolean, timestamptz, timestamptz, uuid[]) is
	'Aggregates raw messages and conversation outcomes inside (bot, from, to) windows (plus an hourly gap read by time, skipping p_skip_bots) per window, UTC hour or local day: the one definition the hourly and daily rollups, the live tail and the tests share.';

create or replace function private.aggregate_raw_breakdowns(
	p_bot_ids uuid[], p_from timestamptz[], p_to timestamptz[],
	p_gap_from timestamptz default null, p_gap_to timestamptz default null, p_skip_bots uuid[] default '{}'
)
returns table (
	bot_id uuid, hour_start timestamptz, dimension text, value text,
	messages bigint, replies bigint, failed_replies bigint, tokens_in bigint, tokens_out bigint,
	cost_usd numeric, response_time_count bigint, response_time_sum_ms bigint, latency_histogram integer[]
)
language plpgsql
stable
set search_path = ''
set work_mem = '256MB'
-- As in private.aggregate_raw: the never-run gap branch's estimate would trigger JIT on reads.
set jit = off
as $$
#variable_conflict use_column
begin
	-- PL/pgSQL keeps this plan across calls; a SQL function would plan it on every dashboard read.
	return query
	with w as materialized (
		select w.bot_id, w.from_at, w.to_at
		from unnest(p_bot_ids, p_from, p_to) w(bot_id, from_at, to_at)
		where w.from_at < w.to_at
	),
	-- The windows' rows (a dashboard read's partial hours, a rollup's dirty hours: few rows).
	win as (
		select m.bot_id, greatest(w.from_at, date_trunc('hour', m.sent_at, 'UTC')) h, m.conversation_id,
			m.role, m.success, m.response_time_ms rt, m.latency_bucket lb, m.tokens_in, m.tokens_out,
			m.cost_usd, m.intent, m.model
		from w
		cross join lateral (
			select * from public.messages m
			where m.bot_id = w.bot_id and m.sent_at >= w.from_at and m.sent_at < w.to_at
			-- offset 0: an index range per window. Flattened, many windows (a rollup's dirty
			-- hours, every bot's current hour) got a hash join over the whole table.
			offset 0
		) m
		where p_gap_from is null or w.to_at <= p_gap_from or w.from_at >= p_gap_to
	),
	-- Their conversations' channels, a primary-key probe each (offset 0 keeps it a probe): a join
	-- would hash every conversation of every tenant on each dashboard read.
	win_channel as materialized (
		select x.id, c.channel
		from (select distinct win.conversation_id id from win) x
		cross join lateral (select c.channel from public.conversations c where c.id = x.id offset 0) c
	),
	-- Each message with its conversation's channel, read once by both aggregates. The gap since
	-- the hourly watermark (hundreds of thousands of rows) is read by one time-range scan, as in
	-- private.aggregate_raw, and joined with the conversations by one hash join.
	s as materialized (
		select win.bot_id, win.h, c.channel::text channel, coalesce(win.intent, 'unknown') intent,
			coalesce(win.model, 'unknown') model, win.role, win.success, win.rt, win.lb, win.tokens_in,
			win.tokens_out, win.cost_usd
		from win
		join win_channel c on c.id = win.conversation_id
		union all
		select m.bot_id, date_trunc('hour', m.sent_at, 'UTC'), c.channel::text,
			coalesce(m.intent, 'unknown'), coalesce(m.model, 'unknown'), m.role, m.success,
			m.response_time_ms, m.latency_bucket, m.tokens_in, m.tokens_out, m.cost_usd
		from public.messages m
		join public.conversations c on c.id = m.conversation_id
		where p_gap_from is not null and m.sent_at >= p_gap_from and m.sent_at < p_gap_to
			and not (m.bot_id = any (p_skip_bots))
	),
	-- Totals: three grouping sets of a few values per bot and hour (small hash tables).
	g as (
		select s.bot_id, s.h, s.channel, s.intent, s.model,
			count(*) messages,
			count(*) filter (where s.role = 'bot' and s.success is not null) replies,
			count(*) filter (where s.role = 'bot' and s.success = false) failed_replies,
			coalesce(sum(s.tokens_in), 0) tokens_in, coalesce(sum(s.tokens_out), 0) tokens_out,
			coalesce(sum(s.cost_usd), 0) cost_usd,
			count(*) filter (where s.role = 'bot' and s.rt is not null) rt_count,
			coalesce(sum(s.rt) filter (where s.role = 'bot'), 0) rt_sum,
			grouping(s.channel, s.intent, s.model) gid
		from s
		group by grouping sets ((1, 2, 3), (1, 2, 4), (1, 2, 5))
	),
	-- Histograms: the timed replies only, counted per latency bucket and folded from at most
	-- 161 (bucket, count) pairs per value instead of looping over every reply.
	hp as (
		select s.bot_id, s.h, s.lb, count(*) n, grouping(s.channel, s.intent, s.model) gid,
			case grouping(s.channel, s.intent, s.model) when 3 then s.channel when 5 then s.intent
				else s.model end v
		from s
		where s.role = 'bot' and s.rt is not null
		group by grouping sets ((1, 2, 3, s.channel), (1, 2, 3, s.intent), (1, 2, 3, s.model))
	),
	-- Folded from sorted pairs: hashed, every value's two array_agg states stay in memory at
	-- once (kilobytes each) and a catch-up run over many hours spills them to disk.
	hist as (
		select hp.bot_id, hp.h, hp.gid, hp.v, private.histogram_from_pairs(array_agg(hp.lb), array_agg(hp.n)) histogram
		from (select * from hp order by hp.bot_id, hp.h, hp.gid, hp.v) hp
		group by 1, 2, 3, 4
	)
	select g.bot_id, g.h,
		case g.gid when 3 then 'channel' when 5 then 'intent' else 'model' end,
		case g.gid when 3 then g.channel when 5 then g.intent else g.model end,
		g.messages, g.replies, g.failed_replies, g.tokens_in::bigint, g.tokens_out::bigint, g.cost_usd,
		g.rt_count, g.rt_sum::bigint, coalesce(hist.histogram, private.histogram_of('{}'))
	from g
	left join hist on hist.bot_id = g.bot_id and hist.h = g.h and hist.gid = g.gid
		and hist.v = case g.gid when 3 then g.channel when 5 then g.intent else g.model end;
end
$$;
comment on function private.aggregate_raw_breakdowns(uuid[], timestamptz[], timestamptz[], timestamptz, timestamptz, uuid[]) is
	'Aggregates raw messages inside (bot, from, to) windows, plus an hourly gap for every bot but p_skip_bots, per UTC hour and channel / intent / model.';

-- Called by the hourly job after it filled pg_temp.rollup_rows with every message inside the
-- windows. A touched conversation's metrics are recomputed from all of its messages, but only
-- the ones outside the windows are read again from the raw table (usually none: a conversation
-- rarely spans the watermark), which replaces a random read of every message of every touched
-- conversation by two empty index probes each. Recomputing stays exact and idempotent.
create or replace function private.refresh_conversation_metrics(
	p_bot_ids uuid[], p_from timestamptz[], p_to timestamptz[]
)
returns integer
language plpgsql
set search_path = ''
as $$
declare
	v_gap_from timestamptz;
	v_gap_to timestamptz;
	v_end timestamptz;
	v_rows integer;
begin
	-- The widest window (the gap since the watermark) bounds the index probes; other windows
	-- (dirty hours) are subtracted row by row. After the last window's end lies only the current
	-- hour, read by time.
	select w.from_at, w.to_at into v_gap_from, v_gap_to
	from unnest(p_bot_ids, p_from, p_to) w(bot_id, from_at, to_at)
	order by w.to_at - w.from_at desc limit 1;
	select max(w.to_at) into v_end from unnest(p_to) w(to_at);

	with touched as materialized (
		select r.conversation_id id, r.bot_id from pg_temp.rollup_rows r group by 1, 2
		union
		select c.id, c.bot_id
		from unnest(p_bot_ids, p_from, p_to) w(bot_id, from_at, to_at)
		cross join lateral (
			select c.id, c.bot_id from public.conversations c
			where c.bot_id = w.bot_id and c.started_at >= w.from_at and c.started_at < w.to_at
			union all
			select c.id, c.bot_id from public.conversations c
			where c.bot_id = w.bot_id and c.ended_at >= w.from_at and c.ended_at < w.to_at
			union all
			select c.id, c.bot_id from public.conversations c
			where c.bot_id = w.bot_id and c.handed_off_at >= w.from_at and c.handed_off_at < w.to_at
		) c
	),
	-- Messages of those conversations outside every window, each read once: up to the last
	-- window's end by an index probe per conversation (almost always empty), after it (the
	-- current hour) by one time-range scan.
	outside as materialized (
		select m.* from touched t
		-- Only a conversation rolled up before can have messages outside the windows (a message
		-- that arrives for an hour already rolled up marks that hour dirty, a window): a new
		-- conversation, most of a run's, costs no probe: the primary-key probe of its metrics
		-- comes first (the messages probe reads r's columns), and offset 0 keeps it a probe,
		-- not a hash of every conversation's metrics.
		cross join lateral (select r.conversation_id, r.bot_id from public.conversation_metrics r
			where r.bot_id = t.bot_id and r.conversation_id = t.id offset 0) r
		cross join lateral (
			select m.bot_id, m.conversation_id, m.role, m.sent_at, m.response_time_ms rt, m.success,
				m.tokens_in, m.tokens_out, m.cost_usd
			from public.messages m
			where m.conversation_id = r.conversation_id and m.bot_id = r.bot_id and m.sent_at < v_gap_from
			union all
			select m.bot_id, m.conversation_id, m.role, m.sent_at, m.response_time_ms, m.success,
				m.tokens_in, m.tokens_out, m.cost_usd
			from public.messages m
			where v_end > v_gap_to
				and m.conversation_id = r.conversation_id and m.bot_id = r.bot_id and m.sent_at >= v_gap_to and m.sent_at < v_end
		) m
		where not exists (
			select 1 from unnest(p_bot_ids, p_from, p_to) w(bot_id, from_at, to_at)
			where w.bot_id = m.bot_id and m.sent_at >= w.from_at and m.sent_at < w.to_at
		)
		union all
		select m.bot_id, m.conversation_id, m.role, m.sent_at, m.response_time_ms, m.success,
			m.tokens_in, m.tokens_out, m.cost_usd
		from public.messages m
		join touched t on t.id = m.conversation_id
		where m.sent_at >= v_end
	),
	-- Every message of the touched conversations, each exactly once; inlined in both readers
	-- (a materialized copy of a million rows costs more than reading the temp table twice).
	cm as not materialized (
		select r.conversation_id, r.role, r.sent_at, r.rt, r.success, r.tokens_in, r.tokens_out, r.cost_usd
		from pg_temp.rollup_rows r
		union all
		select o.conversation_id, o.role, o.sent_at, o.rt, o.success, o.tokens_in, o.tokens_out, o.cost_usd
		from outside o
	),
	-- Hashed, no ordered aggregate: a sort of every message costs more than all of this.
	msg as (
		select m.conversation_id,
			count(*) messages,
			count(*) filter (where m.role = 'user') user_messages,
			count(*) filter (where m.role = 'bot') bot_messages,
			count(*) filter (where m.role = 'bot' and m.success is not null) replies,
			count(*) filter (where m.role = 'bot' and m.success = false) failed,
			coalesce(sum(m.tokens_in), 0) tokens_in, coalesce(sum(m.tokens_out), 0) tokens_out,
			coalesce(sum(m.cost_usd), 0) cost_usd, max(m.sent_at) last_at
		from cm m
		group by 1
	),
	-- The timed replies only (half the rows), each conversation's sorted by value for exact
	-- percentiles and by time for the first response (a few rows per sort).
	rts as (
		select m.conversation_id, array_agg(m.rt order by m.rt) rts,
			(array_agg(m.rt order by m.sent_at, m.rt))[1] first_response_ms
		from cm m where m.role = 'bot' and m.rt is not null
		group by 1
	),
	agg as (
		select c.id, c.bot_id, c.started_at, c.status, c.channel,
			coalesce(msg.messages, 0) messages, coalesce(msg.user_messages, 0) user_messages,
			coalesce(msg.bot_messages, 0) bot_messages, rts.first_response_ms,
			-- percentile_disc: the value at rank ceil(p * n).
			rts.rts[greatest(1, ceil(0.5 * cardinality(rts.rts)))::integer] p50,
			rts.rts[greatest(1, ceil(0.95 * cardinality(rts.rts)))::integer] p95,
			coalesce(msg.replies, 0) replies, coalesce(msg.failed, 0) failed,
			coalesce(msg.tokens_in, 0) tokens_in, coalesce(msg.tokens_out, 0) tokens_out,
			coalesce(msg.cost_usd, 0) cost_usd,
			extract(epoch from coalesce(c.ended_at, c.handed_off_at, msg.last_at, c.started_at) - c.started_at) duration
		from touched t
		-- A primary-key probe per touched conversation, not a hash of the whole table.
		cross join lateral (select c.id, c.bot_id, c.started_at, c.status, c.channel, c.ended_at, c.handed_off_at
			from public.conversations c where c.id = t.id offset 0) c
		left join msg on msg.conversation_id = t.id
		left join rts on rts.conversation_id = t.id
	),
	up as (
		insert into public.conversation_metrics as t (conversation_id, bot_id, started_at, status, channel,
			messages, user_messages, bot_messages, first_response_ms, response_p50_ms, response_p95_ms,
			replies, failed_replies, success_rate, tokens_in, tokens_out, cost_usd, duration_seconds,
			resolved, handed_off, rolled_up_at)
		select id, bot_id, started_at, status, channel, messages, user_messages, bot_messages,
			first_response_ms, p50, p95, replies, failed,
			case when replies > 0 then round((replies - failed)::numeric / replies, 4) end,
			tokens_in, tokens_out, cost_usd, greatest(duration, 0), status = 'completed', status = 'handed_off', now()
		from agg
		on conflict (bot_id, conversation_id) do update set
			started_at = excluded.started_at, status = excluded.status,
			channel = excluded.channel, messages = excluded.messages, user_messages = excluded.user_messages,
			bot_messages = excluded.bot_messages, first_response_ms = excluded.first_response_ms,
			response_p50_ms = excluded.response_p50_ms, response_p95_ms = excluded.response_p95_ms,
			replies = excluded.replies, failed_replies = excluded.failed_replies,
			success_rate = excluded.success_rate, tokens_in = excluded.tokens_in,
			tokens_out = excluded.tokens_out, cost_usd = excluded.cost_usd,
			duration_seconds = excluded.duration_seconds, resolved = excluded.resolved,
			handed_off = excluded.handed_off, rolled_up_at = excluded.rolled_up_at
		-- Unchanged rows are not rewritten: a repeated run changes nothing.
		where (t.status, t.messages, t.replies, t.failed_replies, t.cost_usd, t.tokens_in, t.tokens_out,
				t.duration_seconds, t.first_response_ms, t.response_p50_ms, t.response_p95_ms, t.channel)
			is distinct from (excluded.status, excluded.messages, excluded.replies, excluded.failed_replies,
				excluded.cost_usd, excluded.tokens_in, excluded.tokens_out, excluded.duration_seconds,
				excluded.first_response_ms, excluded.response_p50_ms, excluded.response_p95_ms, excluded.channel)
		returning 1
	)
	select count(*)::integer into v_rows from up;
	return v_rows;
end
$$;
comment on function private.refresh_conversation_metrics(uuid[], timestamptz[], timestamptz[]) is
	'Recomputes conversation_metrics of every conversation with a message or an outcome in the windows; reads pg_temp.rollup_rows.';

revoke execute on function private.aggregate_raw(uuid[], timestamptz[], timestamptz[], text, boolean, timestamptz, timestamptz, uuid[]),
	private.aggregate_raw_breakdowns(uuid[], timestamptz[], timestamptz[], timestamptz, timestamptz, uuid[]),
	private.refresh_conversation_metrics(uuid[], timestamptz[], timestamptz[])
	from public, anon;
-- The read API (security invoker) runs these as the caller, under the caller's RLS.
grant execute on function private.aggregate_raw(uuid[], timestamptz[], timestamptz[], text, boolean, timestamptz, timestamptz, uuid[]),
	private.aggregate_raw_breakdowns(uuid[], timestamptz[], timestamptz[], timestamptz, timestamptz, uuid[])
	to authenticated, service_role;
revoke execute on function private.refresh_conversation_metrics(uuid[], timestamptz[], timestamptz[]) from authenticated;

-- Rollup jobs: which windows a run recomputes, and how a bot whose data makes its rollup fail
-- is kept from stopping every other tenant's rollups.
--
-- A run first recomputes all healthy bots together (one scan, the fast path), then each bot
-- with a recorded failure on its own, in a subtransaction. If the batch fails, a new bot is
-- failing: the run redoes every bot of the batch on its own. A bot that still fails has its
-- error recorded in private.rollup_failures (admin.rollup_failures in Studio) and its windows
-- marked dirty again, so every later run retries them; once it succeeds its failure record
-- goes. The watermark advances for everyone, and retention keeps raw rows of hours or days
-- that are still marked dirty (see the retention migration), so nothing is lost meanwhile.

create table private.rollup_failures (
	job text not null check (job in ('hourly', 'daily')),
	bot_id uuid not null references public.bots (id) on delete cascade,
	error_message text not null,
	error_sqlstate text not null,
	first_failed_at timestamptz not null default now(),
	last_failed_at timestamptz not null default now(),
	attempts integer not null default 1,
	primary key (job, bot_id)
);
comment on table private.rollup_failures is
	'Bots whose rollup failed on its own and is retried on every run; a row goes once the bot rolls up again.';
comment on column private.rollup_failures.job is 'hourly or daily.';
comment on column private.rollup_failures.bot_id is 'The bot whose windows failed.';
comment on column private.rollup_failures.error_message is 'The error of the latest attempt.';
comment on column private.rollup_failures.error_sqlstate is 'Its SQLSTATE, e.g. 22003 for numeric overflow.';
comment on column private.rollup_failures.first_failed_at is 'When the bot first failed (since it last succeeded).';
comment on column private.rollup_failures.last_failed_at is 'When the latest attempt failed.';
comment on column private.rollup_failures.attempts is 'Failed attempts so far.';
create index rollup_failures_bot_id_idx on private.rollup_failures (bot_id);

create or replace function private.record_rollup_failure(p_job text, p_bot_id uuid, p_message text, p_sqlstate text)
returns void
language sql
set search_path = ''
as $$
	insert into private.rollup_failures (job, bot_id, error_message, error_sqlstate)
	values (p_job, p_bot_id, p_message, p_sqlstate)
	on conflict (job, bot_id) do update set error_message = excluded.error_message,
		error_sqlstate = excluded.error_sqlstate, last_failed_at = now(),
		attempts = private.rollup_failures.attempts + 1
$$;
comment on function private.record_rollup_failure(text, uuid, text, text) is
	'Records (or counts again) a bot whose rollup failed.';

-- =====================================================================================
-- Hourly
-- =====================================================================================
create or replace function private.run_hourly_rollup()
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
	v_started timestamptz := clock_timestamp();
	v_new_wm timestamptz := date_trunc('hour', now(), 'UTC');
	v_old_wm timestamptz;
	v_gap_from timestamptz;
	v_gap_to timestamptz;
	v_suspects uuid[];
	v_result jsonb := '{}';
	v_windows integer;
	v_bot uuid;
	v_b uuid[];
	v_f timestamptz[];
	v_t timestamptz[];
	v_rows integer := 0;
	v_failed uuid[] := '{}';
	v_message text;
	v_state text;
begin
	if not pg_try_advisory_xact_lock(hashtext('botflow.rollup.hourly')) then
		return jsonb_build_object('skipped', 'another hourly rollup is running');
	end if;
	select watermark into v_old_wm from private.rollup_state where name = 'hourly' for update;
	if v_old_wm is null then
		-- First run: start at the oldest message (one index probe per bot).
		select date_trunc('hour', min(f.first_at), 'UTC') into v_old_wm
		from public.bots b
		cross join lateral (select min(m.sent_at) first_at from public.messages m where m.bot_id = b.id) f;
		v_old_wm := coalesce(least(v_old_wm, v_new_wm), v_new_wm);
	end if;
	if v_old_wm < v_new_wm then
		v_gap_from := v_old_wm;
		v_gap_to := v_new_wm;
	elsif not exists (select 1 from private.rollup_dirty_hours d where d.hour_start < v_new_wm)
		and exists (select 1 from private.rollup_state s where s.name = 'hourly' and s.watermark = v_new_wm) then
		-- Idle (every 15 minutes, mostly): nothing new, so no temporary table and no write.
		return jsonb_build_object('windows', 0, 'rows', 0, 'watermark', v_new_wm, 'failed_bots', '[]'::jsonb);
	end if;

	-- Windows: the whole gap since the watermark for every bot, plus each dirty hour before it.
	if to_regclass('pg_temp.rollup_windows') is not null then
		drop table pg_temp.rollup_windows;
	end if;
	create temporary table rollup_windows on commit drop as
	with dirty as (
		delete from private.rollup_dirty_hours d where d.hour_start < v_new_wm returning d.bot_id, d.hour_start
	)
	select b.id bot_id, v_gap_from from_at, v_gap_to to_at from public.bots b where v_gap_from is not null
	union all
	select d.bot_id, d.hour_start, d.hour_start + interval '1 hour' from dirty d
	where v_gap_from is null or d.hour_start < v_gap_from;
	select count(*) into v_windows from pg_temp.rollup_windows;
	select coalesce(array_agg(f.bot_id), '{}') into v_suspects from private.rollup_failures f where f.job = 'hourly';

	if v_windows > 0 then
		-- Fast path: every bot without a recorded failure, together.
		select array_agg(w.bot_id), array_agg(w.from_at), array_agg(w.to_at) into v_b, v_f, v_t
		from pg_temp.rollup_windows w where not (w.bot_id = any (v_suspects));
		if v_b is not null then
			begin
				v_result := private.rollup_hour_windows(v_b, v_f, v_t, v_gap_from, v_gap_to, v_suspects);
				v_rows := (v_result ->> 'rows')::integer;
			exception when others then
				-- Someone new fails: find out who by rolling every bot up on its own.
				select array_agg(distinct w.bot_id) into v_suspects from pg_temp.rollup_windows w;
			end;
		end if;

		-- One bot at a time, each in its own subtransaction.
		for v_bot in select distinct w.bot_id from pg_temp.rollup_windows w where w.bot_id = any (v_suspects) order by 1 loop
			select array_agg(w.bot_id), array_agg(w.from_at), array_agg(w.to_at) into v_b, v_f, v_t
			from pg_temp.rollup_windows w where w.bot_id = v_bot;
			begin
				v_rows := v_rows + (private.rollup_hour_windows(v_b, v_f, v_t) ->> 'rows')::integer;
				delete from private.rollup_failures f where f.job = 'hourly' and f.bot_id = v_bot;
			exception when others then
				get stacked diagnostics v_message = message_text, v_state = returned_sqlstate;
				perform private.record_rollup_failure('hourly', v_bot, v_message, v_state);
				-- Retried by the next run; retention keeps these hours' raw rows until then.
				insert into private.rollup_dirty_hours (bot_id, hour_start)
				select v_bot, h from pg_temp.rollup_windows w
				cross join lateral generate_series(w.from_at, w.to_at - interval '1 hour', interval '1 hour') h
				where w.bot_id = v_bot
				on conflict do nothing;
				v_failed := v_failed || v_bot;
			end;
		end loop;
	end if;

	if v_windows = 0 then
		update private.rollup_state set watermark = v_new_wm where name = 'hourly' and watermark is distinct from v_new_wm;
	else
		update private.rollup_state set watermark = v_new_wm, last_started_at = v_started,
			last_finished_at = clock_timestamp(), last_rows = v_rows,
			last_duration_ms = round(extract(epoch from clock_timestamp() - v_started)::numeric * 1000, 1)
		where name = 'hourly';
	end if;
	return jsonb_build_object('windows', v_windows, 'rows', v_rows, 'watermark', v_new_wm,
		'failed_bots', to_jsonb(v_failed)) || (v_result - 'rows');
end
$$;
comment on function private.run_hourly_rollup() is
	'Hourly job: rolls raw rows up into usage_analytics, usage_breakdowns and conversation_metrics from the watermark, plus dirty hours; a failing bot is recorded and retried, the others roll up.';

-- =====================================================================================
-- Daily
-- =====================================================================================
create or replace function private.run_daily_rollup()
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
	v_started timestamptz := clock_timestamp();
	v_horizon timestamptz;
	v_suspects uuid[];
	v_windows integer;
	v_bot uuid;
	v_b uuid[];
	v_f timestamptz[];
	v_t timestamptz[];
	v_rows integer := 0;
	v_failed uuid[] := '{}';
	v_message text;
	v_state text;
begin
	if not pg_try_advisory_xact_lock(hashtext('botflow.rollup.daily')) then
		return jsonb_build_object('skipped', 'another daily rollup is running');
	end if;
	-- A day is final once the hourly rollup has passed its end.
	select watermark into v_horizon from private.rollup_state where name = 'hourly';
	if v_horizon is null then
		return jsonb_build_object('days', 0, 'reason', 'the hourly rollup has not run yet');
	end if;

	if not exists (select 1 from private.rollup_dirty_days d where d.day_end <= v_horizon) then
		-- Idle: no temporary table; the watermark only moves when the hourly one did.
		update private.rollup_state set watermark = v_horizon where name = 'daily' and watermark is distinct from v_horizon;
		return jsonb_build_object('days', 0, 'rows', 0, 'watermark', v_horizon, 'failed_bots', '[]'::jsonb);
	end if;
	if to_regclass('pg_temp.rollup_day_windows') is not null then
		drop table pg_temp.rollup_day_windows;
	end if;
	create temporary table rollup_day_windows on commit drop as
	with dirty as (
		delete from private.rollup_dirty_days d where d.day_end <= v_horizon
		returning d.bot_id, d.day_start, d.day_end
	)
	select * from dirty;
	select count(*) into v_windows from pg_temp.rollup_day_windows;
	select coalesce(array_agg(f.bot_id), '{}') into v_suspects from private.rollup_failures f where f.job = 'daily';

	if v_windows > 0 then
		select array_agg(w.bot_id), array_agg(w.day_start), array_agg(w.day_end) into v_b, v_f, v_t
		from pg_temp.rollup_day_windows w where not (w.bot_id = any (v_suspects));
		if v_b is not null then
			begin
				v_rows := private.rollup_day_windows(v_b, v_f, v_t);
			exception when others then
				select array_agg(distinct w.bot_id) into v_suspects from pg_temp.rollup_day_windows w;
			end;
		end if;

		for v_bot in select distinct w.bot_id from pg_temp.rollup_day_windows w where w.bot_id = any (v_suspects) order by 1 loop
			select array_agg(w.bot_id), array_agg(w.day_start), array_agg(w.day_end) into v_b, v_f, v_t
			from pg_temp.rollup_day_windows w where w.bot_id = v_bot;
			begin
				v_rows := v_rows + private.rollup_day_windows(v_b, v_f, v_t);
				delete from private.rollup_failures f where f.job = 'daily' and f.bot_id = v_bot;
			exception when others then
				get stacked diagnostics v_message = message_text, v_state = returned_sqlstate;
				perform private.record_rollup_failure('daily', v_bot, v_message, v_state);
				insert into private.rollup_dirty_days (bot_id, day_start, day_end)
				select w.bot_id, w.day_start, w.day_end from pg_temp.rollup_day_windows w where w.bot_id = v_bot
				on conflict do nothing;
				v_failed := v_failed || v_bot;
			end;
		end loop;
	end if;

	if v_windows = 0 then
		update private.rollup_state set watermark = v_horizon where name = 'daily' and watermark is distinct from v_horizon;
	else
		update private.rollup_state set watermark = v_horizon, last_started_at = v_started,
			last_finished_at = clock_timestamp(), last_rows = v_rows,
			last_duration_ms = round(extract(epoch from clock_timestamp() - v_started)::numeric * 1000, 1)
		where name = 'daily';
	end if;
	return jsonb_build_object('days', v_windows, 'rows', v_rows, 'watermark', v_horizon, 'failed_bots', to_jsonb(v_failed));
end
$$;
comment on function private.run_daily_rollup() is
	'Daily job: recomputes bot_performance_metrics for every marked local day that is over; a failing bot is recorded and retried, the others roll up.';

-- =====================================================================================
-- Current hour
-- =====================================================================================
-- Rolls the current UTC hour up to the last minute that ended at least two minutes ago
-- (scheduled every minute), so live reads of a busy bot read at most about three minutes of
-- raw rows. Each run adds the minutes since a bot's row ends to it; a row
-- marked stale (a late event, see private.mark_dirty_hours) is recomputed from the hour's
-- start. Additive figures only, from private.aggregate_raw like every other rollup. Rows and
-- marks of hours that are over go: the hourly rollup has those.
create or replace function private.run_current_hour_rollup(p_now timestamptz default now())
returns jsonb
language plpgsql
security definer
set search_path = ''
set jit = off
as $$
declare
	v_hour timestamptz := date_trunc('hour', p_now, 'UTC');
	v_to timestamptz := date_trunc('minute', p_now - interval '2 minutes');
	v_stale uuid[];
	v_bots uuid[];
	v_from timestamptz[];
	v_rows integer;
	v_message text;
begin
	if not pg_try_advisory_xact_lock(hashtext('botflow.rollup.current_hour')) then
		return jsonb_build_object('skipped', 'another current-hour rollup is running');
	end if;
	delete from private.usage_current_hours u where u.hour_start < v_hour;
	delete from private.rollup_stale_current_hours s where s.hour_start < v_hour;
	if v_to <= v_hour then
		return jsonb_build_object('hour', v_hour, 'covered_to', null, 'bots', 0);
	end if;
	-- The marks go before the rows are read: a mark committed after this statement survives and
	-- keeps the new row from readers until the next run recomputes it.
	with gone as (
		delete from private.rollup_stale_current_hours s where s.hour_start = v_hour returning s.bot_id
	)
	select coalesce(array_agg(distinct g.bot_id), '{}') into v_stale from gone g;
	-- Each bot from the end of its clean row, or from the hour's start; bots already done skip.
	select coalesce(array_agg(b.id order by b.id), '{}'),
		coalesce(array_agg(case when u.covered_to is null or b.id = any (v_stale) then v_hour else u.covered_to end order by b.id), '{}')
	into v_bots, v_from
	from public.bots b
	left join private.usage_current_hours u on u.bot_id = b.id and u.hour_start = v_hour
	where u.covered_to is null or u.covered_to < v_to or b.id = any (v_stale);
	if cardinality(v_bots) = 0 then
		return jsonb_build_object('hour', v_hour, 'covered_to', v_to, 'bots', 0);
	end if;
	begin
		with w as (
			select w.bot_id, w.from_at from unnest(v_bots, v_from) w(bot_id, from_at)
		),
		-- A window per bot: grain 'window' gives one row per bot that had anything in it.
		agg as (
			select * from private.aggregate_raw(v_bots, v_from, array_fill(v_to, array[cardinality(v_bots)]), 'window', false)
		),
		-- What the new row is: the clean row so far plus the new minutes, or those alone.
		up as (
			insert into private.usage_current_hours as t (bot_id, hour_start, covered_to, messages, user_messages,
				bot_messages, conversations_started, conversations_resolved, conversations_abandoned,
				conversations_handed_off, tokens_in, tokens_out, cost_usd, replies, failed_replies,
				response_time_count, response_time_sum_ms, latency_histogram, rolled_up_at)
			select w.bot_id, v_hour, v_to,
				coalesce(u.messages, 0) + coalesce(a.messages, 0), coalesce(u.user_messages, 0) + coalesce(a.user_messages, 0),
				coalesce(u.bot_messages, 0) + coalesce(a.bot_messages, 0),
				coalesce(u.conversations_started, 0) + coalesce(a.conversations_started, 0),
				coalesce(u.conversations_resolved, 0) + coalesce(a.conversations_resolved, 0),
				coalesce(u.conversations_abandoned, 0) + coalesce(a.conversations_abandoned, 0),
				coalesce(u.conversations_handed_off, 0) + coalesce(a.conversations_handed_off, 0),
				coalesce(u.tokens_in, 0) + coalesce(a.tokens_in, 0), coalesce(u.tokens_out, 0) + coalesce(a.tokens_out, 0),
				coalesce(u.cost_usd, 0) + coalesce(a.cost_usd, 0), coalesce(u.replies, 0) + coalesce(a.replies, 0),
				coalesce(u.failed_replies, 0) + coalesce(a.failed_replies, 0),
				coalesce(u.response_time_count, 0) + coalesce(a.response_time_count, 0),
				coalesce(u.response_time_sum_ms, 0) + coalesce(a.response_time_sum_ms, 0),
				private.histogram_fold(array[coalesce(u.latency_histogram, private.histogram_of('{}')),
					coalesce(a.latency_histogram, private.histogram_of('{}'))]),
				now()
			from w
			left join private.usage_current_hours u on u.bot_id = w.bot_id and u.hour_start = v_hour and w.from_at > v_hour
			left join agg a on a.bot_id = w.bot_id
			on conflict (bot_id, hour_start) do update set covered_to = excluded.covered_to,
				messages = excluded.messages, user_messages = excluded.user_messages, bot_messages = excluded.bot_messages,
				conversations_started = excluded.conversations_started,
				conversations_resolved = excluded.conversations_resolved,
				conversations_abandoned = excluded.conversations_abandoned,
				conversations_handed_off = excluded.conversations_handed_off, tokens_in = excluded.tokens_in,
				tokens_out = excluded.tokens_out, cost_usd = excluded.cost_usd, replies = excluded.replies,
				failed_replies = excluded.failed_replies, response_time_count = excluded.response_time_count,
				response_time_sum_ms = excluded.response_time_sum_ms, latency_histogram = excluded.latency_histogram,
				rolled_up_at = excluded.rolled_up_at
			returning 1
		)
		select count(*) into v_rows from up;
	exception when others then
		-- A bot whose figures cannot be summed (an overflow) must not stop the others' reads: no
		-- current-hour rows at all this hour, so every read takes raw rows, as before this rollup.
		get stacked diagnostics v_message = message_text;
		delete from private.usage_current_hours u where u.hour_start = v_hour;
		return jsonb_build_object('hour', v_hour, 'covered_to', null, 'bots', 0, 'error', v_message);
	end;
	return jsonb_build_object('hour', v_hour, 'covered_to', v_to, 'bots', v_rows, 'recomputed_stale', cardinality(v_stale));
end
$$;
comment on function private.run_current_hour_rollup(timestamptz) is
	'Current-hour job: rolls each bot''s current UTC hour up to the last minute boundary at least 2 minutes before p_now into private.usage_current_hours.';

revoke execute on function private.record_rollup_failure(text, uuid, text, text), private.run_hourly_rollup(),
	private.run_daily_rollup(), private.run_current_hour_rollup(timestamptz) from public, anon, authenticated;
grant execute on function private.run_hourly_rollup(), private.run_daily_rollup(),
	private.run_current_hour_rollup(timestamptz) to service_role;

-- Retention: raw conversations and messages older than their organization's retention_days
-- are deleted; the rollups (usage_analytics, bot_performance_metrics, usage_breakdowns,
-- conversation_metrics) stay. Messages are found through the BRIN index on sent_at and removed
-- in bounded batches, so one run never holds long locks or bloats WAL in one go; a run that
-- hits its batch budget simply continues the next day.
--
-- Nothing is deleted before it is rolled up: a bot's cutoff never passes the hourly watermark,
-- nor the first hour or local day of that bot still marked dirty (late events, or a rollup that
-- failed and waits for its retry).

create or replace function private.apply_retention(p_batch_size integer default 20000, p_max_batches integer default 100)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
	v_bot uuid;
	v_rolled_up timestamptz;
	v_cutoff timestamptz;
	v_n integer;
	v_batches integer := 0;
	v_messages bigint := 0;
	v_conversations bigint := 0;
begin
	if not pg_try_advisory_xact_lock(hashtext('botflow.retention')) then
		return jsonb_build_object('skipped', 'another retention run is in progress');
	end if;
	-- What expires leaves the rollups as they are: the delete triggers mark nothing dirty.
	perform set_config('botflow.retention_purge', 'on', true);
	select coalesce(s.watermark, '-infinity') into v_rolled_up from private.rollup_state s where s.name = 'hourly';
	for v_bot, v_cutoff in
		select b.id, least(now() - make_interval(days => o.retention_days), v_rolled_up,
			(select min(h.hour_start) from private.rollup_dirty_hours h where h.bot_id = b.id),
			(select min(d.day_start) from private.rollup_dirty_days d where d.bot_id = b.id))
		from public.organizations o join public.bots b on b.organization_id = o.id
		order by o.id, b.id
	loop
		loop
			exit when v_batches >= p_max_batches;
			delete from public.messages m
			where m.id in (
				select d.id from public.messages d
				where d.bot_id = v_bot and d.sent_at < v_cutoff
				limit p_batch_size
			);
			get diagnostics v_n = row_count;
			-- Only batches that deleted something count against the budget.
			v_batches := v_batches + (v_n > 0)::integer;
			v_messages := v_messages + v_n;
			exit when v_n < p_batch_size;
		end loop;
		-- A conversation goes once its last message is past the cutoff (its messages went above).
		delete from public.conversations c
		where c.bot_id = v_bot and coalesce(c.last_message_at, c.started_at) < v_cutoff
			and coalesce(c.ended_at, c.handed_off_at, c.started_at) < v_cutoff;
		get diagnostics v_n = row_count;
		v_conversations := v_conversations + v_n;
		-- Quarter rows serve only edges whose raw rows are still there: those of whole hours
		-- before the cutoff go (the hours and days stay).
		delete from private.usage_quarters q where q.bot_id = v_bot and q.quarter_start < date_trunc('hour', v_cutoff, 'UTC');
	end loop;
	perform set_config('botflow.retention_purge', 'off', true);
	return jsonb_build_object('messages_deleted', v_messages, 'conversations_deleted', v_conversations,
		'batches', v_batches, 'budget_exhausted', v_batches >= p_max_batches);
end
$$;
comment on function private.apply_retention(integer, integer) is
	'Daily job: deletes raw messages and conversations older than each organization''s retention_days, in bounded batches; rollups are kept.';
revoke execute on function private.apply_retention(integer, integer) from public, anon, authenticated;
grant execute on function private.apply_retention(integer, integer) to service_role;

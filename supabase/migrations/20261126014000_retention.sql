-- Retention: raw conversations and messages older than their organization's retention_days
-- are deleted; the rollups (usage_analytics, bot_performance_metrics, usage_breakdowns,
-- conversation_metrics) stay. Messages are found through the BRIN index on sent_at and removed
-- in bounded batches, so one run never holds long locks or bloats WAL in one go; a run that
-- hits its batch budget simply continues the next day.

create or replace function private.apply_retention(p_batch_size integer default 20000, p_max_batches integer default 100)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
	v_org record;
	v_bots uuid[];
	v_cutoff timestamptz;
	v_n integer;
	v_batches integer := 0;
	v_messages bigint := 0;
	v_conversations bigint := 0;
begin
	if not pg_try_advisory_xact_lock(hashtext('botflow.retention')) then
		return jsonb_build_object('skipped', 'another retention run is in progress');
	end if;
	for v_org in select o.id, o.retention_days from public.organizations o order by o.id loop
		v_cutoff := now() - make_interval(days => v_org.retention_days);
		select array_agg(b.id) into v_bots from public.bots b where b.organization_id = v_org.id;
		continue when v_bots is null;
		loop
			exit when v_batches >= p_max_batches;
			delete from public.messages m
			where m.id in (
				select d.id from public.messages d
				where d.bot_id = any (v_bots) and d.sent_at < v_cutoff
				limit p_batch_size
			);
			get diagnostics v_n = row_count;
			v_batches := v_batches + 1;
			v_messages := v_messages + v_n;
			exit when v_n < p_batch_size;
		end loop;
		-- A conversation goes once its last message is past the cutoff (its messages went above).
		delete from public.conversations c
		where c.bot_id = any (v_bots) and coalesce(c.last_message_at, c.started_at) < v_cutoff
			and coalesce(c.ended_at, c.handed_off_at, c.started_at) < v_cutoff;
		get diagnostics v_n = row_count;
		v_conversations := v_conversations + v_n;
	end loop;
	return jsonb_build_object('messages_deleted', v_messages, 'conversations_deleted', v_conversations,
		'batches', v_batches, 'budget_exhausted', v_batches >= p_max_batches);
end
$$;
comment on function private.apply_retention(integer, integer) is
	'Daily job: deletes raw messages and conversations older than each organization''s retention_days, in bounded batches; rollups are kept.';
revoke execute on function private.apply_retention(integer, integer) from public, anon, authenticated;
grant execute on function private.apply_retention(integer, integer) to service_role;

-- Rollup change tracking: where each rollup has got to (watermarks) and which past hours and
-- local days must be recomputed because data arrived or changed after they were rolled up
-- (dirty marks, written by statement triggers on the raw tables).

-- =====================================================================================
-- Rollup state: watermarks and dirty marks (private)
-- =====================================================================================
create table private.rollup_state (
	name text primary key check (name in ('hourly', 'daily')),
	watermark timestamptz,
	last_started_at timestamptz,
	last_finished_at timestamptz,
	last_duration_ms numeric,
	last_rows integer
);
comment on table private.rollup_state is
	'One row per rollup: everything before watermark is rolled up (hourly: UTC hours; daily: days ending by then).';
comment on column private.rollup_state.name is 'hourly or daily.';
comment on column private.rollup_state.watermark is 'Rolled up to here; null before the first run (start from the oldest message).';
comment on column private.rollup_state.last_started_at is 'Start of the last run that did work.';
comment on column private.rollup_state.last_finished_at is 'End of that run.';
comment on column private.rollup_state.last_duration_ms is 'Its duration in ms.';
comment on column private.rollup_state.last_rows is 'Rows it wrote.';
insert into private.rollup_state (name) values ('hourly'), ('daily');

create table private.rollup_dirty_hours (
	bot_id uuid not null references public.bots (id) on delete cascade,
	hour_start timestamptz not null,
	primary key (bot_id, hour_start)
);
comment on table private.rollup_dirty_hours is
	'UTC hours that received a late event or a conversation change after (or while) they were rolled up.';
comment on column private.rollup_dirty_hours.bot_id is 'The bot.';
comment on column private.rollup_dirty_hours.hour_start is 'Start of the UTC hour to recompute.';
create index rollup_dirty_hours_hour_start_idx on private.rollup_dirty_hours (hour_start);

create table private.rollup_dirty_days (
	bot_id uuid not null references public.bots (id) on delete cascade,
	day_start timestamptz not null,
	day_end timestamptz not null,
	primary key (bot_id, day_start)
);
comment on table private.rollup_dirty_days is 'Local days whose hours changed: the daily rollup recomputes them once they are over.';
comment on column private.rollup_dirty_days.bot_id is 'The bot.';
comment on column private.rollup_dirty_days.day_start is 'Local midnight starting the day.';
comment on column private.rollup_dirty_days.day_end is 'Next local midnight.';
create index rollup_dirty_days_day_end_idx on private.rollup_dirty_days (day_end);

create table private.rollup_stale_current_hours (
	bot_id uuid not null references public.bots (id) on delete cascade,
	hour_start timestamptz not null,
	primary key (bot_id, hour_start)
);
comment on table private.rollup_stale_current_hours is
	'Recent UTC hours that received an event over a minute after its minute ended: their private.usage_current_hours row may lack it.';
comment on column private.rollup_stale_current_hours.bot_id is 'The bot.';
comment on column private.rollup_stale_current_hours.hour_start is 'Start of the UTC hour.';

-- Marks hours that may already be rolled up. Events of the current hour are covered when the
-- watermark passes it, except near the end of the hour, where a transaction may commit after
-- the rollup read it: hence the 10-minute margin.
-- The current-hour rollup reads each minute two minutes after it ends; an event that arrives
-- over a minute after its minute ended may come after that read (or commit after it), so its
-- hour's current-hour row is marked stale (the next run, a minute later, recomputes it). Only
-- recent hours: no older hour has such a row a reader would take.
create or replace function private.mark_dirty_hours(p_bot_ids uuid[], p_times timestamptz[])
returns void
language sql
security definer
set search_path = ''
as $$
	-- One pass over the rows: a (bot, hour) holds an event before a bound iff its first one is.
	with h as materialized (
		select u.bot_id, date_trunc('hour', u.at, 'UTC') hour_start, min(u.at) first_at
		from unnest(p_bot_ids, p_times) u(bot_id, at)
		where u.at is not null
		group by 1, 2
	),
	dirty as (
		insert into private.rollup_dirty_hours (bot_id, hour_start)
		select h.bot_id, h.hour_start from h
		where h.first_at < date_trunc('hour', clock_timestamp() + interval '10 minutes', 'UTC')
		order by 1, 2
		on conflict do nothing
	)
	insert into private.rollup_stale_current_hours (bot_id, hour_start)
	select h.bot_id, h.hour_start from h
	where h.first_at < date_trunc('minute', clock_timestamp() - interval '1 minute')
		and h.hour_start >= date_trunc('hour', clock_timestamp(), 'UTC') - interval '2 hours'
	order by 1, 2
	on conflict do nothing
$$;
comment on function private.mark_dirty_hours(uuid[], timestamptz[]) is
	'Records (bot, hour) pairs the hourly rollup must recompute because data arrived for them late, and recent hours whose current-hour row it may lack.';

create or replace function private.mark_dirty_from_messages()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
	perform private.mark_dirty_hours(array_agg(bot_id), array_agg(sent_at)) from new_rows;
	return null;
end
$$;
comment on function private.mark_dirty_from_messages() is 'After inserting messages: marks late hours dirty.';

create or replace function private.mark_dirty_from_conversations()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
	perform private.mark_dirty_hours(array_agg(c.bot_id), array_agg(c.at))
	from (
		select n.bot_id, t.at from new_rows n
		cross join lateral (values (n.started_at), (n.ended_at), (n.handed_off_at)) t(at)
	) c;
	return null;
end
$$;
comment on function private.mark_dirty_from_conversations() is
	'After inserting or updating conversations: marks the hours of their start, end and handoff dirty.';

create or replace function private.mark_dirty_from_conversation_changes()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
	-- Old times too: an outcome that moved leaves its former hour to correct.
	perform private.mark_dirty_hours(array_agg(c.bot_id), array_agg(c.at))
	from (
		select n.bot_id, t.at from new_rows n
		join old_rows o on o.id = n.id
		cross join lateral (values (n.started_at), (n.ended_at), (n.handed_off_at),
			(o.started_at), (o.ended_at), (o.handed_off_at)) t(at)
		where (n.status, n.started_at, n.ended_at, n.handed_off_at)
			is distinct from (o.status, o.started_at, o.ended_at, o.handed_off_at)
	) c;
	return null;
end
$$;
comment on function private.mark_dirty_from_conversation_changes() is
	'After updating conversations: marks the old and new hours of a changed status or outcome dirty.';

-- Deletes: an owner removing a conversation or a message (REST) takes it out of the rollups
-- too, or the cards would still count what the conversation list and the export no longer
-- show. Retention is the exception: rollups outlive the raw rows on purpose, so it sets
-- botflow.retention_purge for its transaction and the delete triggers return at once (its
-- batches are large: nothing is read for them).
create or replace function private.retention_purging()
returns boolean
language sql
stable
set search_path = ''
as $$
	select coalesce(current_setting('botflow.retention_purge', true) = 'on', false)
$$;
comment on function private.retention_purging() is
	'Whether this transaction''s deletes are retention''s (private.apply_retention sets botflow.retention_purge).';

-- Only hours wholly inside the retention window are marked: an older hour may have lost raw
-- rows to retention already, and recomputed from the rest it would lose their counts. A bot
-- being deleted is not found here: it takes its rollups with it (and a mark could not
-- reference it).
create or replace function private.mark_dirty_hours_of_deletes(p_bot_ids uuid[], p_times timestamptz[])
returns void
language sql
security definer
set search_path = ''
as $$
	select private.mark_dirty_hours(array_agg(u.bot_id), array_agg(u.at))
	from unnest(p_bot_ids, p_times) u(bot_id, at)
	join public.bots b on b.id = u.bot_id
	join public.organizations o on o.id = b.organization_id
	where u.at >= now() - make_interval(days => o.retention_days) + interval '1 hour'
$$;
comment on function private.mark_dirty_hours_of_deletes(uuid[], timestamptz[]) is
	'Marks the hours of deleted rows dirty, except hours retention may have begun to delete.';

create or replace function private.mark_dirty_from_message_deletes()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
	if private.retention_purging() then
		return null;
	end if;
	perform private.mark_dirty_hours_of_deletes(array_agg(d.bot_id), array_agg(d.at))
	from (
		select o.bot_id, o.sent_at at from old_rows o
		union all
		-- Its conversation's start hour too: the rollup recomputes the metrics of conversations
		-- its windows touch, and the deleted message may have been the only one in its hour.
		select c.bot_id, c.started_at from public.conversations c
		where c.id in (select o.conversation_id from old_rows o)
	) d;
	return null;
end
$$;
comment on function private.mark_dirty_from_message_deletes() is
	'After deleting messages (not by retention): marks their hours and their conversations'' start hours dirty (see mark_dirty_hours_of_deletes).';

create or replace function private.mark_dirty_from_conversation_deletes()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
	if private.retention_purging() then
		return null;
	end if;
	delete from public.conversation_metrics m using old_rows o where m.bot_id = o.bot_id and m.conversation_id = o.id;
	perform private.mark_dirty_hours_of_deletes(array_agg(o.bot_id), array_agg(t.at))
	from old_rows o
	cross join lateral (values (o.started_at), (o.ended_at), (o.handed_off_at)) t(at);
	return null;
end
$$;
comment on function private.mark_dirty_from_conversation_deletes() is
	'After deleting conversations (not by retention): drops their metrics and marks the hours of their start, end and handoff dirty (see mark_dirty_hours_of_deletes).';

create trigger mark_dirty_hours
	after insert on public.messages
	referencing new table as new_rows
	for each statement execute function private.mark_dirty_from_messages();
create trigger mark_dirty_hours_on_insert
	after insert on public.conversations
	referencing new table as new_rows
	for each statement execute function private.mark_dirty_from_conversations();
create trigger mark_dirty_hours_on_update
	after update on public.conversations
	referencing old table as old_rows new table as new_rows
	for each statement execute function private.mark_dirty_from_conversation_changes();

create trigger mark_dirty_hours_on_delete
	after delete on public.messages
	referencing old table as old_rows
	for each statement execute function private.mark_dirty_from_message_deletes();
create trigger mark_dirty_hours_on_delete
	after delete on public.conversations
	referencing old table as old_rows
	for each statement execute function private.mark_dirty_from_conversation_deletes();

revoke execute on function private.mark_dirty_hours(uuid[], timestamptz[]), private.mark_dirty_from_messages(),
	private.mark_dirty_from_conversations(), private.mark_dirty_from_conversation_changes(),
	private.retention_purging(), private.mark_dirty_hours_of_deletes(uuid[], timestamptz[]),
	private.mark_dirty_from_message_deletes(), private.mark_dirty_from_conversation_deletes()
	from public, anon;
revoke execute on function private.mark_dirty_hours(uuid[], timestamptz[]),
	private.mark_dirty_hours_of_deletes(uuid[], timestamptz[]) from authenticated;

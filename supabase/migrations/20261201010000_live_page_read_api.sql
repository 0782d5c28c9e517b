-- Live page read API: the conversation-duration distribution for the bot page's chart.
--
-- The bars count exactly what the conversations list shows when a bar is clicked: the rows of
-- public.export_conversations (conversations started in [p_from, p_to), the same
-- duration_seconds, rounded to the millisecond) falling in [min_seconds, max_seconds). The
-- list's inclusive max filter gets max_seconds - 0.001, which selects the same rows because
-- durations are whole milliseconds. Chart, list and export therefore agree by construction.
--
--   bot_duration_distribution(p_bot_id uuid, p_from timestamptz, p_to timestamptz)
--     -> one row per duration band (all bands, empty ones with 0), shortest first;
--        max_seconds is null for the last, open-ended band.

create or replace function public.bot_duration_distribution(p_bot_id uuid, p_from timestamptz, p_to timestamptz)
returns table (band integer, label text, min_seconds numeric, max_seconds numeric, conversations bigint)
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
	perform private.check_range(p_from, p_to);
	return query
	with bands (band, label, min_seconds, max_seconds) as (
		values (1, 'under 30 s', 0::numeric, 30::numeric), (2, '30 s – 1 min', 30, 60),
			(3, '1–2 min', 60, 120), (4, '2–5 min', 120, 300), (5, '5–10 min', 300, 600),
			(6, '10–30 min', 600, 1800), (7, '30 min or more', 1800, null)
	)
	select b.band, b.label, b.min_seconds, b.max_seconds, count(e.id)
	from bands b
	left join public.export_conversations(p_bot_id, p_from, p_to) e
		on e.duration_seconds >= b.min_seconds and (b.max_seconds is null or e.duration_seconds < b.max_seconds)
	group by b.band, b.label, b.min_seconds, b.max_seconds
	order by b.band;
end
$$;
comment on function public.bot_duration_distribution(uuid, timestamptz, timestamptz) is
	'How long a bot''s conversations started in [p_from, p_to) lasted, in seven bands [min_seconds, max_seconds); counts the rows export_conversations returns, so a band equals its drill-down list.';
revoke execute on function public.bot_duration_distribution(uuid, timestamptz, timestamptz) from public, anon;
grant execute on function public.bot_duration_distribution(uuid, timestamptz, timestamptz) to authenticated, service_role;

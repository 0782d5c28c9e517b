-- Schema hygiene the whole API relies on: every function has a fixed search_path; every
-- table in public has RLS; every foreign key and every column a policy filters on is indexed;
-- no view bypasses RLS; internals are out of the API roles' reach; Studio finds a comment on
-- every table and column; the jobs are scheduled. Lists come from the catalog, never by hand.
begin;
select plan(15);

select is(array(
	select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
	where n.nspname in ('public', 'private', 'admin')
		and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')
		and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) c where c like 'search_path=%')
	order by 1), '{}'::text[], 'every function in public, private and admin has a fixed search_path');

select is(array(
	select c.oid::regclass::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
	where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relrowsecurity order by 1),
	'{}'::text[], 'every table in public has row level security on');

select is(array(
	select c.conrelid::regclass::text || ' (' || (select string_agg(a.attname, ', ') from pg_attribute a
		where a.attrelid = c.conrelid and a.attnum = any (c.conkey)) || ')'
	from pg_constraint c join pg_namespace n on n.oid = c.connamespace
	where c.contype = 'f' and n.nspname in ('public', 'private')
		and not exists (
			select 1 from pg_index i where i.indrelid = c.conrelid
				and (select array_agg(x order by x) from unnest((i.indkey::int2[])[0:cardinality(c.conkey) - 1]) x)
					= (select array_agg(x order by x) from unnest(c.conkey) x))
	order by 1), '{}'::text[], 'every foreign key is the leading part of an index');

select is(array(
	select distinct p.schemaname || '.' || p.tablename || '.' || a.attname
	from pg_policies p
	join pg_attribute a on a.attrelid = (quote_ident(p.schemaname) || '.' || quote_ident(p.tablename))::regclass
		and a.attnum > 0 and not a.attisdropped
	where p.schemaname = 'public'
		and coalesce(p.qual, '') ~ ('\m' || a.attname || '\M')
		and not exists (select 1 from pg_index i where i.indrelid = a.attrelid and a.attnum = any (i.indkey::int2[]))
	order by 1), '{}'::text[], 'every column a policy filters rows on (using) is indexed');

select is(array(
	select c.oid::regclass::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
	where n.nspname in ('public', 'admin') and c.relkind in ('v', 'm')
		and not coalesce(c.reloptions @> array['security_invoker=true'], false)
	order by 1), '{}'::text[], 'no view bypasses RLS: every view is security_invoker');

select is(array(
	select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
	where n.nspname in ('private', 'admin')
		and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')
		and (has_function_privilege('anon', p.oid, 'execute') or has_function_privilege('public', p.oid, 'execute'))
	order by 1), '{}'::text[], 'no internal function is executable by anon or public');

-- Derived from the catalog: whatever functions are added later are covered too.
select is(array(
	select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
	where n.nspname in ('public', 'private', 'admin')
		and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')
		and has_function_privilege('anon', p.oid, 'execute')
	order by 1), '{}'::text[], 'no function of ours is executable by anon (the app has no signed-out calls)');
select isnt_empty($$select 1 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
	where n.nspname = 'public' and has_function_privilege('authenticated', p.oid, 'execute')$$,
	'signed-in users do have RPCs to call');

select ok(not has_schema_privilege('anon', 'private', 'usage') and not has_schema_privilege('anon', 'admin', 'usage')
	and not has_schema_privilege('authenticated', 'admin', 'usage') and not has_schema_privilege('service_role', 'admin', 'usage'),
	'schemas private and admin are out of reach of the API roles that must not use them');

select is(array(
	select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
	where n.nspname = 'public' and p.prosecdef
		and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')
	order by 1), '{}'::text[], 'every function in public runs as the caller (security invoker)');

select is(array(
	select c.oid::regclass::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
	where n.nspname in ('public', 'private', 'admin') and c.relkind in ('r', 'p', 'v', 'm')
		and obj_description(c.oid, 'pg_class') is null order by 1), '{}'::text[],
	'every table and view of public, private and admin has a comment');
select is(array(
	select c.oid::regclass::text || '.' || a.attname from pg_class c join pg_namespace n on n.oid = c.relnamespace
	join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
	where n.nspname in ('public', 'private', 'admin') and c.relkind in ('r', 'p', 'v', 'm')
		and col_description(c.oid, a.attnum) is null order by 1), '{}'::text[],
	'every column of those tables and views has a comment');

select set_eq($$select jobname, active from cron.job where jobname like 'botflow-%'$$,
	$$values ('botflow-rollup-hourly', true), ('botflow-rollup-current-hour', true), ('botflow-rollup-daily', true),
		('botflow-retention', true), ('botflow-prune-cron-history', true)$$,
	'pg_cron runs the hourly, current-hour and daily rollups, retention and the pruning of its own history');
select isnt_empty($$select 1 from admin.cron_job_health where jobname = 'botflow-rollup-hourly' and rollup_watermark is not null$$,
	'the cron health view shows each rollup''s watermark');
select ok(exists (select 1 from pg_indexes where tablename = 'messages' and indexdef ilike '%using brin (sent_at)%'),
	'messages carry a BRIN index on time for retention and rollup windows');

select * from finish();
rollback;

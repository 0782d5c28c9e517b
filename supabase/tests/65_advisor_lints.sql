-- Database advisor: the security checks of Supabase's advisor (the lints of supabase/splinter,
-- written here as our own catalog queries) find nothing in our schema, except the one explicit
-- exception of the API surface migration, which is checked for the condition that justifies it.
-- Every list is read from the catalog; exposed schemas are the API's (config.toml: public,
-- graphql_public). GraphQL lints assume pg_graphql is installed, as it is on hosted projects.
begin;
select plan(17);

create temp table exposed as select unnest(array['public', 'graphql_public']) nspname;
-- Schemas the advisor never reports on (platform-managed).
create temp table platform as select unnest(array['auth', 'cron', 'extensions', 'graphql', 'graphql_public',
	'information_schema', 'net', 'pgmq', 'pgsodium', 'pgsodium_masks', 'pgbouncer', 'pg_catalog', 'pg_toast', 'realtime',
	'storage', 'supabase_functions', 'supabase_migrations', 'vault']) nspname;

-- ---------------------------------------------------------------- ERROR level
select is(array(
	select c.oid::regclass::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
	where n.nspname in (select nspname from exposed) and c.relkind in ('r', 'p') and not c.relrowsecurity
	order by 1), '{}'::text[], '0013 rls_disabled_in_public: every table the API exposes has RLS on');
select is(array(
	select distinct c.oid::regclass::text from pg_policy p join pg_class c on c.oid = p.polrelid
	join pg_namespace n on n.oid = c.relnamespace
	where n.nspname in (select nspname from exposed) and not c.relrowsecurity order by 1), '{}'::text[],
	'0007 policy_exists_rls_disabled: no table has policies while RLS is off');
select is(array(
	select c.oid::regclass::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
	where n.nspname in (select nspname from exposed) and c.relkind = 'v'
		and not coalesce(c.reloptions @> array['security_invoker=true'], false)
	order by 1), '{}'::text[], '0010 security_definer_view: no exposed view runs with its owner''s rights');
select is(array(
	select distinct v.oid::regclass::text from pg_class v join pg_namespace n on n.oid = v.relnamespace
	join pg_rewrite r on r.ev_class = v.oid
	join pg_depend d on d.objid = r.oid and d.refobjid = 'auth.users'::regclass
	where n.nspname in (select nspname from exposed) and v.relkind in ('v', 'm')
		and (has_table_privilege('anon', v.oid, 'select') or has_table_privilege('authenticated', v.oid, 'select'))
	order by 1), '{}'::text[], '0002 auth_users_exposed: no exposed view reads auth.users');
select is(array(
	select c.oid::regclass::text || ': ' || p.polname from pg_policy p join pg_class c on c.oid = p.polrelid
	join pg_namespace n on n.oid = c.relnamespace
	where n.nspname not in (select nspname from platform)
		and (coalesce(pg_get_expr(p.polqual, p.polrelid), '') ~ 'user_metadata'
			or coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '') ~ 'user_metadata')
	order by 1), '{}'::text[], '0015 rls_references_user_metadata: no policy trusts user-editable metadata');
select is(array(
	select c.conrelid::regclass::text || ' -> ' || c.confrelid::regclass::text from pg_constraint c
	join pg_class t on t.oid = c.confrelid join pg_namespace n on n.oid = t.relnamespace
	where c.contype = 'f' and n.nspname = 'auth'
		and not exists (select 1 from pg_constraint pk where pk.conrelid = c.confrelid and pk.contype = 'p'
			and pk.conkey = c.confkey)
	order by 1), '{}'::text[], '0021 fkey_to_auth_unique: foreign keys into auth reference primary keys only');

-- ---------------------------------------------------------------- WARN level
select is(array(
	select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
	where n.nspname not in (select nspname from platform) and n.nspname not like 'pg\_%'
		and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')
		and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) c where c like 'search_path=%')
	order by 1), '{}'::text[], '0011 function_search_path_mutable: every function has a fixed search_path');
select is(array(
	select e.extname::text from pg_extension e join pg_namespace n on n.oid = e.extnamespace
	where n.nspname = 'public' order by 1), '{}'::text[], '0014 extension_in_public: no extension lives in public (pg_cron included)');
select is((select n.nspname::text from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pg_cron'),
	'pg_catalog', 'pg_cron is created where hosted Supabase creates it');
select is(array(
	select c.oid::regclass::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
	where n.nspname in (select nspname from exposed) and c.relkind in ('m', 'f')
		and (has_table_privilege('anon', c.oid, 'select') or has_table_privilege('authenticated', c.oid, 'select'))
	order by 1), '{}'::text[], '0016 / 0017: no materialized view or foreign table in the API');
select is(array(
	select a.attrelid::regclass::text || '.' || a.attname from pg_attribute a
	join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
	where n.nspname not in (select nspname from platform) and n.nspname not like 'pg\_%' and a.attnum > 0 and not a.attisdropped
		and a.atttypid in ('regcollation'::regtype, 'regconfig'::regtype, 'regdictionary'::regtype, 'regnamespace'::regtype,
			'regoper'::regtype, 'regoperator'::regtype, 'regproc'::regtype, 'regprocedure'::regtype)
	order by 1), '{}'::text[], '0018 unsupported_reg_types: no column blocks a major-version upgrade');
select is(array(
	select e.extname || ' ' || e.extversion from pg_extension e join pg_available_extensions a on a.name = e.extname
	where a.default_version is distinct from e.extversion order by 1), '{}'::text[],
	'0022 extension_versions_outdated: every extension is at its default version');
select is(array(
	select c.oid::regclass::text || ': ' || p.polname from pg_policy p join pg_class c on c.oid = p.polrelid
	join pg_namespace n on n.oid = c.relnamespace
	where n.nspname not in (select nspname from platform) and p.polcmd in ('a', 'w', 'd', '*')
		and (pg_get_expr(p.polqual, p.polrelid) = 'true' or pg_get_expr(p.polwithcheck, p.polrelid) = 'true')
	order by 1), '{}'::text[], '0024 rls_policy_always_true: no write policy lets every row through');
select is(array(
	select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
	where n.nspname in (select nspname from exposed) and p.prosecdef
		and (has_function_privilege('anon', p.oid, 'execute') or has_function_privilege('authenticated', p.oid, 'execute'))
	order by 1), '{}'::text[],
	'0028 / 0029: no security definer function is callable through the API (the RPCs are invoker wrappers)');
select is(array(
	select c.oid::regclass::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
	where n.nspname not in (select nspname from platform) and n.nspname not like 'pg\_%' and c.relkind in ('r', 'v', 'm', 'f')
		and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
			and has_column_privilege('anon', c.oid, a.attnum, 'select'))
	order by 1), '{}'::text[], '0026 pg_graphql_anon_table_exposed: signed-out visitors can discover no table or view');

-- The explicit exception (lint 0027): signed-in users can select the tables in public, which
-- is the REST API; it holds only while each such relation is a table with RLS on, no select
-- policy for anon or everyone, and none that reads `true`.
select is(array(
	select c.oid::regclass::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
	where n.nspname not in (select nspname from platform) and n.nspname not like 'pg\_%' and c.relkind in ('r', 'v', 'm', 'f')
		and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
			and has_column_privilege('authenticated', c.oid, a.attnum, 'select'))
		and not (n.nspname = 'public' and c.relkind = 'r' and c.relrowsecurity
			and exists (select 1 from pg_policy p where p.polrelid = c.oid and p.polcmd in ('r', '*')))
	order by 1), '{}'::text[], '0027 exception: what signed-in users can select is exactly the RLS-protected tables of public');
select is(array(
	select c.oid::regclass::text || ': ' || p.polname from pg_policy p join pg_class c on c.oid = p.polrelid
	join pg_namespace n on n.oid = c.relnamespace
	where n.nspname = 'public' and p.polcmd in ('r', '*')
		and (pg_get_expr(p.polqual, p.polrelid) = 'true' or not (p.polroles <@ array['authenticated'::regrole::oid]))
	order by 1), '{}'::text[], '0027 exception: every read policy is for signed-in users and filters rows');

select * from finish();
rollback;

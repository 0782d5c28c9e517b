-- API surface: what the anon and authenticated roles can reach, kept clean of the database
-- advisor's security findings (Supabase's lints; supabase/tests/65_advisor_lints.sql runs
-- equivalent checks on every test run).
--
-- Fixed here or where the objects are made:
-- - anon gets nothing in public: no table, sequence or function privilege (the app has no
--   signed-out reads), so GraphQL introspection shows signed-out visitors nothing (lint 0026);
--   future objects made by postgres in public no longer grant anon anything either;
-- - no security definer function in an exposed schema: the RPCs are security invoker wrappers
--   over `private` (lints 0028, 0029); every function has a fixed search_path (0011);
-- - pg_cron is created in pg_catalog as hosted does, no extension in public (0014);
-- - every table in public has RLS (0013), every view is security_invoker (0010).
--
-- Explicit exception (lint 0027, pg_graphql_authenticated_table_exposed, WARN): every table in
-- public is selectable by `authenticated`, because the dashboard reads them through the REST
-- API as the signed-in user. Their rows are protected by RLS: the advisor test checks that each
-- such table has RLS on and only select policies scoped to `authenticated` that never read
-- `true`, so the exception holds only while that is so.

revoke all on all tables in schema public from anon;
revoke all on all sequences in schema public from anon;
alter default privileges for role postgres in schema public revoke all on tables from anon;
alter default privileges for role postgres in schema public revoke all on sequences from anon;
alter default privileges for role postgres in schema public revoke all on functions from anon;

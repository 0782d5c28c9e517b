-- The platform base every hosted project has, which the local platform must mirror:
-- API roles and their memberships, auth helpers, pg_cron, logical WAL, the Realtime publication.
begin;
select plan(14);

select has_role('anon', 'role anon exists');
select has_role('authenticated', 'role authenticated exists');
select has_role('service_role', 'role service_role exists');
select is_member_of('anon', 'authenticator', 'authenticator can switch to anon');
select is_member_of('authenticated', 'authenticator', 'authenticator can switch to authenticated');
select is_member_of('service_role', 'authenticator', 'authenticator can switch to service_role');
select ok(
  (select rolcanlogin and not rolinherit from pg_roles where rolname = 'authenticator'),
  'authenticator logs in and does not inherit the API roles'''' privileges'
);
select ok((select rolbypassrls from pg_roles where rolname = 'service_role'), 'service_role bypasses RLS');

select set_config('request.jwt.claims', '{"sub":"6f1d0c5e-8a1b-4c3d-9e2f-0a1b2c3d4e5f","role":"authenticated","email":"a@example.test"}', true);
select is(auth.uid(), '6f1d0c5e-8a1b-4c3d-9e2f-0a1b2c3d4e5f'::uuid, 'auth.uid() returns the sub of request.jwt.claims');
select is(auth.role(), 'authenticated', 'auth.role() returns the role claim');
select is(auth.jwt() ->> 'email', 'a@example.test', 'auth.jwt() returns the whole claims object');

select ok(
  cron.unschedule(cron.schedule('platform-base-probe', '*/5 * * * *', 'select 1')),
  'pg_cron schedules and unschedules a job'
);
select is(current_setting('wal_level'), 'logical', 'wal_level is logical, as Realtime needs');
select ok(exists (select 1 from pg_publication where pubname = 'supabase_realtime'), 'publication supabase_realtime exists');

select * from finish();
rollback;

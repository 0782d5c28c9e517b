-- Membership by consent: an invitation is visible only to the organization's managers and to
-- its invitee (confirmed email), works only for that invitee, expires, and is answered the same
-- whether or not the email has an account. Nobody joins without accepting. An organization
-- always keeps an owner: the last owner cannot leave, be removed or be demoted.
begin;
select plan(43);
\ir fixtures.psql

-- Carl is invited; Dave signed up with an email he never confirmed.
insert into auth.users (id, email, email_confirmed_at, raw_user_meta_data) values
	('cccccccc-0000-4000-8000-000000000001', 'Carl@Fixture.test', now(), '{"full_name": "Carl"}'),
	('cccccccc-0000-4000-8000-000000000002', 'dave@fixture.test', null, '{}');
update auth.users set email_confirmed_at = now() where email like '%@fixture.test' and email <> 'dave@fixture.test';

-- ---------------------------------------------------------------- inviting
select pg_temp.login('aaaaaaaa-0000-4000-8000-000000000001');
create temp table inv as select public.invite_member('a0a0a0a0-0000-4000-8000-00000000000a', ' CARL@fixture.TEST ', 'admin') id;
grant select on inv to authenticated;
select isnt((select id from inv), null, 'owner: inviting returns the invitation id');
select is((select email from public.organization_invitations where id = (select id from inv)), 'carl@fixture.test',
	'the email is stored trimmed and lower-case');
select is_empty($$select 1 from public.organization_members where user_id = 'cccccccc-0000-4000-8000-000000000001'$$,
	'inviting does not make anyone a member');
select is(public.invite_member('a0a0a0a0-0000-4000-8000-00000000000a', 'carl@fixture.test', 'viewer'), (select id from inv),
	'inviting again renews the same pending invitation');
select is((select role from public.organization_invitations where id = (select id from inv)), 'viewer', 'a renewal takes the new role');
select lives_ok($$select public.invite_member('a0a0a0a0-0000-4000-8000-00000000000a', 'nobody-has-this@fixture.test', 'viewer')$$,
	'an email without an account gets the same answer (no probing for accounts)');
create temp table dave_inv as select public.invite_member('a0a0a0a0-0000-4000-8000-00000000000a', 'dave@fixture.test', 'viewer') id;
grant select on dave_inv to authenticated;
select isnt((select id from dave_inv), null, 'an unconfirmed account can be invited too');
select throws_ok($$select public.invite_member('a0a0a0a0-0000-4000-8000-00000000000a', 'carl@fixture.test', 'root')$$,
	'22023', null, 'an unknown role is refused');
select throws_ok($$select public.invite_member('a0a0a0a0-0000-4000-8000-00000000000a', 'not an email', 'viewer')$$,
	'22023', null, 'something that is not an email is refused');
select throws_ok($$select public.invite_member('b0b0b0b0-0000-4000-8000-00000000000b', 'alice@fixture.test', 'owner')$$,
	'42501', null, 'A''s owner cannot invite into B');
select throws_ok($$insert into public.organization_invitations (organization_id, organization_name, email, role)
	values ('a0a0a0a0-0000-4000-8000-00000000000a', 'x', 'eve@fixture.test', 'owner')$$, '42501', null,
	'nobody inserts invitations directly');

select pg_temp.login('aaaaaaaa-0000-4000-8000-000000000002');
select throws_ok($$select public.invite_member('a0a0a0a0-0000-4000-8000-00000000000a', 'eve@fixture.test', 'owner')$$,
	'42501', null, 'admin: cannot invite an owner');
select lives_ok($$select public.invite_member('a0a0a0a0-0000-4000-8000-00000000000a', 'eve@fixture.test', 'viewer')$$,
	'admin: invites a viewer');
select pg_temp.login('aaaaaaaa-0000-4000-8000-000000000003');
select throws_ok($$select public.invite_member('a0a0a0a0-0000-4000-8000-00000000000a', 'eve@fixture.test', 'viewer')$$,
	'42501', null, 'viewer: cannot invite');
select is_empty($$select 1 from public.organization_invitations$$, 'viewer: sees no invitations of the organization');
select pg_temp.login_anon();
select throws_ok($$select public.invite_member('a0a0a0a0-0000-4000-8000-00000000000a', 'eve@fixture.test', 'viewer')$$,
	'42501', null, 'anon: cannot invite');

-- ---------------------------------------------------------------- who sees and answers it
select pg_temp.login('bbbbbbbb-0000-4000-8000-000000000001');
select is_empty($$select 1 from public.organization_invitations$$, 'another tenant sees no invitation');
select throws_ok(format('select public.accept_invitation(%L)', (select id from inv)), 'PT404', null,
	'another tenant cannot accept someone else''s invitation');
select throws_ok(format('select public.decline_invitation(%L)', (select id from inv)), 'PT404', null,
	'another tenant cannot decline it either');
select is_empty(format('delete from public.organization_invitations where id = %L returning 1', (select id from inv)),
	'another tenant cannot revoke it');

select pg_temp.login('cccccccc-0000-4000-8000-000000000002');
select is_empty($$select 1 from public.organization_invitations$$, 'an unconfirmed email sees no invitation');
select throws_ok(format('select public.accept_invitation(%L)', (select id from dave_inv)), 'PT404', null,
	'an unconfirmed email cannot accept');

select pg_temp.login('cccccccc-0000-4000-8000-000000000001');
select is((select array_agg(organization_name) from public.organization_invitations), array['Fixture Org A'],
	'the invitee sees their invitation and the organization''s name, nothing else');
select is_empty($$select 1 from public.organizations where id = 'a0a0a0a0-0000-4000-8000-00000000000a'$$,
	'before accepting, the invitee reads nothing of the organization');
select throws_ok(format('update public.organization_invitations set role = %L where id = %L', 'owner', (select id from inv)),
	'42501', null, 'the invitee cannot change the invitation''s role');
select is(public.accept_invitation((select id from inv)), 'a0a0a0a0-0000-4000-8000-00000000000a'::uuid,
	'the invitee accepts and gets the organization id');
select is((select role from public.organization_members where organization_id = 'a0a0a0a0-0000-4000-8000-00000000000a'
	and user_id = 'cccccccc-0000-4000-8000-000000000001'), 'viewer', 'the invitee is now a member with the invited role');
select throws_ok(format('select public.accept_invitation(%L)', (select id from inv)), 'PT409', null,
	'an invitation is accepted only once');
select is((select array_agg(email order by lower(email)) from public.organization_member_list('a0a0a0a0-0000-4000-8000-00000000000a')),
	array['adam@fixture.test', 'alice@fixture.test', 'Carl@Fixture.test', 'vera@fixture.test']::text[],
	'members see each other''s emails');
select pg_temp.login('bbbbbbbb-0000-4000-8000-000000000001');
select is_empty($$select 1 from public.organization_member_list('a0a0a0a0-0000-4000-8000-00000000000a')$$,
	'outsiders get no member list');

-- Expiry, decline and revoke.
select pg_temp.logout();
update public.organization_invitations set expires_at = now() - interval '1 second' where email = 'eve@fixture.test';
insert into auth.users (id, email, email_confirmed_at, raw_user_meta_data)
	values ('cccccccc-0000-4000-8000-000000000003', 'eve@fixture.test', now(), '{}');
select pg_temp.login('cccccccc-0000-4000-8000-000000000003');
select throws_ok($$select public.accept_invitation(id) from public.organization_invitations$$, 'PT410', null,
	'an expired invitation cannot be accepted');
select lives_ok($$select public.decline_invitation(id) from public.organization_invitations$$, 'the invitee can decline');
select is_empty($$select 1 from public.organization_invitations$$, 'a declined invitation is gone');
select pg_temp.login('aaaaaaaa-0000-4000-8000-000000000002');
select isnt_empty($$delete from public.organization_invitations where email = 'nobody-has-this@fixture.test' returning 1$$,
	'admin: revokes a pending invitation');

-- ---------------------------------------------------------------- at least one owner
select pg_temp.login('aaaaaaaa-0000-4000-8000-000000000001');
select throws_ok($$select public.leave_organization('a0a0a0a0-0000-4000-8000-00000000000a')$$, 'PT409', null,
	'the last owner cannot leave');
select throws_ok($$update public.organization_members set role = 'admin' where user_id = 'aaaaaaaa-0000-4000-8000-000000000001'
	and organization_id = 'a0a0a0a0-0000-4000-8000-00000000000a'$$, 'PT409', null, 'the last owner cannot be demoted');
select throws_ok($$delete from public.organization_members where user_id = 'aaaaaaaa-0000-4000-8000-000000000001'
	and organization_id = 'a0a0a0a0-0000-4000-8000-00000000000a'$$, 'PT409', null, 'the last owner cannot be removed');
select throws_ok($$select public.leave_organization('b0b0b0b0-0000-4000-8000-00000000000b')$$, 'PT404', null,
	'leaving an organization one is not in says so');
select lives_ok($$update public.organization_members set role = 'owner' where user_id = 'aaaaaaaa-0000-4000-8000-000000000002'
	and organization_id = 'a0a0a0a0-0000-4000-8000-00000000000a'$$, 'an owner promotes an admin to owner');
select lives_ok($$select public.leave_organization('a0a0a0a0-0000-4000-8000-00000000000a')$$,
	'with another owner, an owner can leave');
select pg_temp.login('cccccccc-0000-4000-8000-000000000001');
select lives_ok($$select public.leave_organization('a0a0a0a0-0000-4000-8000-00000000000a')$$, 'a viewer can leave');
select pg_temp.login('aaaaaaaa-0000-4000-8000-000000000002');
select isnt_empty($$delete from public.organizations where id = 'a0a0a0a0-0000-4000-8000-00000000000a' returning 1$$,
	'deleting the organization still removes its last owner with it');
select pg_temp.logout();
select lives_ok($$delete from auth.users where id = 'bbbbbbbb-0000-4000-8000-000000000001'$$,
	'deleting the account of an organization''s only owner still works');

select * from finish();
rollback;

-- Tenancy: sign-up creates a personal organization; members of org A never see or change
-- org B's organizations, members, bots or API keys; viewers read but never write; owners and
-- admins manage; anonymous callers have no access at all; API keys are shown once and stored hashed.
begin;
select plan(65);
\ir fixtures.psql

-- ---------------------------------------------------------------- sign-up trigger
select is(
	(select count(*)::int from public.organizations o join public.organization_members m on m.organization_id = o.id
		where o.is_personal and m.user_id = 'aaaaaaaa-0000-4000-8000-000000000003' and m.role = 'owner'),
	1, 'a new user gets a personal organization and owns it');
insert into auth.users (id, email, raw_user_meta_data)
values ('dddddddd-0000-4000-8000-000000000001', 'long@fixture.test', jsonb_build_object('full_name', repeat('Ab ', 66) || 'Cd'));
select ok((select length(o.name) between 100 and 120 from public.organizations o where o.created_by = 'dddddddd-0000-4000-8000-000000000001'),
	'sign-up with a 200-character full name works: the personal organization''s name is shortened to fit 120');
select matches((select o.name from public.organizations o where o.created_by = 'dddddddd-0000-4000-8000-000000000001'),
	'^Ab Ab .*Ab''s organization$', 'the shortened name still reads as the user''s organization');

-- ---------------------------------------------------------------- org A owner vs org B
select pg_temp.login('aaaaaaaa-0000-4000-8000-000000000001');
select is_empty($$select 1 from public.organizations where id = 'b0b0b0b0-0000-4000-8000-00000000000b'$$,
	'organizations: A cannot see B');
select isnt_empty($$select 1 from public.organizations where id = 'a0a0a0a0-0000-4000-8000-00000000000a'$$,
	'organizations: A sees its own');
select throws_ok($$insert into public.organizations (name, created_by) values ('Fake', 'bbbbbbbb-0000-4000-8000-000000000001')$$,
	'42501', null, 'organizations: A cannot create one on behalf of B''s owner');
select is_empty($$update public.organizations set name = 'x' where id = 'b0b0b0b0-0000-4000-8000-00000000000b' returning 1$$,
	'organizations: A cannot update B');
select is_empty($$delete from public.organizations where id = 'b0b0b0b0-0000-4000-8000-00000000000b' returning 1$$,
	'organizations: A cannot delete B');
select lives_ok($$insert into public.organizations (name, created_by) values ('Side project', 'aaaaaaaa-0000-4000-8000-000000000001')$$,
	'organizations: a signed-in user can create one');
select is((select role from public.organization_members m join public.organizations o on o.id = m.organization_id
	where o.name = 'Side project'), 'owner', 'organizations: the creator becomes owner');

select is_empty($$select 1 from public.organization_members where organization_id = 'b0b0b0b0-0000-4000-8000-00000000000b'$$,
	'members: A cannot see B''s members');
select throws_ok($$insert into public.organization_members (organization_id, user_id, role)
	values ('b0b0b0b0-0000-4000-8000-00000000000b', 'aaaaaaaa-0000-4000-8000-000000000001', 'owner')$$,
	'42501', null, 'members: A cannot join B');
select is_empty($$update public.organization_members set role = 'viewer'
	where organization_id = 'b0b0b0b0-0000-4000-8000-00000000000b' returning 1$$, 'members: A cannot change B''s roles');
select is_empty($$delete from public.organization_members
	where organization_id = 'b0b0b0b0-0000-4000-8000-00000000000b' returning 1$$, 'members: A cannot remove B''s members');

select is_empty($$select 1 from public.bots where organization_id = 'b0b0b0b0-0000-4000-8000-00000000000b'$$,
	'bots: A cannot see B''s bots');
select throws_ok($$insert into public.bots (organization_id, name) values ('b0b0b0b0-0000-4000-8000-00000000000b', 'Intruder')$$,
	'42501', null, 'bots: A cannot create a bot in B');
select is_empty($$update public.bots set name = 'x' where organization_id = 'b0b0b0b0-0000-4000-8000-00000000000b' returning 1$$,
	'bots: A cannot update B''s bots');
select is_empty($$delete from public.bots where organization_id = 'b0b0b0b0-0000-4000-8000-00000000000b' returning 1$$,
	'bots: A cannot delete B''s bots');
select throws_ok($$update public.bots set organization_id = 'b0b0b0b0-0000-4000-8000-00000000000b'
	where id = 'a1a1a1a1-0000-4000-8000-0000000000a1'$$, '42501', null, 'bots: nobody moves a bot to another organization');

select is_empty($$select 1 from public.bot_api_keys where bot_id = 'b1b1b1b1-0000-4000-8000-0000000000b1'$$,
	'API keys: A cannot see B''s keys');
select throws_ok($$insert into public.bot_api_keys (bot_id, name, key_prefix, key_hash)
	values ('b1b1b1b1-0000-4000-8000-0000000000b1', 'x', 'bf_live_x', '\x00')$$, '42501', null,
	'API keys: A cannot insert a key for B''s bot');
select throws_ok($$select public.create_bot_api_key('b1b1b1b1-0000-4000-8000-0000000000b1', 'stolen')$$, '42501', null,
	'API keys: A cannot mint a key for B''s bot');
select is_empty($$update public.bot_api_keys set revoked_at = now() where bot_id = 'b1b1b1b1-0000-4000-8000-0000000000b1' returning 1$$,
	'API keys: A cannot revoke B''s keys');
select is_empty($$delete from public.bot_api_keys where bot_id = 'b1b1b1b1-0000-4000-8000-0000000000b1' returning 1$$,
	'API keys: A cannot delete B''s keys');
select throws_ok($$update public.bot_api_keys set key_hash = '\x00' where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1'$$,
	'42501', null, 'API keys: a key''s hash can never be changed');

-- Minting: plaintext once, hash stored, prefix visible, revocation refuses the key.
create temp table minted as select * from public.create_bot_api_key('a1a1a1a1-0000-4000-8000-0000000000a1', 'production');
select matches((select key from minted), '^bf_live_[0-9a-f]{64}$', 'API keys: the plaintext key is returned once, bf_live_ + 64 hex');
select is((select k.key_hash from public.bot_api_keys k join minted using (id)),
	(select extensions.digest(key, 'sha256') from minted), 'API keys: only the SHA-256 of the key is stored');
select is((select k.key_prefix from public.bot_api_keys k join minted using (id)), (select left(key, 14) from minted),
	'API keys: the prefix is visible');
select pg_temp.logout();
select is(private.authenticate_bot_api_key((select key from minted)), 'a1a1a1a1-0000-4000-8000-0000000000a1'::uuid,
	'API keys: ingest resolves a valid key to its bot');
select isnt((select last_used_at from public.bot_api_keys k join minted using (id)), null, 'API keys: last use is recorded');
select is(private.authenticate_bot_api_key('bf_live_nonsense'), null, 'API keys: an unknown key resolves to nothing');
select pg_temp.login('aaaaaaaa-0000-4000-8000-000000000001');
select isnt_empty($$update public.bot_api_keys set revoked_at = now() where id = (select id from minted) returning 1$$,
	'API keys: an owner can revoke a key');
select pg_temp.logout();
select is(private.authenticate_bot_api_key((select key from minted)), null, 'API keys: a revoked key is refused');

-- ---------------------------------------------------------------- viewer of A
select pg_temp.login('aaaaaaaa-0000-4000-8000-000000000003');
select isnt_empty($$select 1 from public.bots where id = 'a1a1a1a1-0000-4000-8000-0000000000a1'$$, 'viewer: reads the bots');
select isnt_empty($$select 1 from public.bot_api_keys where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1'$$, 'viewer: reads the keys');
select is_empty($$update public.organizations set name = 'x' where id = 'a0a0a0a0-0000-4000-8000-00000000000a' returning 1$$,
	'viewer: cannot rename the organization');
select is_empty($$delete from public.organizations where id = 'a0a0a0a0-0000-4000-8000-00000000000a' returning 1$$,
	'viewer: cannot delete the organization');
select throws_ok($$insert into public.organization_members (organization_id, user_id, role)
	values ('a0a0a0a0-0000-4000-8000-00000000000a', 'bbbbbbbb-0000-4000-8000-000000000001', 'viewer')$$,
	'42501', null, 'viewer: cannot add members');
select is_empty($$update public.organization_members set role = 'owner' where organization_id = 'a0a0a0a0-0000-4000-8000-00000000000a' returning 1$$,
	'viewer: cannot change roles (not even their own)');
select is_empty($$delete from public.organization_members where organization_id = 'a0a0a0a0-0000-4000-8000-00000000000a'
	and user_id <> 'aaaaaaaa-0000-4000-8000-000000000003' returning 1$$, 'viewer: cannot remove members');
select throws_ok($$insert into public.bots (organization_id, name) values ('a0a0a0a0-0000-4000-8000-00000000000a', 'Mine')$$,
	'42501', null, 'viewer: cannot create bots');
select is_empty($$update public.bots set name = 'x' where id = 'a1a1a1a1-0000-4000-8000-0000000000a1' returning 1$$,
	'viewer: cannot update bots');
select is_empty($$delete from public.bots where id = 'a1a1a1a1-0000-4000-8000-0000000000a1' returning 1$$,
	'viewer: cannot delete bots');
select throws_ok($$select public.create_bot_api_key('a1a1a1a1-0000-4000-8000-0000000000a1', 'mine')$$, '42501', null,
	'viewer: cannot mint API keys');
select is_empty($$update public.bot_api_keys set revoked_at = now() where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' returning 1$$,
	'viewer: cannot revoke API keys');
select is_empty($$delete from public.bot_api_keys where bot_id = 'a1a1a1a1-0000-4000-8000-0000000000a1' returning 1$$,
	'viewer: cannot delete API keys');

-- ---------------------------------------------------------------- admin of A
select pg_temp.login('aaaaaaaa-0000-4000-8000-000000000002');
select lives_ok($$insert into public.bots (organization_id, name, timezone) values ('a0a0a0a0-0000-4000-8000-00000000000a', 'Admin bot', 'Asia/Tokyo')$$,
	'admin: creates bots');
select throws_ok($$insert into public.organization_members (organization_id, user_id, role)
	values ('a0a0a0a0-0000-4000-8000-00000000000a', 'bbbbbbbb-0000-4000-8000-000000000001', 'viewer')$$,
	'42501', null, 'admin: cannot add a member without their consent (only invitations)');
select throws_ok($$update public.organization_members set role = 'owner'
	where organization_id = 'a0a0a0a0-0000-4000-8000-00000000000a' and user_id = 'aaaaaaaa-0000-4000-8000-000000000003'$$,
	'42501', null, 'admin: cannot promote anyone to owner');
select is_empty($$delete from public.organization_members where organization_id = 'a0a0a0a0-0000-4000-8000-00000000000a'
	and role = 'owner' returning 1$$, 'admin: cannot remove the owner');
select throws_ok($$insert into public.bots (organization_id, name, timezone) values ('a0a0a0a0-0000-4000-8000-00000000000a', 'Lost', 'Mars/Olympus')$$,
	'23514', null, 'bots: an unknown time zone is refused');

select is(to_regprocedure('public.add_organization_member(uuid,text,text)'), null,
	'members: the function that added people without their consent is gone');
select throws_ok($$update public.organizations set retention_days = 7 where id = 'a0a0a0a0-0000-4000-8000-00000000000a'$$,
	'42501', 'Only an owner of the organization can change how long data is kept', 'admin: cannot change retention');
select isnt_empty($$update public.organizations set name = 'Renamed by admin' where id = 'a0a0a0a0-0000-4000-8000-00000000000a' returning 1$$,
	'admin: can still rename the organization');
select pg_temp.login('aaaaaaaa-0000-4000-8000-000000000001');
select isnt_empty($$update public.organizations set retention_days = 7 where id = 'a0a0a0a0-0000-4000-8000-00000000000a' returning 1$$,
	'owner: changes retention');
select throws_ok($$update public.bot_api_keys set revoked_at = null where id = (select id from minted)$$,
	'42501', null, 'API keys: a revoked key cannot be un-revoked');
select pg_temp.logout();
select is(private.authenticate_bot_api_key((select key from minted)), null, 'API keys: the revoked key stays refused');
select pg_temp.login('aaaaaaaa-0000-4000-8000-000000000001');

-- ---------------------------------------------------------------- anonymous
select pg_temp.login_anon();
select throws_ok($$select 1 from public.organizations$$, '42501', null, 'anon: has no access to organizations at all');
select throws_ok($$select 1 from public.organization_members$$, '42501', null, 'anon: has no access to members at all');
select throws_ok($$select 1 from public.bots$$, '42501', null, 'anon: has no access to bots at all');
select throws_ok($$select 1 from public.bot_api_keys$$, '42501', null, 'anon: has no access to API keys at all');
select throws_ok($$insert into public.bots (organization_id, name) values ('a0a0a0a0-0000-4000-8000-00000000000a', 'Anon')$$,
	'42501', null, 'anon: cannot create bots');
select throws_ok($$update public.bots set name = 'x'$$, '42501', null, 'anon: cannot update bots');
select throws_ok($$delete from public.bots$$, '42501', null, 'anon: cannot delete bots');
select throws_ok($$select public.create_bot_api_key('a1a1a1a1-0000-4000-8000-0000000000a1', 'anon')$$, '42501', null,
	'anon: cannot call create_bot_api_key');
select pg_temp.logout();

select * from finish();
rollback;

-- Tenancy: organizations, their members (owner / admin / viewer), bots and bot API keys.
-- Every row the API can reach belongs to an organization; RLS lets members read it and lets
-- owners and admins change it. Policy predicates live in schema `private` as small
-- `security definer` helpers so they can read membership without recursing into RLS.
--
-- For the ingest Edge Function (service role): `private.authenticate_bot_api_key(key text)`
-- returns the bot's id (or null for an unknown or revoked key) and records last_used_at.

-- =====================================================================================
-- Private helpers schema
-- =====================================================================================
create schema if not exists private;
-- Policies run the predicate helpers as the querying role, so it needs usage (not the tables).
grant usage on schema private to authenticated, service_role;
-- Functions are executable by PUBLIC by default: every function below revokes that and
-- grants only the roles that need it.

create or replace function private.is_valid_timezone(p_name text)
returns boolean
language sql
immutable
set search_path = ''
as $$
	select exists (select 1 from pg_catalog.pg_timezone_names where name = p_name)
$$;
comment on function private.is_valid_timezone(text) is
	'True when the name is an IANA time zone Postgres knows (used by the bots.timezone check).';

-- =====================================================================================
-- Enumerations: each list is written here once. The generated types carry them
-- (Constants.public.Enums), and the app, the Edge Functions and the simulator derive their
-- validation from those, so adding a channel is one `alter type ... add value`.
-- =====================================================================================
create type public.channel as enum ('web', 'whatsapp', 'messenger', 'telegram', 'slack', 'sms', 'voice', 'api');
comment on type public.channel is 'Where a conversation takes place (a bot''s default, or per conversation).';
create type public.member_role as enum ('owner', 'admin', 'viewer');
comment on type public.member_role is
	'A member''s role in an organization: owner and admin manage, viewer reads.';
create type public.conversation_status as enum ('active', 'completed', 'abandoned', 'handed_off');
comment on type public.conversation_status is
	'Where a conversation stands: still active, or how it ended.';
create type public.message_role as enum ('user', 'bot', 'agent', 'system');
comment on type public.message_role is
	'Who wrote a message: the end user, the bot, a human agent after a handoff, or the system.';

-- =====================================================================================
-- Tables
-- =====================================================================================
create table public.organizations (
	id uuid primary key default gen_random_uuid(),
	name text not null check (length(trim(name)) between 1 and 120),
	is_personal boolean not null default false,
	retention_days integer not null default 90 check (retention_days between 1 and 3650),
	created_by uuid references auth.users (id) on delete set null default auth.uid(),
	created_at timestamptz not null default now()
);
comment on table public.organizations is
	'A tenant: owns bots and everything they record. Every user gets a personal one at sign-up.';
comment on column public.organizations.id is 'Organization id.';
comment on column public.organizations.name is 'Display name, 1 to 120 characters.';
comment on column public.organizations.is_personal is
	'True for the organization created automatically when the user signed up.';
comment on column public.organizations.retention_days is
	'How many days raw conversations and messages are kept; rollups are kept forever.';
comment on column public.organizations.created_by is 'User who created the organization.';
comment on column public.organizations.created_at is 'When the organization was created.';
create index organizations_created_by_idx on public.organizations (created_by);

create table public.organization_members (
	organization_id uuid not null references public.organizations (id) on delete cascade,
	user_id uuid not null references auth.users (id) on delete cascade,
	role public.member_role not null default 'viewer',
	created_at timestamptz not null default now(),
	primary key (organization_id, user_id)
);
comment on table public.organization_members is
	'Who belongs to which organization and with what role: owner and admin manage, viewer reads.';
comment on column public.organization_members.organization_id is 'The organization.';
comment on column public.organization_members.user_id is 'The member (auth.users.id).';
comment on column public.organization_members.role is
	'owner: everything, including owners; admin: bots, keys and non-owner members; viewer: read only.';
comment on column public.organization_members.created_at is 'When the user joined.';
-- The predicate helpers look members up by user and role.
create index organization_members_user_id_role_idx on public.organization_members (user_id, role);

create table public.bots (
	id uuid primary key default gen_random_uuid(),
	organization_id uuid not null references public.organizations (id) on delete cascade,
	name text not null check (length(trim(name)) between 1 and 120),
	channel public.channel not null default 'web',
	timezone text not null default 'UTC' check (private.is_valid_timezone(timezone)),
	created_at timestamptz not null default now()
);
comment on table public.bots is
	'A chatbot whose conversations are recorded; its timezone decides where its days start.';
comment on column public.bots.id is 'Bot id.';
comment on column public.bots.organization_id is 'Owning organization.';
comment on column public.bots.name is 'Display name, 1 to 120 characters.';
comment on column public.bots.channel is
	'Default channel of its conversations: web, whatsapp, messenger, telegram, slack, sms, voice or api.';
comment on column public.bots.timezone is
	'IANA time zone (e.g. Europe/Paris); daily metrics are cut at local midnight in this zone.';
comment on column public.bots.created_at is 'When the bot was created.';
create index bots_organization_id_idx on public.bots (organization_id);

create table public.bot_api_keys (
	id uuid primary key default gen_random_uuid(),
	bot_id uuid not null references public.bots (id) on delete cascade,
	name text not null check (length(trim(name)) between 1 and 120),
	key_prefix text not null,
	key_hash bytea not null unique,
	created_by uuid references auth.users (id) on delete set null,
	created_at timestamptz not null default now(),
	last_used_at timestamptz,
	revoked_at timestamptz
);
comment on table public.bot_api_keys is
	'Keys a bot sends to the ingest endpoint. Only a SHA-256 hash is stored; the key is shown once.';
comment on column public.bot_api_keys.id is 'Key id.';
comment on column public.bot_api_keys.bot_id is 'The bot this key ingests for.';
comment on column public.bot_api_keys.name is 'What the key is for, e.g. "production".';
comment on column public.bot_api_keys.key_prefix is
	'The first characters of the key, so people can tell keys apart without the secret.';
comment on column public.bot_api_keys.key_hash is 'SHA-256 of the full key.';
comment on column public.bot_api_keys.created_by is 'User who created the key.';
comment on column public.bot_api_keys.created_at is 'When the key was created.';
comment on column public.bot_api_keys.last_used_at is
	'Last successful authentication with this key (updated at most once a minute).';
comment on column public.bot_api_keys.revoked_at is 'Set when the key was revoked; a revoked key is refused.';
create index bot_api_keys_bot_id_idx on public.bot_api_keys (bot_id);
create index bot_api_keys_created_by_idx on public.bot_api_keys (created_by);

-- =====================================================================================
-- Predicate helpers (security definer: they read membership without RLS recursion)
-- =====================================================================================
-- The two that every read's policies evaluate (member_organization_ids, readable_bot_ids) are
-- PL/pgSQL: a set-returning SQL function that cannot be inlined (security definer) is parsed
-- and planned again in every statement that calls it, while PL/pgSQL keeps its plan for the
-- session, which halves what each policy check costs (a dashboard read makes several).
create or replace function private.member_organization_ids()
returns setof uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
	return query select m.organization_id from public.organization_members m where m.user_id = (select auth.uid());
end
$$;
comment on function private.member_organization_ids() is
	'Organizations the current user belongs to, in any role.';

create or replace function private.is_unclaimed_organization(org_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
	select not exists (select 1 from public.organization_members where organization_id = org_id)
$$;
comment on function private.is_unclaimed_organization(uuid) is
	'True while an organization has no members yet: the instant between its insert and the owner trigger.';

create or replace function private.managed_organization_ids()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
	select organization_id from public.organization_members
	where user_id = (select auth.uid()) and role in ('owner', 'admin')
$$;
comment on function private.managed_organization_ids() is
	'Organizations where the current user is owner or admin.';

create or replace function private.owned_organization_ids()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
	select organization_id from public.organization_members
	where user_id = (select auth.uid()) and role = 'owner'
$$;
comment on function private.owned_organization_ids() is 'Organizations the current user owns.';

create or replace function private.readable_bot_ids()
returns setof uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
	return query select b.id from public.bots b
	join public.organization_members m on m.organization_id = b.organization_id
	where m.user_id = (select auth.uid());
end
$$;
comment on function private.readable_bot_ids() is 'Bots of every organization the current user belongs to.';

create or replace function private.managed_bot_ids()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
	select b.id from public.bots b
	join public.organization_members m on m.organization_id = b.organization_id
	where m.user_id = (select auth.uid()) and m.role in ('owner', 'admin')
$$;
comment on function private.managed_bot_ids() is 'Bots the current user may change (owner or admin).';

revoke execute on function private.is_valid_timezone(text), private.member_organization_ids(),
	private.managed_organization_ids(), private.owned_organization_ids(), private.readable_bot_ids(),
	private.managed_bot_ids(), private.is_unclaimed_organization(uuid) from public, anon;
grant execute on function private.is_valid_timezone(text), private.member_organization_ids(),
	private.managed_organization_ids(), private.owned_organization_ids(), private.readable_bot_ids(),
	private.managed_bot_ids(), private.is_unclaimed_organization(uuid) to authenticated, service_role;

-- =====================================================================================
-- Row level security
-- =====================================================================================
alter table public.organizations enable row level security;
alter table public.organization_members enable row level security;
alter table public.bots enable row level security;
alter table public.bot_api_keys enable row level security;

-- `= any (array(select ...))` runs the helper once per statement and can use indexes.
-- The creator clause lets `insert ... returning` see the row before the owner trigger ran;
-- it ends once the organization has members, so a creator removed later loses access.
create policy "Organizations are visible to their members and creator"
	on public.organizations for select to authenticated
	using (
		id = any (array(select private.member_organization_ids()))
		or (created_by = (select auth.uid()) and private.is_unclaimed_organization(id))
	);
create policy "Signed-in users can create organizations they own"
	on public.organizations for insert to authenticated
	with check (created_by = (select auth.uid()) and not is_personal);
create policy "Owners and admins can update their organization"
	on public.organizations for update to authenticated
	using (id = any (array(select private.managed_organization_ids())))
	with check (id = any (array(select private.managed_organization_ids())));
create policy "Owners can delete their organization"
	on public.organizations for delete to authenticated
	using (id = any (array(select private.owned_organization_ids())));

create policy "Members are visible to the members of their organization"
	on public.organization_members for select to authenticated
	using (organization_id = any (array(select private.member_organization_ids())));
-- Nobody inserts members directly: people join by accepting an invitation (membership
-- migration). Only owners may promote to, change or remove an owner.
create policy "Owners and admins can change member roles"
	on public.organization_members for update to authenticated
	using (
		organization_id = any (array(select private.managed_organization_ids()))
		and (role <> 'owner' or organization_id = any (array(select private.owned_organization_ids())))
	)
	with check (
		organization_id = any (array(select private.managed_organization_ids()))
		and (role <> 'owner' or organization_id = any (array(select private.owned_organization_ids())))
	);
create policy "Owners and admins can remove members"
	on public.organization_members for delete to authenticated
	using (
		organization_id = any (array(select private.managed_organization_ids()))
		and (role <> 'owner' or organization_id = any (array(select private.owned_organization_ids())))
	);

create policy "Bots are visible to members of their organization"
	on public.bots for select to authenticated
	using (organization_id = any (array(select private.member_organization_ids())));
create policy "Owners and admins can create bots"
	on public.bots for insert to authenticated
	with check (organization_id = any (array(select private.managed_organization_ids())));
create policy "Owners and admins can update bots"
	on public.bots for update to authenticated
	using (organization_id = any (array(select private.managed_organization_ids())))
	with check (organization_id = any (array(select private.managed_organization_ids())));
create policy "Owners and admins can delete bots"
	on public.bots for delete to authenticated
	using (organization_id = any (array(select private.managed_organization_ids())));

create policy "API keys are visible to members of the bot's organization"
	on public.bot_api_keys for select to authenticated
	using (bot_id = any (array(select private.readable_bot_ids())));
-- Keys are only minted by create_bot_api_key(), which generates the secret server-side.
create policy "Nobody inserts API keys directly"
	on public.bot_api_keys for insert to authenticated
	with check (false);
create policy "Owners and admins can rename or revoke API keys"
	on public.bot_api_keys for update to authenticated
	using (bot_id = any (array(select private.managed_bot_ids())))
	with check (bot_id = any (array(select private.managed_bot_ids())));
create policy "Owners and admins can delete API keys"
	on public.bot_api_keys for delete to authenticated
	using (bot_id = any (array(select private.managed_bot_ids())));

-- The secret material and ownership columns never change after creation.
revoke update on public.bot_api_keys from authenticated, anon;
grant update (name, revoked_at) on public.bot_api_keys to authenticated;
revoke update on public.organizations from authenticated, anon;
grant update (name, retention_days) on public.organizations to authenticated;
revoke update on public.bots from authenticated, anon;
grant update (name, channel, timezone) on public.bots to authenticated;
revoke insert, update on public.organization_members from authenticated, anon;
grant update (role) on public.organization_members to authenticated;

-- =====================================================================================
-- Triggers: personal organization at sign-up; creator becomes owner of a new organization
-- =====================================================================================
create or replace function private.handle_new_user()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
	v_org uuid;
begin
	-- Names are capped at 120 characters: a long full name (or email) is shortened so that
	-- sign-up never fails on the organization's name check.
	insert into public.organizations (name, is_personal, created_by)
	values (
		rtrim(left(coalesce(nullif(trim(new.raw_user_meta_data ->> 'full_name'), ''),
			split_part(coalesce(new.email, 'My'), '@', 1)), 105)) || '''s organization',
		true,
		new.id
	)
	returning id into v_org;
	-- The organization trigger already made the creator owner.
	return new;
end
$$;
comment on function private.handle_new_user() is
	'After sign-up: creates the user''s personal organization with the user as owner.';

create trigger on_auth_user_created
	after insert on auth.users
	for each row execute function private.handle_new_user();

create or replace function private.add_creator_as_owner()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
	if new.created_by is not null then
		insert into public.organization_members (organization_id, user_id, role)
		values (new.id, new.created_by, 'owner')
		on conflict (organization_id, user_id) do update set role = 'owner';
	end if;
	return new;
end
$$;
comment on function private.add_creator_as_owner() is
	'After an organization is created: its creator becomes its owner.';

create trigger on_organization_created
	after insert on public.organizations
	for each row execute function private.add_creator_as_owner();

revoke execute on function private.handle_new_user(), private.add_creator_as_owner() from public, anon, authenticated;

-- =====================================================================================
-- API keys: mint (RPC) and authenticate (ingest, service role)
-- =====================================================================================
create or replace function private.create_bot_api_key(p_bot_id uuid, p_name text)
returns table (id uuid, key text, key_prefix text)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
	v_key text;
	v_id uuid;
begin
	if not (p_bot_id = any (array(select private.managed_bot_ids()))) then
		raise exception 'Only an owner or admin of the bot''s organization can create its API keys'
			using errcode = '42501';
	end if;
	if p_name is null or length(trim(p_name)) = 0 then
		raise exception 'Give the API key a name, e.g. "production"' using errcode = '22023';
	end if;
	-- 32 random bytes, hex: 256 bits, so a plain SHA-256 is a safe hash (no salt needed).
	v_key := 'bf_live_' || encode(extensions.gen_random_bytes(32), 'hex');
	insert into public.bot_api_keys (bot_id, name, key_prefix, key_hash, created_by)
	values (p_bot_id, trim(p_name), left(v_key, 14), extensions.digest(v_key, 'sha256'), auth.uid())
	returning bot_api_keys.id into v_id;
	return query select v_id, v_key, left(v_key, 14);
end
$$;
comment on function private.create_bot_api_key(uuid, text) is
	'Creates an API key for a bot and returns the plaintext key once (bf_live_...). Owners and admins only.';
revoke execute on function private.create_bot_api_key(uuid, text) from public, anon;
grant execute on function private.create_bot_api_key(uuid, text) to authenticated;

-- The API's entry point runs as the caller (so no security definer function sits in an exposed
-- schema, as the database advisor asks); the privileged part stays in `private`.
create or replace function public.create_bot_api_key(p_bot_id uuid, p_name text)
returns table (id uuid, key text, key_prefix text)
language sql
volatile
security invoker
set search_path = ''
as $$
	select * from private.create_bot_api_key(p_bot_id, p_name)
$$;
comment on function public.create_bot_api_key(uuid, text) is
	'Creates an API key for a bot and returns the plaintext key once (bf_live_...). Owners and admins only.';
revoke execute on function public.create_bot_api_key(uuid, text) from public, anon;
grant execute on function public.create_bot_api_key(uuid, text) to authenticated;

create or replace function private.authenticate_bot_api_key(p_key text)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
	v_key_id uuid;
	v_bot_id uuid;
	v_last timestamptz;
begin
	select k.id, k.bot_id, k.last_used_at into v_key_id, v_bot_id, v_last
	from public.bot_api_keys k
	where k.key_hash = extensions.digest(p_key, 'sha256') and k.revoked_at is null;
	-- At most one write a minute per key keeps hot keys from contending on one row.
	if v_key_id is not null and (v_last is null or v_last < now() - interval '1 minute') then
		update public.bot_api_keys set last_used_at = now() where bot_api_keys.id = v_key_id;
	end if;
	return v_bot_id;
end
$$;
comment on function private.authenticate_bot_api_key(text) is
	'Ingest: the bot id for a valid, unrevoked key (null otherwise); records last_used_at.';
revoke execute on function private.authenticate_bot_api_key(text) from public, anon, authenticated;
grant execute on function private.authenticate_bot_api_key(text) to service_role;

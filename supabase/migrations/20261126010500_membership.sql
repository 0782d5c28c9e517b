-- Membership by consent: nobody joins an organization without accepting an invitation, every
-- organization keeps at least one owner, only owners change retention, and a revoked API key
-- stays revoked.
--
-- Flow: an owner or admin calls `invite_member(org, email, role)`, which records a pending
-- invitation and answers the same whether or not the email has an account (no probing). The
-- invitee, signed in with that email (confirmed: GoTrue sets email_confirmed_at at sign-up when
-- confirmations are off, so the one check covers both settings), sees the invitation through
-- RLS and calls `accept_invitation(id)` or `decline_invitation(id)`. Roles change by updating
-- organization_members and members are removed by deleting their row (RLS); a trigger refuses
-- any change that would leave an organization without an owner.
--
-- Errors (SQLSTATE, PostgREST status): 42501 not allowed (403); 22023 bad argument (400);
-- PT404 no such invitation for you (404); PT409 already accepted, or the last owner (409);
-- PT410 expired (410).

-- =====================================================================================
-- Invitations
-- =====================================================================================
create table public.organization_invitations (
	id uuid primary key default gen_random_uuid(),
	organization_id uuid not null references public.organizations (id) on delete cascade,
	organization_name text not null,
	email text not null check (email = lower(email) and email ~ '^[^@\s]+@[^@\s]+$' and length(email) <= 320),
	role public.member_role not null default 'viewer',
	invited_by uuid references auth.users (id) on delete set null,
	created_at timestamptz not null default now(),
	expires_at timestamptz not null default now() + interval '14 days',
	accepted_at timestamptz
);
comment on table public.organization_invitations is
	'Pending and accepted invitations to join an organization; a person joins only by accepting one.';
comment on column public.organization_invitations.id is 'Invitation id (what the invitee accepts or declines).';
comment on column public.organization_invitations.organization_id is 'The organization the invitee would join.';
comment on column public.organization_invitations.organization_name is
	'The organization''s name when invited, so the invitee can tell what they are joining.';
comment on column public.organization_invitations.email is 'The invitee''s email, lower-case.';
comment on column public.organization_invitations.role is 'Role granted on acceptance: owner, admin or viewer.';
comment on column public.organization_invitations.invited_by is 'Owner or admin who sent (or last renewed) it.';
comment on column public.organization_invitations.created_at is 'When it was sent or last renewed.';
comment on column public.organization_invitations.expires_at is 'After this it can no longer be accepted (14 days).';
comment on column public.organization_invitations.accepted_at is 'When the invitee accepted; null while pending.';
-- One pending invitation per email and organization: inviting again renews it.
create unique index organization_invitations_pending_idx
	on public.organization_invitations (organization_id, email) where accepted_at is null;
-- The policies filter on the organization (and role) and on the invitee's email.
create index organization_invitations_organization_id_role_idx on public.organization_invitations (organization_id, role);
create index organization_invitations_email_idx on public.organization_invitations (email);
create index organization_invitations_invited_by_idx on public.organization_invitations (invited_by);

create or replace function private.current_user_email()
returns text
language sql
stable
security definer
set search_path = ''
as $$
	select lower(u.email) from auth.users u
	where u.id = (select auth.uid()) and u.email_confirmed_at is not null and u.deleted_at is null
$$;
comment on function private.current_user_email() is
	'The signed-in user''s confirmed email, lower-case (null when unconfirmed): whom invitations address.';
revoke execute on function private.current_user_email() from public, anon;
grant execute on function private.current_user_email() to authenticated, service_role;

alter table public.organization_invitations enable row level security;
create policy "Invitations are visible to the organization's owners and admins and to the invitee"
	on public.organization_invitations for select to authenticated
	using (
		organization_id = any (array(select private.managed_organization_ids()))
		or email = (select private.current_user_email())
	);
-- Revoking is deleting; only owners revoke an invitation to become owner.
create policy "Owners and admins can revoke invitations"
	on public.organization_invitations for delete to authenticated
	using (
		organization_id = any (array(select private.managed_organization_ids()))
		and (role <> 'owner' or organization_id = any (array(select private.owned_organization_ids())))
	);
-- Invitations are written only by the functions below.
revoke insert, update on public.organization_invitations from authenticated, anon;

-- =====================================================================================
-- Invite, accept, decline, leave
-- =====================================================================================
create or replace function private.invite_member(p_organization_id uuid, p_email text, p_role text default 'viewer')
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
	v_email text := lower(trim(p_email));
	v_id uuid;
begin
	if not (p_organization_id = any (array(select private.managed_organization_ids()))) then
		raise exception 'Only an owner or admin of the organization can invite members' using errcode = '42501';
	end if;
	if p_role is null or not p_role = any (enum_range(null::public.member_role)::text[]) then
		raise exception 'Unknown role "%": use one of %', p_role,
			array_to_string(enum_range(null::public.member_role)::text[], ', ') using errcode = '22023';
	end if;
	if p_role = 'owner' and not (p_organization_id = any (array(select private.owned_organization_ids()))) then
		raise exception 'Only an owner can invite another owner' using errcode = '42501';
	end if;
	if v_email is null or v_email !~ '^[^@\s]+@[^@\s]+$' or length(v_email) > 320 then
		raise exception '"%" is not an email address: use name@example.com', p_email using errcode = '22023';
	end if;
	-- Whether the email has an account, or is already a member, is deliberately not looked at.
	insert into public.organization_invitations (organization_id, organization_name, email, role, invited_by)
	select o.id, o.name, v_email, p_role::public.member_role, (select auth.uid())
	from public.organizations o where o.id = p_organization_id
	on conflict (organization_id, email) where accepted_at is null do update
		set role = excluded.role, organization_name = excluded.organization_name, invited_by = excluded.invited_by,
			created_at = now(), expires_at = now() + interval '14 days'
	returning id into v_id;
	return v_id;
end
$$;
comment on function private.invite_member(uuid, text, text) is
	'Invites an email to an organization with a role (owners and admins; only owners invite owners); returns the invitation id. Inviting again renews the pending invitation.';

create or replace function private.accept_invitation(p_invitation_id uuid)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
	v_inv public.organization_invitations;
begin
	select * into v_inv from public.organization_invitations i
	where i.id = p_invitation_id and i.email = (select private.current_user_email())
	for update;
	if v_inv.id is null then
		raise exception 'No invitation % for your confirmed email: sign in with the address it was sent to', p_invitation_id
			using errcode = 'PT404';
	end if;
	if v_inv.accepted_at is not null then
		raise exception 'This invitation was already accepted on %', v_inv.accepted_at using errcode = 'PT409';
	end if;
	if v_inv.expires_at <= now() then
		raise exception 'This invitation expired on %: ask an owner or admin to invite you again', v_inv.expires_at
			using errcode = 'PT410';
	end if;
	-- An existing member keeps their role: an invitation never demotes anyone.
	insert into public.organization_members (organization_id, user_id, role)
	values (v_inv.organization_id, (select auth.uid()), v_inv.role)
	on conflict (organization_id, user_id) do nothing;
	update public.organization_invitations set accepted_at = now() where id = v_inv.id;
	return v_inv.organization_id;
end
$$;
comment on function private.accept_invitation(uuid) is
	'The invitee (signed in with the invited, confirmed email) joins the organization with the invited role; returns the organization id.';

create or replace function private.decline_invitation(p_invitation_id uuid)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
	delete from public.organization_invitations i
	where i.id = p_invitation_id and i.email = (select private.current_user_email()) and i.accepted_at is null;
	if not found then
		raise exception 'No pending invitation % for your confirmed email', p_invitation_id using errcode = 'PT404';
	end if;
end
$$;
comment on function private.decline_invitation(uuid) is 'The invitee declines (deletes) a pending invitation.';

create or replace function private.leave_organization(p_organization_id uuid)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
	-- The last-owner trigger refuses this for an organization's only owner.
	delete from public.organization_members m
	where m.organization_id = p_organization_id and m.user_id = (select auth.uid());
	if not found then
		raise exception 'You are not a member of organization %', p_organization_id using errcode = 'PT404';
	end if;
end
$$;
comment on function private.leave_organization(uuid) is
	'The signed-in user leaves an organization (its last owner cannot: make someone else owner first).';

revoke execute on function private.invite_member(uuid, text, text), private.accept_invitation(uuid),
	private.decline_invitation(uuid), private.leave_organization(uuid) from public, anon;
grant execute on function private.invite_member(uuid, text, text), private.accept_invitation(uuid),
	private.decline_invitation(uuid), private.leave_organization(uuid) to authenticated;

-- =====================================================================================
-- Members directory: emails of fellow members (members cannot read auth.users)
-- =====================================================================================
create or replace function private.organization_member_list(p_organization_id uuid)
returns table (user_id uuid, email text, full_name text, role public.member_role, joined_at timestamptz)
language sql
stable
security definer
set search_path = ''
as $$
	select m.user_id, u.email::text, u.raw_user_meta_data ->> 'full_name', m.role, m.created_at
	from public.organization_members m
	join auth.users u on u.id = m.user_id
	where m.organization_id = p_organization_id
		and p_organization_id = any (array(select private.member_organization_ids()))
	order by m.created_at, m.user_id
$$;
comment on function private.organization_member_list(uuid) is
	'Members of an organization with their email and name, for its members only (empty otherwise).';
revoke execute on function private.organization_member_list(uuid) from public, anon;
grant execute on function private.organization_member_list(uuid) to authenticated;

-- =====================================================================================
-- The API's entry points: thin `security invoker` wrappers, so no security definer function
-- sits in an exposed schema (database advisor lint 0029); the privileged work is in `private`.
-- =====================================================================================
create or replace function public.invite_member(p_organization_id uuid, p_email text, p_role text default 'viewer')
returns uuid language sql volatile security invoker set search_path = ''
as $$ select private.invite_member(p_organization_id, p_email, p_role) $$;
comment on function public.invite_member(uuid, text, text) is
	'Invites an email to an organization with a role (owners and admins; only owners invite owners); returns the invitation id. Inviting again renews the pending invitation.';

create or replace function public.accept_invitation(p_invitation_id uuid)
returns uuid language sql volatile security invoker set search_path = ''
as $$ select private.accept_invitation(p_invitation_id) $$;
comment on function public.accept_invitation(uuid) is
	'The invitee (signed in with the invited, confirmed email) joins the organization with the invited role; returns the organization id.';

create or replace function public.decline_invitation(p_invitation_id uuid)
returns void language sql volatile security invoker set search_path = ''
as $$ select private.decline_invitation(p_invitation_id) $$;
comment on function public.decline_invitation(uuid) is 'The invitee declines (deletes) a pending invitation.';

create or replace function public.leave_organization(p_organization_id uuid)
returns void language sql volatile security invoker set search_path = ''
as $$ select private.leave_organization(p_organization_id) $$;
comment on function public.leave_organization(uuid) is
	'The signed-in user leaves an organization (its last owner cannot: make someone else owner first).';

create or replace function public.organization_member_list(p_organization_id uuid)
returns table (user_id uuid, email text, full_name text, role public.member_role, joined_at timestamptz)
language sql stable security invoker set search_path = ''
as $$ select * from private.organization_member_list(p_organization_id) $$;
comment on function public.organization_member_list(uuid) is
	'Members of an organization with their email and name, for its members only (empty otherwise).';

revoke execute on function public.invite_member(uuid, text, text), public.accept_invitation(uuid),
	public.decline_invitation(uuid), public.leave_organization(uuid), public.organization_member_list(uuid)
	from public, anon;
grant execute on function public.invite_member(uuid, text, text), public.accept_invitation(uuid),
	public.decline_invitation(uuid), public.leave_organization(uuid), public.organization_member_list(uuid)
	to authenticated;

-- =====================================================================================
-- At least one owner, always
-- =====================================================================================
create or replace function private.keep_an_owner()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
	if old.role <> 'owner' or (tg_op = 'UPDATE' and new.role = 'owner') then
		return coalesce(new, old);
	end if;
	-- Deleting the organization (or the user's account) cascades here: nothing to keep then.
	-- The row lock serialises concurrent demotions so two owners cannot both step down.
	perform 1 from public.organizations o where o.id = old.organization_id for update;
	if not found or not exists (select 1 from auth.users u where u.id = old.user_id) then
		return coalesce(new, old);
	end if;
	if not exists (
		select 1 from public.organization_members m
		where m.organization_id = old.organization_id and m.role = 'owner' and m.user_id <> old.user_id
	) then
		raise exception 'An organization needs at least one owner: make another member owner first'
			using errcode = 'PT409';
	end if;
	return coalesce(new, old);
end
$$;
comment on function private.keep_an_owner() is
	'Before a member is demoted or removed: refuses when they are the organization''s last owner.';
create trigger keep_an_owner
	before update of role or delete on public.organization_members
	for each row execute function private.keep_an_owner();

-- =====================================================================================
-- Retention is the owners' call; revocation is final
-- =====================================================================================
create or replace function private.guard_organization_update()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
	-- API callers carry a user id; maintenance as postgres or service_role does not.
	if new.retention_days is distinct from old.retention_days and (select auth.uid()) is not null
		and not (old.id = any (array(select private.owned_organization_ids()))) then
		raise exception 'Only an owner of the organization can change how long data is kept' using errcode = '42501';
	end if;
	return new;
end
$$;
comment on function private.guard_organization_update() is
	'Before an organization changes: only its owners may change retention_days.';
create trigger guard_organization_update
	before update on public.organizations
	for each row execute function private.guard_organization_update();

create or replace function private.keep_keys_revoked()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
	if old.revoked_at is not null and new.revoked_at is distinct from old.revoked_at then
		raise exception 'API key % was revoked on % and stays revoked: create a new key instead', old.key_prefix, old.revoked_at
			using errcode = '42501';
	end if;
	return new;
end
$$;
comment on function private.keep_keys_revoked() is
	'Before an API key changes: a revoked key can never be un-revoked (or have its revocation time moved).';
create trigger keep_keys_revoked
	before update of revoked_at on public.bot_api_keys
	for each row execute function private.keep_keys_revoked();

revoke execute on function private.keep_an_owner(), private.guard_organization_update(),
	private.keep_keys_revoked() from public, anon, authenticated;

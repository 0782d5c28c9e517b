// Membership by consent through supabase-js: an invitation is visible only to the organization's
// owners and admins and to its invitee, works only for that invitee, and nobody joins without
// accepting; the last owner can neither leave nor be demoted; only owners change retention; a
// revoked key stays revoked. Also: sign-up with a 200-character full name works.
import { afterAll, describe, expect, it } from 'vitest';
import { adminSql, signUpAndSignIn } from '../stack/testing.ts';
import { addMember, createBot, signUpTenant, type Tenant } from './fixtures.ts';

const sql = adminSql();

afterAll(async () => {
	await sql.end();
});

async function invite(owner: Tenant, email: string, role: 'viewer' | 'admin' | 'owner') {
	const { data, error } = await owner.client.rpc('invite_member', {
		p_organization_id: owner.organizationId,
		p_email: email,
		p_role: role
	});
	expect(error).toBeNull();
	return data as string;
}

async function isMember(t: Tenant, organizationId: string) {
	const [{ n }] = await sql<{ n: number }[]>`
		select count(*)::int as n from public.organization_members
		where organization_id = ${organizationId} and user_id = ${t.userId}`;
	return n === 1;
}

describe('invitations', () => {
	it('are seen and accepted by their invitee only; nobody joins without accepting', async () => {
		const [owner, invitee, stranger] = await Promise.all([
			signUpTenant('Owner'),
			signUpTenant('Invitee'),
			signUpTenant('Stranger')
		]);
		const id = await invite(owner, invitee.email.toUpperCase(), 'admin');
		expect(await isMember(invitee, owner.organizationId)).toBe(false);

		// The stranger sees nothing and can neither accept nor decline it.
		const seen = await stranger.client.from('organization_invitations').select('*');
		expect(seen.data).toEqual([]);
		const stolen = await stranger.client.rpc('accept_invitation', { p_invitation_id: id });
		expect(stolen.error?.code).toBe('PT404');
		const declined = await stranger.client.rpc('decline_invitation', { p_invitation_id: id });
		expect(declined.error?.code).toBe('PT404');
		expect(await isMember(stranger, owner.organizationId)).toBe(false);

		// The invitee sees it, with the organization's name, and joins by accepting.
		const inbox = await invitee.client
			.from('organization_invitations')
			.select('id, organization_name, role, accepted_at');
		expect(inbox.data).toEqual([
			{ id, organization_name: expect.any(String), role: 'admin', accepted_at: null }
		]);
		const accepted = await invitee.client.rpc('accept_invitation', { p_invitation_id: id });
		expect(accepted.error).toBeNull();
		expect(accepted.data).toBe(owner.organizationId);
		expect(await isMember(invitee, owner.organizationId)).toBe(true);
		const again = await invitee.client.rpc('accept_invitation', { p_invitation_id: id });
		expect(again.error?.code).toBe('PT409');

		// Members read each other's emails through the member list; outsiders read nothing.
		const list = await invitee.client.rpc('organization_member_list', {
			p_organization_id: owner.organizationId
		});
		expect((list.data as { email: string }[]).map((m) => m.email).sort()).toEqual(
			[owner.email, invitee.email].sort()
		);
		const outside = await stranger.client.rpc('organization_member_list', {
			p_organization_id: owner.organizationId
		});
		expect(outside.data).toEqual([]);
	});

	it('answer the same whether or not the email has an account', async () => {
		const [owner, existing] = await Promise.all([signUpTenant('Owner'), signUpTenant('Existing')]);
		const answers = await Promise.all(
			[existing.email, `nobody-${Date.now()}@example.test`].map((email) =>
				owner.client.rpc('invite_member', {
					p_organization_id: owner.organizationId,
					p_email: email,
					p_role: 'viewer'
				})
			)
		);
		for (const { data, error } of answers) {
			expect(error).toBeNull();
			expect(data).toMatch(/^[0-9a-f-]{36}$/);
		}
	});

	it('cannot be forged: nobody inserts a member or an invitation directly', async () => {
		const [owner, intruder] = await Promise.all([signUpTenant('Owner'), signUpTenant('Intruder')]);
		const member = await owner.client.from('organization_members').insert({
			organization_id: owner.organizationId,
			user_id: intruder.userId,
			role: 'viewer'
		});
		expect(member.error?.code).toBe('42501');
		const invitation = await owner.client.from('organization_invitations').insert({
			organization_id: owner.organizationId,
			organization_name: 'x',
			email: intruder.email,
			role: 'owner'
		});
		expect(invitation.error?.code).toBe('42501');
		expect(await isMember(intruder, owner.organizationId)).toBe(false);
	});
});

describe('owners', () => {
	it('the last owner cannot leave or be demoted; with a second owner they can', async () => {
		const [owner, other] = await Promise.all([signUpTenant('Owner'), signUpTenant('Other')]);
		const leave = await owner.client.rpc('leave_organization', {
			p_organization_id: owner.organizationId
		});
		expect(leave.error?.code).toBe('PT409');
		expect(leave.error?.message).toMatch(/at least one owner/);
		const demote = await owner.client
			.from('organization_members')
			.update({ role: 'admin' })
			.eq('organization_id', owner.organizationId)
			.eq('user_id', owner.userId);
		expect(demote.error?.code).toBe('PT409');
		expect(await isMember(owner, owner.organizationId)).toBe(true);

		await addMember(owner, other, 'owner');
		const left = await owner.client.rpc('leave_organization', {
			p_organization_id: owner.organizationId
		});
		expect(left.error).toBeNull();
		expect(await isMember(owner, owner.organizationId)).toBe(false);
		// Now `other` is the last owner in turn.
		const removeSelf = await other.client
			.from('organization_members')
			.delete()
			.eq('organization_id', owner.organizationId)
			.eq('user_id', other.userId);
		expect(removeSelf.error?.code).toBe('PT409');
	});

	it('only owners change retention; admins still rename', async () => {
		const [owner, admin] = await Promise.all([signUpTenant('Owner'), signUpTenant('Admin')]);
		await addMember(owner, admin, 'admin');
		const retention = await admin.client
			.from('organizations')
			.update({ retention_days: 1 })
			.eq('id', owner.organizationId);
		expect(retention.error?.code).toBe('42501');
		const renamed = await admin.client
			.from('organizations')
			.update({ name: 'Renamed by the admin' })
			.eq('id', owner.organizationId)
			.select('name');
		expect(renamed.data).toEqual([{ name: 'Renamed by the admin' }]);
		const byOwner = await owner.client
			.from('organizations')
			.update({ retention_days: 30 })
			.eq('id', owner.organizationId)
			.select('retention_days');
		expect(byOwner.data).toEqual([{ retention_days: 30 }]);
	});
});

describe('API keys', () => {
	it('a revoked key stays revoked, whoever tries to restore it', async () => {
		const [owner, admin] = await Promise.all([signUpTenant('Owner'), signUpTenant('Admin')]);
		await addMember(owner, admin, 'admin');
		const bot = await createBot(owner, 'Revocation bot');
		const revoked = await owner.client
			.from('bot_api_keys')
			.update({ revoked_at: new Date().toISOString() })
			.eq('id', bot.apiKeyId)
			.select('revoked_at');
		expect(revoked.data?.[0]?.revoked_at).toBeTruthy();
		for (const t of [admin, owner]) {
			const restored = await t.client
				.from('bot_api_keys')
				.update({ revoked_at: null })
				.eq('id', bot.apiKeyId);
			expect(restored.error?.code).toBe('42501');
		}
		const [key] = await sql<{ revoked_at: Date | null }[]>`
			select revoked_at from public.bot_api_keys where id = ${bot.apiKeyId}`;
		expect(key.revoked_at).not.toBeNull();
	});
});

describe('sign-up', () => {
	it('works with a 200-character full name, and the personal organization fits its name', async () => {
		const fullName = 'Maria '.repeat(33) + 'Lu';
		expect(fullName).toHaveLength(200);
		const { client } = await signUpAndSignIn({ data: { full_name: fullName } });
		const { data, error } = await client
			.from('organizations')
			.select('name')
			.eq('is_personal', true)
			.single();
		expect(error).toBeNull();
		expect(data?.name.length).toBeLessThanOrEqual(120);
		expect(data?.name).toMatch(/^Maria Maria .*'s organization$/);
	});
});

// Tenancy follows membership: once removed from an organization, a former member reads none of
// its rows through REST, exactly like any other tenant.
import { afterAll, describe, expect, it } from 'vitest';
import { adminSql } from '../stack/testing.ts';
import {
	addMember,
	conversationEvents,
	createBot,
	ingest,
	signUpTenant,
	type Tenant
} from './fixtures.ts';

const sql = adminSql();

afterAll(async () => {
	await sql.end();
});

/** A shared (non-personal) organization created by `creator`, which `other` joined as `role`. */
async function teamOrganization(creator: Tenant, other: Tenant, role: 'owner' | 'viewer') {
	const { data, error } = await creator.client
		.from('organizations')
		.insert({ name: `Team ${Math.random().toString(36).slice(2, 8)}` })
		.select('id')
		.single();
	if (error) throw new Error(`creating the team organization failed: ${error.message}`);
	await addMember(creator, other, role, data.id as string);
	return data.id as string;
}

async function visible(t: Tenant, organizationId: string, botId: string) {
	const [organizations, bots, conversations, messages] = await Promise.all([
		t.client.from('organizations').select('id').eq('id', organizationId),
		t.client.from('bots').select('id').eq('id', botId),
		t.client.from('conversations').select('id').eq('bot_id', botId),
		t.client.from('messages').select('id').eq('bot_id', botId)
	]);
	return {
		organizations: organizations.data?.length ?? 0,
		bots: bots.data?.length ?? 0,
		conversations: conversations.data?.length ?? 0,
		messages: messages.data?.length ?? 0
	};
}

describe('membership removal', () => {
	it('a removed viewer no longer reads the organization, its bots, conversations or messages', async () => {
		const [owner, member] = await Promise.all([signUpTenant('Owner'), signUpTenant('Member')]);
		const organizationId = await teamOrganization(owner, member, 'viewer');
		const bot = await createBot({ ...owner, organizationId }, 'Team bot');
		const sent = await ingest(
			owner.client,
			bot.apiKey,
			conversationEvents('team-conv', 'team', new Date(Date.now() - 60_000))
		);
		expect(sent.data?.accepted).toBe(4);
		expect(await visible(member, organizationId, bot.botId)).toEqual({
			organizations: 1,
			bots: 1,
			conversations: 1,
			messages: 2
		});

		const removed = await owner.client
			.from('organization_members')
			.delete()
			.eq('organization_id', organizationId)
			.eq('user_id', member.userId)
			.select();
		expect(removed.data).toHaveLength(1);
		expect(await visible(member, organizationId, bot.botId)).toEqual({
			organizations: 0,
			bots: 0,
			conversations: 0,
			messages: 0
		});
	});

	// Bug pinned here (not fixed by this suite): the select policy on organizations also admits
	// `created_by = auth.uid()` (so `insert ... returning` works before the owner trigger), which
	// lets a creator removed by another owner keep reading the organization forever.
	it('an organization creator removed by another owner no longer reads the organization', async () => {
		const [creator, coOwner] = await Promise.all([
			signUpTenant('Creator'),
			signUpTenant('CoOwner')
		]);
		const organizationId = await teamOrganization(creator, coOwner, 'owner');
		const removed = await coOwner.client
			.from('organization_members')
			.delete()
			.eq('organization_id', organizationId)
			.eq('user_id', creator.userId)
			.select();
		expect(removed.data).toHaveLength(1);
		const [{ members }] = await sql<{ members: number }[]>`
			select count(*)::int as members from public.organization_members
			where organization_id = ${organizationId} and user_id = ${creator.userId}`;
		expect(members).toBe(0);

		const { data } = await creator.client
			.from('organizations')
			.select('*')
			.eq('id', organizationId);
		expect(data, 'a former member still reads the organization').toEqual([]);
	});
});

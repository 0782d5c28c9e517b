// Tenant isolation through RPC (supabase-js `.rpc()`), for every function in `public` that the
// API roles may execute: called by another tenant (or anonymously) with the owner's bot and
// organization ids, each one errors or returns nothing of the owner's data, and the functions
// that write change nothing of the owner's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SupabaseClient } from '@supabase/supabase-js';
import { adminSql, anonClient } from '../stack/testing.ts';
import {
	addMember,
	mentions,
	runRollups,
	signUpTenant,
	snapshot,
	tenantWithTraffic,
	type Tenant,
	type TenantData
} from './fixtures.ts';

const sql = adminSql();
let a: TenantData;
let b: TenantData;
let viewer: Tenant;
/** An invitation of the owner's organization to someone else, still pending. */
let pendingInvitationId: string;

type Call = (
	client: SupabaseClient,
	owner: TenantData,
	actor: Tenant
) => PromiseLike<{
	data: unknown;
	error: unknown;
}>;
interface FunctionCase {
	/** read: returns the owner's data to the owner only; write: changes the owner's tenant */
	kind: 'read' | 'write';
	call: Call;
	/** a member may rightly call it on the owner's organization (e.g. to leave it) */
	membersMay?: boolean;
}

const day = 86_400_000;
/** A range around the owner's traffic: two days ago, in hourly and daily rollups and raw rows. */
const range = (t: TenantData) => ({
	p_from: new Date(t.eventTime.getTime() - day).toISOString(),
	p_to: new Date(t.eventTime.getTime() + day).toISOString()
});

// One case per callable function. A function added to `public` and granted to an API role
// without a case here fails the coverage test below.
const functions: Record<string, FunctionCase> = {
	bot_summary: {
		kind: 'read',
		call: (c, t) => c.rpc('bot_summary', { p_bot_id: t.botId, ...range(t) })
	},
	bot_usage_series: {
		kind: 'read',
		call: (c, t) => c.rpc('bot_usage_series', { p_bot_id: t.botId, ...range(t), p_bucket: 'hour' })
	},
	bot_breakdown: {
		kind: 'read',
		call: (c, t) =>
			c.rpc('bot_breakdown', { p_bot_id: t.botId, ...range(t), p_dimension: 'intent' })
	},
	export_conversations: {
		kind: 'read',
		call: (c, t) => c.rpc('export_conversations', { p_bot_id: t.botId, ...range(t) })
	},
	search_conversations: {
		kind: 'read',
		call: (c, t) =>
			c.rpc('search_conversations', { p_bot_id: t.botId, ...range(t), p_query: t.marker })
	},
	export_messages: {
		kind: 'read',
		call: (c, t) =>
			c.rpc('export_messages', {
				p_bot_id: t.botId,
				...range(t),
				p_conversation_id: t.conversationId
			})
	},
	export_daily_metrics: {
		kind: 'read',
		call: (c, t) => c.rpc('export_daily_metrics', { p_bot_id: t.botId, ...range(t) })
	},
	organization_overview: {
		kind: 'read',
		call: (c, t) => c.rpc('organization_overview', { p_organization_id: t.organizationId })
	},
	bot_duration_distribution: {
		kind: 'read',
		// Only the counts are data: the bands' labels and bounds are the same for everyone.
		call: async (c, t) => {
			const { data, error } = await c.rpc('bot_duration_distribution', {
				p_bot_id: t.botId,
				...range(t)
			});
			return {
				data: (data as { conversations: number }[] | null)?.map((b) => b.conversations),
				error
			};
		}
	},
	explore_conversations: {
		kind: 'read',
		call: (c, t) => c.rpc('explore_conversations', { p_bot_id: t.botId, ...range(t) })
	},
	count_explored_conversations: {
		kind: 'read',
		call: (c, t) => c.rpc('count_explored_conversations', { p_bot_id: t.botId, ...range(t) })
	},
	create_bot_api_key: {
		kind: 'write',
		call: (c, t) => c.rpc('create_bot_api_key', { p_bot_id: t.botId, p_name: 'intruder' })
	},
	invite_member: {
		kind: 'write',
		call: (c, t, actor) =>
			c.rpc('invite_member', {
				p_organization_id: t.organizationId,
				p_email: actor.email,
				p_role: 'owner'
			})
	},
	accept_invitation: {
		kind: 'write',
		call: (c) => c.rpc('accept_invitation', { p_invitation_id: pendingInvitationId })
	},
	decline_invitation: {
		kind: 'write',
		call: (c) => c.rpc('decline_invitation', { p_invitation_id: pendingInvitationId })
	},
	leave_organization: {
		kind: 'write',
		membersMay: true,
		call: (c, t) => c.rpc('leave_organization', { p_organization_id: t.organizationId })
	},
	organization_member_list: {
		kind: 'read',
		call: (c, t) => c.rpc('organization_member_list', { p_organization_id: t.organizationId })
	}
};

/** Owner data in an answer: one of its ids or its marker word, or any non-zero figure. */
function hasData(payload: unknown, owner: TenantData): boolean {
	if (mentions(payload, owner)) return true;
	let figure = false;
	JSON.stringify(payload ?? null, (_key, value) => {
		if (typeof value === 'number' && value !== 0) figure = true;
		return value;
	});
	return figure;
}

beforeAll(async () => {
	[a, b, viewer] = await Promise.all([
		tenantWithTraffic('Alpha', sql),
		tenantWithTraffic('Bravo', sql),
		signUpTenant('Viewer')
	]);
	await addMember(a, viewer, 'viewer');
	const invited = await a.client.rpc('invite_member', {
		p_organization_id: a.organizationId,
		p_email: `invitee-${a.marker}@example.test`,
		p_role: 'admin'
	});
	if (invited.error) throw new Error(`invite_member failed: ${invited.error.message}`);
	pendingInvitationId = invited.data as string;
	await runRollups(sql);
});

afterAll(async () => {
	await sql.end();
});

describe('RPC coverage', () => {
	it('has a cross-tenant case for every public function an API role may execute', async () => {
		const callable = await sql<{ name: string }[]>`
			select distinct p.proname as name
			from pg_proc p
			join pg_namespace n on n.oid = p.pronamespace
			where n.nspname = 'public'
				and (has_function_privilege('authenticated', p.oid, 'execute')
					or has_function_privilege('anon', p.oid, 'execute'))
			order by 1`;
		expect(callable.length).toBeGreaterThan(0);
		const uncovered = callable.map((f) => f.name).filter((name) => !(name in functions));
		expect(
			uncovered,
			'callable functions without a case in integration/tenant-rpc.spec.ts'
		).toEqual([]);
	});

	it('keeps the private schema out of reach of the API, whatever the function', async () => {
		for (const fn of [
			'ingest_events',
			'authenticate_bot_api_key',
			'aggregate_raw',
			'run_hourly_rollup'
		]) {
			const { data, error } = await b.client.schema('private').rpc(fn, {});
			expect(error, `private.${fn} answered ${JSON.stringify(data)}`).not.toBeNull();
		}
	});
});

describe.each(Object.keys(functions).filter((n) => functions[n].kind === 'read'))(
	'RPC %s',
	(name) => {
		const { call } = functions[name];

		it("returns the owner's data to the owner (so the calls below are meaningful)", async () => {
			const { data, error } = await call(a.client, a, a);
			expect(error).toBeNull();
			expect(hasData(data, a)).toBe(true);
		});

		it("returns nothing of the owner's data to another tenant using the owner's ids", async () => {
			const { data, error } = await call(b.client, a, b);
			if (!error) expect(hasData(data, a), JSON.stringify(data)).toBe(false);
		});

		it('is refused to an anonymous caller', async () => {
			const { data, error } = await call(anonClient(), a, b);
			if (!error) expect(hasData(data, a), JSON.stringify(data)).toBe(false);
			expect(error).not.toBeNull();
		});
	}
);

describe.each(Object.keys(functions).filter((n) => functions[n].kind === 'write'))(
	'RPC %s',
	(name) => {
		const { call, membersMay } = functions[name];

		it("is refused to another tenant, a viewer and anonymous callers acting on the owner's tenant", async () => {
			const before = await snapshot(sql, a);
			for (const [who, client, actor] of [
				['another tenant', b.client, b],
				...(membersMay ? [] : [['a viewer', viewer.client, viewer] as const]),
				['anonymous', anonClient(), b]
			] as const) {
				const { data, error } = await call(client, a, actor);
				expect(error, `${who} got ${JSON.stringify(data)}`).not.toBeNull();
			}
			expect(await snapshot(sql, a)).toEqual(before);
		});
	}
);

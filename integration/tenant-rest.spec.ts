// Tenant isolation through the REST API (supabase-js `.from()`), for every table and view the
// API exposes in `public`: another tenant cannot read, insert, update or delete the owner's
// rows, anonymous callers reach nothing, and a viewer of the owner's organization cannot write.
// Effects are checked in the database itself, not through the API that is under test.
import { randomUUID } from 'node:crypto';
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
let aBefore: Awaited<ReturnType<typeof snapshot>>;
let bBefore: Awaited<ReturnType<typeof snapshot>>;

type Row = Record<string, unknown>;
interface TableCase {
	/** the column and value that pick a tenant's rows */
	owned: (t: TenantData) => [string, string];
	/** a row the actor tries to write into the owner's tenant */
	insert: (owner: TenantData, actor: Tenant) => Row;
	/** a change the actor tries to make to the owner's rows */
	update: Row;
	/** the column tying a row to its tenant, when it is not the `owned` one (null: its own key) */
	parent?: ((t: TenantData) => [string, string]) | null;
	/** false when a viewer of the owner's organization rightly sees none of these rows */
	viewerReads?: boolean;
}

const now = () => new Date().toISOString();
const hourAgo = () => new Date(Date.now() - 3_600_000).toISOString();

// One case per exposed relation. A table added to `public` without a case here fails the
// coverage test below: add its case, so its isolation is proven too.
const tables: Record<string, TableCase> = {
	organizations: {
		owned: (t) => ['id', t.organizationId],
		insert: (owner) => ({ name: 'Hijacked', created_by: owner.userId }),
		update: { name: 'Hijacked', retention_days: 1 },
		parent: null
	},
	organization_members: {
		owned: (t) => ['organization_id', t.organizationId],
		insert: (owner, actor) => ({
			organization_id: owner.organizationId,
			user_id: actor.userId,
			role: 'owner'
		}),
		update: { role: 'admin' }
	},
	organization_invitations: {
		owned: (t) => ['organization_id', t.organizationId],
		insert: (owner, actor) => ({
			organization_id: owner.organizationId,
			organization_name: 'Hijacked',
			email: actor.email,
			role: 'owner'
		}),
		update: { role: 'owner', email: 'hijacker@example.test' },
		// Invitations are for the owners and admins, and each for its invitee, only.
		viewerReads: false
	},
	bots: {
		owned: (t) => ['id', t.botId],
		insert: (owner) => ({ organization_id: owner.organizationId, name: 'Intruder bot' }),
		update: { name: 'Hijacked', timezone: 'Asia/Tokyo' },
		parent: (t) => ['organization_id', t.organizationId]
	},
	bot_api_keys: {
		owned: (t) => ['bot_id', t.botId],
		insert: (owner) => ({
			bot_id: owner.botId,
			name: 'intruder',
			key_prefix: 'bf_live_intrud',
			key_hash: '\\x00'
		}),
		update: { revoked_at: now(), name: 'hijacked' }
	},
	conversations: {
		owned: (t) => ['bot_id', t.botId],
		insert: (owner) => ({
			bot_id: owner.botId,
			external_id: `intruder-${randomUUID()}`,
			started_at: now()
		}),
		update: { status: 'abandoned', end_user_id: 'hijacked' }
	},
	messages: {
		owned: (t) => ['bot_id', t.botId],
		insert: (owner) => ({
			bot_id: owner.botId,
			conversation_id: owner.conversationId,
			external_id: `intruder-${randomUUID()}`,
			role: 'user',
			content: 'injected',
			sent_at: now()
		}),
		update: { content: 'hijacked' }
	},
	usage_analytics: {
		owned: (t) => ['bot_id', t.botId],
		insert: (owner) => ({ bot_id: owner.botId, hour_start: '2020-01-01T00:00:00Z', messages: 1 }),
		update: { messages: 999_999 }
	},
	bot_performance_metrics: {
		owned: (t) => ['bot_id', t.botId],
		insert: (owner) => ({
			bot_id: owner.botId,
			day: '2020-01-01',
			day_start: '2020-01-01T00:00:00Z',
			day_end: '2020-01-02T00:00:00Z',
			messages: 1
		}),
		update: { messages: 999_999 }
	},
	usage_breakdowns: {
		owned: (t) => ['bot_id', t.botId],
		insert: (owner) => ({
			bot_id: owner.botId,
			hour_start: '2020-01-01T00:00:00Z',
			dimension: 'channel',
			value: 'intruder'
		}),
		update: { messages: 999_999 }
	},
	conversation_metrics: {
		owned: (t) => ['bot_id', t.botId],
		insert: (owner) => ({
			conversation_id: randomUUID(),
			bot_id: owner.botId,
			started_at: hourAgo(),
			status: 'active',
			channel: 'web'
		}),
		update: { messages: 999_999, resolved: true }
	}
};

beforeAll(async () => {
	[a, b, viewer] = await Promise.all([
		tenantWithTraffic('Alpha', sql),
		tenantWithTraffic('Bravo', sql),
		signUpTenant('Viewer')
	]);
	await addMember(a, viewer, 'viewer');
	for (const t of [a, b]) {
		const { error } = await t.client.rpc('invite_member', {
			p_organization_id: t.organizationId,
			p_email: `invitee-${t.marker}@example.test`,
			p_role: 'viewer'
		});
		if (error) throw new Error(`invite_member failed: ${error.message}`);
	}
	await runRollups(sql);
	[aBefore, bBefore] = await Promise.all([snapshot(sql, a), snapshot(sql, b)]);
	// Every table holds rows of both tenants, so an empty answer means isolation, not no data.
	for (const [name, rows] of Object.entries(aBefore)) {
		if (!rows?.length) throw new Error(`fixture: tenant A has no ${name} rows; check the rollups`);
	}
	for (const [name, rows] of Object.entries(bBefore)) {
		if (!rows?.length) throw new Error(`fixture: tenant B has no ${name} rows; check the rollups`);
	}
});

afterAll(async () => {
	await sql.end();
});

/** Exposed = a relation in `public` on which an API role holds any privilege. */
async function exposedRelations() {
	return sql<{ name: string; kind: string; rls: boolean; invoker: boolean }[]>`
		select c.relname as name, c.relkind as kind, c.relrowsecurity as rls,
			coalesce('security_invoker=true' = any (c.reloptions), false)
				or coalesce('security_invoker=on' = any (c.reloptions), false) as invoker
		from pg_class c
		join pg_namespace n on n.oid = c.relnamespace
		where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'f')
			and exists (
				select 1 from unnest(array['anon', 'authenticated']) r(role)
				where has_table_privilege(r.role, c.oid, 'select, insert, update, delete')
			)
		order by 1`;
}

describe('REST coverage', () => {
	it('has a cross-tenant case for every table and view the REST API exposes in public', async () => {
		const exposed = (await exposedRelations()).map((r) => r.name);
		expect(exposed.length).toBeGreaterThan(0);
		const uncovered = exposed.filter((name) => !(name in tables));
		expect(
			uncovered,
			'exposed relations without a case in integration/tenant-rest.spec.ts'
		).toEqual([]);
	});

	it('has row level security on every exposed table, and every exposed view runs as the caller', async () => {
		const unprotected = (await exposedRelations())
			.filter((r) => (r.kind === 'v' ? !r.invoker : !r.rls))
			.map((r) => r.name);
		expect(unprotected).toEqual([]);
	});
});

describe('REST under concurrency', () => {
	// Requests share pooled database connections; each must run with its own caller's claims.
	it("interleaved requests of two tenants each see only their own tenant's rows", async () => {
		const rounds = Array.from({ length: 12 }, (_, i) => i);
		const answers = await Promise.all(
			rounds.flatMap(() =>
				[a, b].map(async (t) => {
					const { data, error } = await t.client.from('messages').select('bot_id, content');
					return { t, data, error };
				})
			)
		);
		for (const { t, data, error } of answers) {
			expect(error).toBeNull();
			expect(data?.length).toBeGreaterThan(0);
			expect(data?.every((m) => m.bot_id === t.botId)).toBe(true);
		}
	});
});

describe('REST schemas', () => {
	// Operator views read across tenants; internals and platform tables hold every tenant's rows.
	it.each([
		['admin', 'organization_daily_usage'],
		['admin', 'cron_job_health'],
		['private', 'rollup_state'],
		['private', 'ingest_rate_limits'],
		['auth', 'users'],
		['cron', 'job']
	])('keeps %s.%s out of reach of signed-in and anonymous callers', async (schema, table) => {
		for (const client of [b.client, anonClient()]) {
			const { data, error } = await client.schema(schema).from(table).select('*').limit(5);
			expect(error, `${schema}.${table} answered ${JSON.stringify(data)}`).not.toBeNull();
		}
	});
});

async function expectUnchanged() {
	expect(await snapshot(sql, a)).toEqual(aBefore);
}

/** An update or delete that reached no row: refused outright, or matched nothing under RLS. */
function expectNoRowsAffected(result: { data: unknown[] | null; error: unknown }) {
	if (result.error) return;
	expect(result.data).toEqual([]);
}

describe.each(Object.keys(tables))('REST table %s', (name) => {
	const c = tables[name];
	const from = (client: SupabaseClient) => client.from(name);

	it("another tenant cannot read the owner's rows", async () => {
		const [column, value] = c.owned(a);
		const filtered = await from(b.client).select('*').eq(column, value);
		expect(filtered.error).toBeNull();
		expect(filtered.data).toEqual([]);
		const all = await from(b.client).select('*');
		expect(all.error).toBeNull();
		expect(mentions(all.data, a)).toBe(false);
		// The same query does return the caller's own rows, so the empty answer above is RLS.
		const [ownColumn, ownValue] = c.owned(b);
		const own = await from(b.client).select('*').eq(ownColumn, ownValue);
		expect(own.data?.length).toBeGreaterThan(0);
	});

	it("another tenant cannot insert into the owner's tenant", async () => {
		const { error } = await from(b.client).insert(c.insert(a, b)).select();
		expect(error).not.toBeNull();
		await expectUnchanged();
	});

	it("another tenant's update and delete reach none of the owner's rows", async () => {
		const [column, value] = c.owned(a);
		expectNoRowsAffected(await from(b.client).update(c.update).eq(column, value).select());
		expectNoRowsAffected(await from(b.client).delete().eq(column, value).select());
		// Through a filter the owner's rows only match by a list, as a crafted request would.
		expectNoRowsAffected(await from(b.client).update(c.update).in(column, [value]).select());
		await expectUnchanged();
	});

	it("another tenant cannot overwrite the owner's rows by upserting on their key", async () => {
		const rows = aBefore[name] ?? [];
		const changed = rows.map((row) => ({ ...(row as Row), ...c.update }));
		for (const ignoreDuplicates of [false, true]) {
			expectNoRowsAffected(await from(b.client).upsert(changed, { ignoreDuplicates }).select());
		}
		await expectUnchanged();
	});

	it("another tenant counts none of the owner's rows", async () => {
		const [column, value] = c.owned(a);
		const { count, error } = await from(b.client)
			.select('*', { count: 'exact', head: true })
			.eq(column, value);
		expect(error).toBeNull();
		expect(count).toBe(0);
	});

	it("another tenant cannot move its own rows into the owner's tenant", async () => {
		const parent = c.parent === undefined ? c.owned : c.parent;
		if (!parent) return expect(name).toBe('organizations'); // its own key is its tenant
		const [column, value] = parent(a);
		const [, own] = parent(b);
		expectNoRowsAffected(
			await from(b.client)
				.update({ [column]: value })
				.eq(column, own)
				.select()
		);
		await expectUnchanged();
		expect(await snapshot(sql, b)).toEqual(bBefore);
	});

	it('an anonymous caller reads nothing and writes nothing', async () => {
		const anon = anonClient();
		const [column, value] = c.owned(a);
		const read = await from(anon).select('*').eq(column, value);
		if (!read.error) expect(read.data).toEqual([]);
		const all = await from(anon).select('*').limit(5);
		// anon holds no privilege at all in public: refused, not merely filtered.
		expect(all.error?.code).toBe('42501');
		const inserted = await from(anon).insert(c.insert(a, viewer)).select();
		expect(inserted.error).not.toBeNull();
		expectNoRowsAffected(await from(anon).update(c.update).eq(column, value).select());
		expectNoRowsAffected(await from(anon).delete().eq(column, value).select());
		await expectUnchanged();
	});

	it("a viewer of the owner's organization reads its rows but cannot write", async () => {
		const [column, value] = c.owned(a);
		const read = await from(viewer.client).select('*').eq(column, value);
		expect(read.error).toBeNull();
		if (c.viewerReads === false) {
			// Only what is addressed to the viewer: the invitation they accepted to join.
			expect(read.data?.map((r) => r.email)).toEqual([viewer.email.toLowerCase()]);
		} else expect(read.data?.length).toBeGreaterThan(0);
		const inserted = await from(viewer.client).insert(c.insert(a, viewer)).select();
		expect(inserted.error).not.toBeNull();
		expectNoRowsAffected(await from(viewer.client).update(c.update).eq(column, value).select());
		expectNoRowsAffected(await from(viewer.client).delete().eq(column, value).select());
		await expectUnchanged();
	});
});

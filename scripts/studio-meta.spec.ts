// What Supabase Studio would show: runs Studio's own backend library (@supabase/postgres-meta)
// against the running database and checks it finds every public table with its comments, the
// admin views, and every RLS policy, as the catalog has them.
import { PostgresMeta } from '@supabase/postgres-meta';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { config } from '../stack/config.ts';
import { adminSql } from '../stack/testing.ts';

const analyticsTables = [
	'organizations',
	'organization_members',
	'bots',
	'bot_api_keys',
	'conversations',
	'messages',
	'usage_analytics',
	'bot_performance_metrics',
	'usage_breakdowns',
	'conversation_metrics'
];
const adminViews = [
	'organization_daily_usage',
	'organization_daily_performance',
	'cron_job_health'
];

const meta = new PostgresMeta({ connectionString: config.db.url, max: 1 });
const sql = adminSql();

afterAll(async () => {
	await meta.end();
	await sql.end();
});

/** postgres-meta answers { data, error } instead of throwing; a failure must name its cause. */
function unwrap<T>(result: { data: T | null; error: { message: string } | null }): T {
	if (result.error) throw new Error(`postgres-meta failed: ${result.error.message}`);
	return result.data as T;
}

describe('Studio (postgres-meta) view of the schema', () => {
	let tables: Array<{
		name: string;
		comment: string | null;
		rls_enabled: boolean;
		columns?: Array<{ name: string; comment: string | null }>;
	}>;

	beforeAll(async () => {
		tables = unwrap(await meta.tables.list({ includedSchemas: ['public'], includeColumns: true }));
	});

	it('finds every table of schema public, with the comment the catalog holds', async () => {
		const catalog = await sql<{ name: string; comment: string | null }[]>`
			select c.relname as name, obj_description(c.oid, 'pg_class') as comment
			from pg_class c join pg_namespace n on n.oid = c.relnamespace
			where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition`;
		const found = new Map(tables.map((t) => [t.name, t.comment]));
		for (const row of catalog) {
			expect(found.has(row.name), `postgres-meta misses table public.${row.name}`).toBe(true);
			expect(found.get(row.name)).toBe(row.comment);
		}
	});

	it('shows a comment on every analytics table and column, and RLS on', () => {
		for (const name of analyticsTables) {
			const table = tables.find((t) => t.name === name);
			expect(table, `table public.${name} is missing`).toBeDefined();
			expect(table!.comment, `public.${name} has no comment`).toBeTruthy();
			expect(table!.rls_enabled, `public.${name} has RLS off`).toBe(true);
			const uncommented = (table!.columns ?? []).filter((c) => !c.comment).map((c) => c.name);
			expect(uncommented, `public.${name} columns without a comment`).toEqual([]);
		}
	});

	it('finds every RLS policy of schema public, by table and name', async () => {
		const policies = unwrap(await meta.policies.list({ includedSchemas: ['public'] }));
		const catalog = await sql<{ table: string; name: string }[]>`
			select tablename as table, policyname as name from pg_policies where schemaname = 'public'`;
		const found = new Set(policies.map((p) => `${p.table}: ${p.name}`));
		expect(catalog.length).toBeGreaterThan(0);
		for (const row of catalog) {
			expect(
				found.has(`${row.table}: ${row.name}`),
				`postgres-meta misses policy "${row.name}" on ${row.table}`
			).toBe(true);
		}
		// Every analytics table is guarded by at least a select policy.
		for (const name of analyticsTables) {
			expect(
				policies.some((p) => p.table === name && (p.command === 'SELECT' || p.command === 'ALL'))
			).toBe(true);
		}
	});

	it('finds the admin views with their comments', async () => {
		const views = unwrap(
			await meta.views.list({ includedSchemas: ['admin'], includeColumns: true })
		);
		for (const name of adminViews) {
			const view = views.find((v) => v.name === name);
			expect(view, `view admin.${name} is missing`).toBeDefined();
			expect(view!.comment, `admin.${name} has no comment`).toBeTruthy();
			const uncommented = (view!.columns ?? []).filter((c) => !c.comment).map((c) => c.name);
			expect(uncommented, `admin.${name} columns without a comment`).toEqual([]);
		}
	});
});

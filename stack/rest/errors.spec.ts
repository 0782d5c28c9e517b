// Bad input gets PostgREST's error and the service keeps serving: malformed JSON, unknown
// tables, columns and operators, SQL-looking values, oversized bodies, bad or expired JWTs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { config } from '../config.ts';
import { signLegacy } from '../jwt.ts';
import { serviceClient } from '../testing.ts';
import { admin, clientWithToken, ddl } from './spec-fixtures.ts';
import { maxBodyBytes } from './request-body.ts';

const db = serviceClient();
const table = 'rest_spec_errors_items';

beforeAll(async () => {
	await ddl(`
		drop table if exists public.rest_spec_errors_items cascade;
		create table public.rest_spec_errors_items (id int primary key, name text not null, parent int references public.rest_spec_errors_items (id));
		insert into public.rest_spec_errors_items values (1, 'one', null), (2, 'two', 1);
	`);
});

afterAll(async () => {
	await admin.unsafe(`drop table if exists public.rest_spec_errors_items cascade`);
	await admin.end();
});

/** The service still answers a normal query after each bad one. */
async function stillServing() {
	const { data, error } = await db.from(table).select('id').eq('id', 1);
	expect(error).toBeNull();
	expect(data).toEqual([{ id: 1 }]);
}

describe('errors', () => {
	it('answers malformed JSON with 400 PGRST102', async () => {
		// supabase-js always sends valid JSON, so this one request is raw HTTP.
		const res = await fetch(`${config.api.url}/rest/v1/${table}`, {
			method: 'POST',
			headers: {
				apikey: config.keys.serviceRole,
				authorization: `Bearer ${config.keys.serviceRole}`,
				'content-type': 'application/json'
			},
			body: '{"id": 3, "name": '
		});
		expect(res.status).toBe(400);
		expect(await res.json()).toMatchObject({ code: 'PGRST102', message: 'Empty or invalid json' });
		await stillServing();
	});

	it('answers an unknown table with 404 PGRST205', async () => {
		const { error, status } = await db.from('rest_spec_errors_nope').select();
		expect(status).toBe(404);
		expect(error).toMatchObject({
			code: 'PGRST205',
			message: "Could not find the table 'public.rest_spec_errors_nope' in the schema cache"
		});
	});

	it('answers unknown columns in select, filters and order with 400 42703', async () => {
		for (const query of [
			db.from(table).select('id, nope'),
			db.from(table).select().eq('nope', 1),
			db.from(table).select().order('nope')
		]) {
			const { error, status } = await query;
			expect(status).toBe(400);
			expect(error).toMatchObject({
				code: '42703',
				message: `column ${table}.nope does not exist`
			});
		}
		await stillServing();
	});

	it('answers unknown operators and malformed logic trees with 400 PGRST100', async () => {
		const op = await db.from(table).select().filter('id', 'zz', 1);
		expect([op.status, op.error?.code]).toEqual([400, 'PGRST100']);
		const tree = await db.from(table).select().or('id.eq.1,name');
		expect([tree.status, tree.error?.code]).toEqual([400, 'PGRST100']);
		const select = await db.from(table).select('id,(name');
		expect([select.status, select.error?.code]).toEqual([400, 'PGRST100']);
		await stillServing();
	});

	it('answers a malformed URL with 400', async () => {
		// supabase-js always encodes paths, so this one request is raw HTTP.
		const res = await fetch(`${config.api.url}/rest/v1/${table}%zz`, {
			headers: {
				apikey: config.keys.serviceRole,
				authorization: `Bearer ${config.keys.serviceRole}`
			}
		});
		expect(res.status).toBe(400);
		expect((await res.json()).code).toBe('PGRST100');
		await stillServing();
	});

	it('treats SQL-looking values as plain values', async () => {
		const injected = await db.from(table).select('id').eq('name', "one' or '1'='1");
		expect(injected).toMatchObject({ data: [], error: null });
		const quoted = await db
			.from(table)
			.select('id')
			.in('name', ['one); drop table rest_spec_errors_items; --', 'two']);
		expect(quoted.data).toEqual([{ id: 2 }]);
		const badInt = await db
			.from(table)
			.select('id')
			.eq('id', '1; delete from rest_spec_errors_items');
		expect([badInt.status, badInt.error?.code]).toEqual([400, '22P02']);
		const inserted = await db
			.from(table)
			.insert({ id: 3, name: "Robert'); drop table students;--" })
			.select('name')
			.single();
		expect(inserted.data?.name).toBe("Robert'); drop table students;--");
		const [{ n }] = await admin.unsafe(
			`select count(*)::int as n from public.rest_spec_errors_items`
		);
		expect(n).toBe(3);
	});

	it('maps constraint violations to PostgREST statuses', async () => {
		const dup = await db.from(table).insert({ id: 1, name: 'again' });
		expect([dup.status, dup.error?.code]).toEqual([409, '23505']);
		const fk = await db.from(table).insert({ id: 9, name: 'orphan', parent: 42 });
		expect([fk.status, fk.error?.code]).toEqual([409, '23503']);
		const notNull = await db.from(table).insert({ id: 10, name: null });
		expect([notNull.status, notNull.error?.code]).toEqual([400, '23502']);
	});

	it('refuses an oversized body with 413', async () => {
		const { status, error } = await db
			.from(table)
			.insert({ id: 11, name: 'x'.repeat(maxBodyBytes + 1) });
		expect(status).toBe(413);
		expect(error?.message).toBe('Request size limit exceeded');
		await stillServing();
	});

	it('refuses bad and expired JWTs with 401', async () => {
		const bad = await clientWithToken('not.a.jwt').from(table).select();
		expect(bad.status).toBe(401);
		expect(bad.error?.code).toBe('PGRST301');

		const forged = await signLegacy({
			role: 'service_role',
			exp: Math.floor(Date.now() / 1000) + 60
		});
		const tampered = forged.slice(0, -4) + (forged.endsWith('AAAA') ? 'BBBB' : 'AAAA');
		const wrongSig = await clientWithToken(tampered).from(table).select();
		expect([wrongSig.status, wrongSig.error?.code]).toEqual([401, 'PGRST301']);

		const expired = await signLegacy({
			role: 'authenticated',
			sub: crypto.randomUUID(),
			exp: Math.floor(Date.now() / 1000) - 10
		});
		const late = await clientWithToken(expired).from(table).select();
		expect(late.status).toBe(401);
		expect(late.error).toMatchObject({ code: 'PGRST303', message: 'JWT expired' });
		await stillServing();
	});

	it('refuses a schema that is not exposed with 406 PGRST106', async () => {
		const { status, error } = await db.schema('auth').from('users').select();
		expect(status).toBe(406);
		expect(error?.code).toBe('PGRST106');
	});

	it('keeps serving after its database connections are killed', async () => {
		await admin.unsafe(
			`select pg_terminate_backend(pid) from pg_stat_activity where usename = 'authenticator' and application_name = 'stack-rest'`
		);
		await new Promise((r) => setTimeout(r, 200));
		await stillServing();
	});
});

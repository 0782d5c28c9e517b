// Functions through supabase-js `.rpc()`: scalar and set-returning, POST and GET, filters
// on returned rows, a single unnamed json parameter, void, and PostgREST's function errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceClient } from '../testing.ts';
import { admin, ddl } from './spec-fixtures.ts';

const db = serviceClient();

beforeAll(async () => {
	await ddl(`
		drop table if exists public.rest_spec_rpc_bots, public.rest_spec_rpc_calls cascade;
		create table public.rest_spec_rpc_bots (id int primary key, name text not null, score int);
		insert into public.rest_spec_rpc_bots values (1, 'alpha', 5), (2, 'beta', 8), (3, 'gamma', 2);
		create or replace function public.rest_spec_rpc_add(a int, b int default 10) returns int
			language sql immutable as $$ select a + b $$;
		create or replace function public.rest_spec_rpc_sum(xs int[]) returns int
			language sql immutable as $$ select sum(x)::int from unnest(xs) x $$;
		create or replace function public.rest_spec_rpc_bots_above(min_score int) returns setof public.rest_spec_rpc_bots
			language sql stable as $$ select * from public.rest_spec_rpc_bots where score > min_score $$;
		create or replace function public.rest_spec_rpc_bot(bot_id int) returns public.rest_spec_rpc_bots
			language sql stable as $$ select * from public.rest_spec_rpc_bots where id = bot_id $$;
		create or replace function public.rest_spec_rpc_squares(n int) returns table (i int, square int)
			language sql immutable as $$ select g, g * g from generate_series(1, n) g $$;
		create or replace function public.rest_spec_rpc_echo(jsonb) returns jsonb
			language sql immutable as $$ select $1 || '{"echoed": true}' $$;
		create or replace function public.rest_spec_rpc_rename(bot_id int, new_name text) returns void
			language sql as $$ update public.rest_spec_rpc_bots set name = new_name where id = bot_id $$;
		create table public.rest_spec_rpc_calls (n serial primary key);
		create or replace function public.rest_spec_rpc_counted(n int) returns setof int language sql as $$
			insert into public.rest_spec_rpc_calls default values;
			select generate_series(1, n);
		$$;
		create or replace function public.rest_spec_rpc_fail(reason text) returns int language plpgsql as $$
			begin raise exception 'cannot do that: %', reason using hint = 'Ask for something else'; end $$;
	`);
});

afterAll(async () => {
	await admin.unsafe(`
		drop table if exists public.rest_spec_rpc_bots cascade;
		drop function if exists public.rest_spec_rpc_counted;
		drop table if exists public.rest_spec_rpc_calls;
		drop function if exists public.rest_spec_rpc_add, public.rest_spec_rpc_sum, public.rest_spec_rpc_squares,
			public.rest_spec_rpc_echo, public.rest_spec_rpc_fail, public.rest_spec_rpc_rename;
	`);
	await admin.end();
});

describe('rpc', () => {
	it('calls a scalar function with named arguments and defaults', async () => {
		expect((await db.rpc('rest_spec_rpc_add', { a: 1, b: 2 })).data).toBe(3);
		expect((await db.rpc('rest_spec_rpc_add', { a: 1 })).data).toBe(11);
		expect((await db.rpc('rest_spec_rpc_sum', { xs: [1, 2, 3] })).data).toBe(6);
	});

	it('calls by GET with arguments in the query string', async () => {
		const { data, error } = await db.rpc('rest_spec_rpc_add', { a: 4 }, { get: true });
		expect(error).toBeNull();
		expect(data).toBe(14);
		expect((await db.rpc('rest_spec_rpc_sum', { xs: [4, 5] }, { get: true })).data).toBe(9);
	});

	it('filters, orders and limits the rows a set-returning function returns', async () => {
		const { data, error } = await db
			.rpc('rest_spec_rpc_bots_above', { min_score: 1 })
			.select('id, name')
			.neq('name', 'beta')
			.order('score', { ascending: false })
			.limit(5);
		expect(error).toBeNull();
		expect(data).toEqual([
			{ id: 1, name: 'alpha' },
			{ id: 3, name: 'gamma' }
		]);
		const counted = await db
			.rpc('rest_spec_rpc_squares', { n: 5 }, { count: 'exact' })
			.gt('square', 4)
			.range(0, 1);
		expect(counted.data).toEqual([
			{ i: 3, square: 9 },
			{ i: 4, square: 16 }
		]);
		expect(counted.count).toBe(3);
	});

	it('calls a function once even when the response also counts its rows', async () => {
		const { data, count, error } = await db
			.rpc('rest_spec_rpc_counted', { n: 5 }, { count: 'exact' })
			.range(0, 1);
		expect(error).toBeNull();
		expect([data, count]).toEqual([[1, 2], 5]);
		const [{ calls }] = await admin.unsafe(
			`select count(*)::int as calls from public.rest_spec_rpc_calls`
		);
		expect(calls).toBe(1);
	});

	it('returns an object for a function returning one row, and single() works on sets', async () => {
		expect((await db.rpc('rest_spec_rpc_bot', { bot_id: 2 })).data).toEqual({
			id: 2,
			name: 'beta',
			score: 8
		});
		const one = await db.rpc('rest_spec_rpc_bots_above', { min_score: 6 }).single();
		expect(one.data).toEqual({ id: 2, name: 'beta', score: 8 });
	});

	it('passes the whole body to a single unnamed json parameter', async () => {
		const { data } = await db.rpc('rest_spec_rpc_echo', { any: ['thing'] });
		expect(data).toEqual({ any: ['thing'], echoed: true });
	});

	it('runs a void function and its writes', async () => {
		const { data, error, status } = await db.rpc('rest_spec_rpc_rename', {
			bot_id: 3,
			new_name: 'renamed'
		});
		expect(error).toBeNull();
		expect([data, status]).toEqual([null, 204]);
		const [row] = await admin.unsafe(`select name from public.rest_spec_rpc_bots where id = 3`);
		expect(row.name).toBe('renamed');
	});

	it('refuses writes in a GET call (read-only transaction)', async () => {
		const { error, status } = await db.rpc(
			'rest_spec_rpc_rename',
			{ bot_id: 3, new_name: 'x' },
			{ get: true }
		);
		expect(status).toBe(405);
		expect(error?.code).toBe('25006');
	});

	it('reports an unknown function or argument as PGRST202 with a hint', async () => {
		const missing = await db.rpc('rest_spec_rpc_nope');
		expect(missing.status).toBe(404);
		expect(missing.error?.code).toBe('PGRST202');
		const wrongArg = await db.rpc('rest_spec_rpc_add', { x: 1 });
		expect(wrongArg.error?.code).toBe('PGRST202');
		expect(wrongArg.error?.hint).toContain('rest_spec_rpc_add(a, b)');
	});

	it('turns raise exception into 400 P0001 with the message and hint', async () => {
		const { error, status } = await db.rpc('rest_spec_rpc_fail', { reason: 'tests' });
		expect(status).toBe(400);
		expect(error).toMatchObject({
			code: 'P0001',
			message: 'cannot do that: tests',
			hint: 'Ask for something else'
		});
	});
});

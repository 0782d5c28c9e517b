// Reads through supabase-js: ordering, ranges and counts, single / maybeSingle, CSV, HEAD and
// the schema cache following DDL (select and filters: read.spec.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceClient } from '../testing.ts';
import { admin, createReadFixtures, ddl, dropReadFixtures } from './spec-fixtures.ts';

const db = serviceClient();

beforeAll(createReadFixtures);

afterAll(async () => {
	await dropReadFixtures();
	await admin.end();
});

describe('order, ranges and counts', () => {
	it('orders by several columns with nulls placement', async () => {
		const { data } = await db
			.from('rest_spec_read_bots')
			.select('id')
			.order('score', { ascending: false, nullsFirst: true })
			.order('id');
		expect(data?.map((r) => r.id)).toEqual([3, 1, 2, 4]);
		const last = await db
			.from('rest_spec_read_bots')
			.select('id')
			.order('score', { ascending: true, nullsFirst: false });
		expect(last.data?.map((r) => r.id)).toEqual([4, 2, 1, 3]);
	});

	it('orders parents by a to-one embed column', async () => {
		const { data, error } = await db
			.from('rest_spec_read_messages')
			.select('id, bot:bot_id(name)')
			.order('bot(name)', { ascending: false })
			.order('id');
		expect(error).toBeNull();
		expect(data?.map((r) => r.id)).toEqual([3, 1, 2]);
	});

	it('pages with range() and limit()', async () => {
		const { data } = await db.from('rest_spec_read_bots').select('id').order('id').range(1, 2);
		expect(data?.map((r) => r.id)).toEqual([2, 3]);
		const limited = await db
			.from('rest_spec_read_bots')
			.select('id')
			.order('id', { ascending: false })
			.limit(1);
		expect(limited.data).toEqual([{ id: 4 }]);
	});

	it('pages with a Range header', async () => {
		const { data, count, status } = await db
			.from('rest_spec_read_bots')
			.select('id', { count: 'exact' })
			.order('id')
			.setHeader('Range-Unit', 'items')
			.setHeader('Range', '1-2');
		expect(data).toEqual([{ id: 2 }, { id: 3 }]);
		expect([count, status]).toEqual([4, 206]);
	});

	it('counts exactly with a partial page as 206', async () => {
		const { data, count, status } = await db
			.from('rest_spec_read_bots')
			.select('id', { count: 'exact' })
			.order('id')
			.range(0, 1);
		expect(data).toHaveLength(2);
		expect(count).toBe(4);
		expect(status).toBe(206);
		const full = await db.from('rest_spec_read_bots').select('id', { count: 'exact' }).gt('id', 2);
		expect([full.count, full.status]).toEqual([2, 200]);
	});

	it('answers planned and estimated counts', async () => {
		const planned = await db.from('rest_spec_read_bots').select('id', { count: 'planned' });
		expect(planned.count).toEqual(expect.any(Number));
		const estimated = await db.from('rest_spec_read_bots').select('id', { count: 'estimated' });
		expect(estimated.count).toBe(4);
	});

	it('counts without rows for head requests', async () => {
		const { data, count } = await db
			.from('rest_spec_read_bots')
			.select('*', { count: 'exact', head: true })
			.lt('id', 3);
		expect(data).toBeNull();
		expect(count).toBe(2);
	});

	it('caps a response at max_rows and still counts every row', async () => {
		await ddl(`
			create table public.rest_spec_read_many (id int primary key, payload text);
			insert into public.rest_spec_read_many select g, repeat('x', 2000) from generate_series(1, 1200) g;
		`);
		try {
			const { data, count, status } = await db
				.from('rest_spec_read_many')
				.select('id, payload', { count: 'exact' })
				.order('id');
			expect(data).toHaveLength(1000);
			expect(data?.at(-1)).toEqual({ id: 1000, payload: 'x'.repeat(2000) });
			expect([count, status]).toEqual([1200, 206]);
		} finally {
			await admin.unsafe(`drop table public.rest_spec_read_many`);
		}
	});

	it('refuses a range past the end', async () => {
		const { error, status } = await db
			.from('rest_spec_read_bots')
			.select('id', { count: 'exact' })
			.range(10, 12);
		expect(status).toBe(416);
		expect(error?.code).toBe('PGRST103');
	});
});

describe('single, maybeSingle and CSV', () => {
	it('single() returns one object, and 406 PGRST116 otherwise', async () => {
		const one = await db.from('rest_spec_read_bots').select('name').eq('id', 3).single();
		expect(one.data).toEqual({ name: 'gamma' });
		const none = await db.from('rest_spec_read_bots').select('name').eq('id', 99).single();
		expect(none.status).toBe(406);
		expect(none.error?.code).toBe('PGRST116');
		const many = await db.from('rest_spec_read_bots').select('name').single();
		expect(many.error?.code).toBe('PGRST116');
	});

	it('maybeSingle() returns null for no rows and an error for several', async () => {
		const none = await db.from('rest_spec_read_bots').select('name').eq('id', 99).maybeSingle();
		expect(none).toMatchObject({ data: null, error: null });
		const one = await db.from('rest_spec_read_bots').select('name').eq('id', 1).maybeSingle();
		expect(one.data).toEqual({ name: 'alpha' });
		const many = await db.from('rest_spec_read_bots').select('name').maybeSingle();
		expect(many.error?.code).toBe('PGRST116');
	});

	it('csv() returns a header and quoted rows', async () => {
		const { data, error } = await db
			.from('rest_spec_read_bots')
			.select('id, name, tags, score')
			.in('id', [1, 3])
			.order('id')
			.csv();
		expect(error).toBeNull();
		expect(data).toBe('id,name,tags,score\n1,alpha,"{sales,web}",9.5\n3,gamma,{},');
	});

	it('stripNulls() leaves out null fields', async () => {
		const { data } = await db
			.from('rest_spec_read_bots')
			.select('id, score, settings')
			.eq('id', 3)
			.stripNulls();
		expect(data).toEqual([{ id: 3 }]);
	});
});

describe('schema cache', () => {
	it('serves another exposed schema through Accept-Profile', async () => {
		const [{ existed }] = await admin.unsafe(
			`select exists (select 1 from pg_namespace where nspname = 'graphql_public') as existed`
		);
		await ddl(`
			create schema if not exists graphql_public;
			grant usage on schema graphql_public to anon, authenticated, service_role;
			create table graphql_public.rest_spec_read_profile (id int primary key);
			grant select on graphql_public.rest_spec_read_profile to service_role;
			insert into graphql_public.rest_spec_read_profile values (5);
		`);
		try {
			const { data, error } = await db
				.schema('graphql_public')
				.from('rest_spec_read_profile')
				.select('id');
			expect(error).toBeNull();
			expect(data).toEqual([{ id: 5 }]);
		} finally {
			await admin.unsafe(
				existed
					? `drop table graphql_public.rest_spec_read_profile`
					: `drop schema graphql_public cascade`
			);
		}
	});

	it('sees tables and columns created after it started', async () => {
		await ddl(`
			create table public.rest_spec_read_late (id int primary key);
			insert into public.rest_spec_read_late values (7);
		`);
		try {
			expect((await db.from('rest_spec_read_late').select('id')).data).toEqual([{ id: 7 }]);
			await ddl(`alter table public.rest_spec_read_late add column label text default 'late'`);
			expect((await db.from('rest_spec_read_late').select('label')).data).toEqual([
				{ label: 'late' }
			]);
		} finally {
			await admin.unsafe(`drop table public.rest_spec_read_late`);
		}
	});
});

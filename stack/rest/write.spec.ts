// Writes through supabase-js: insert (one, many, defaults), upsert (merge, ignore, on
// conflict), update and delete with filters, and the Prefer return / count variants.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { serviceClient } from '../testing.ts';
import { admin, ddl } from './spec-fixtures.ts';

const db = serviceClient();
const table = 'rest_spec_write_bots';

beforeAll(async () => {
	await ddl(`
		drop table if exists public.rest_spec_write_bots cascade;
		create table public.rest_spec_write_bots (
			id serial primary key,
			slug text not null unique,
			name text,
			plan text not null default 'free',
			tags text[] not null default '{}',
			settings jsonb
		);
	`);
});

beforeEach(async () => {
	await admin.unsafe(`truncate public.rest_spec_write_bots restart identity`);
});

afterAll(async () => {
	await admin.unsafe(`drop table if exists public.rest_spec_write_bots cascade`);
	await admin.end();
});

/** supabase-js types maxAffected() for PostgREST 13 clients only; the untyped client says 12. */
const maxAffected = (query: unknown, n: number) =>
	(
		query as {
			maxAffected(n: number): PromiseLike<{ status: number; error: { code: string } | null }>;
		}
	).maxAffected(n);

const rows = () =>
	admin.unsafe(`select id, slug, name, plan from public.rest_spec_write_bots order by id`);

describe('insert', () => {
	it('inserts one row and returns it with select()', async () => {
		const { data, error, status } = await db
			.from(table)
			.insert({ slug: 'one', name: 'One', tags: ['a'], settings: { x: 1 } })
			.select()
			.single();
		expect(error).toBeNull();
		expect(status).toBe(201);
		expect(data).toEqual({
			id: 1,
			slug: 'one',
			name: 'One',
			plan: 'free',
			tags: ['a'],
			settings: { x: 1 }
		});
	});

	it('inserts many rows, returning nothing by default', async () => {
		const { data, error, status } = await db.from(table).insert([
			{ slug: 'a', name: 'A' },
			{ slug: 'b', name: 'B' }
		]);
		expect(error).toBeNull();
		expect([data, status]).toEqual([null, 201]);
		expect(await rows()).toEqual([
			{ id: 1, slug: 'a', name: 'A', plan: 'free' },
			{ id: 2, slug: 'b', name: 'B', plan: 'free' }
		]);
	});

	it('writes null for a key another object has (as PostgREST does without defaultToNull: false)', async () => {
		const { error, status } = await db
			.from(table)
			.insert([{ slug: 'a', plan: 'pro' }, { slug: 'b' }]);
		expect(status).toBe(400);
		expect(error?.code).toBe('23502');
	});

	it('uses column defaults for missing keys with defaultToNull: false', async () => {
		const { data, error } = await db
			.from(table)
			.insert(
				[
					{ slug: 'a', name: 'A' },
					{ slug: 'b', plan: 'pro' }
				],
				{ defaultToNull: false }
			)
			.select('slug, name, plan');
		expect(error).toBeNull();
		expect(data).toEqual([
			{ slug: 'a', name: 'A', plan: 'free' },
			{ slug: 'b', name: null, plan: 'pro' }
		]);
	});

	it('counts inserted rows', async () => {
		const { count, error } = await db
			.from(table)
			.insert([{ slug: 'a' }, { slug: 'b' }, { slug: 'c' }], { count: 'exact' });
		expect(error).toBeNull();
		expect(count).toBe(3);
	});

	it('rejects a duplicate with 409 and leaves the table unchanged', async () => {
		await db.from(table).insert({ slug: 'dup' });
		const { error, status } = await db.from(table).insert([{ slug: 'new' }, { slug: 'dup' }]);
		expect(status).toBe(409);
		expect(error?.code).toBe('23505');
		expect((await rows()).map((r) => r.slug)).toEqual(['dup']);
	});

	it('rejects a null in a not-null column with 400', async () => {
		const { error, status } = await db.from(table).insert({ slug: null });
		expect(status).toBe(400);
		expect(error?.code).toBe('23502');
	});
});

describe('upsert', () => {
	it('merges duplicates on the primary key', async () => {
		await db.from(table).insert({ slug: 'a', name: 'old' });
		const { data, error } = await db
			.from(table)
			.upsert({ id: 1, slug: 'a', name: 'new' })
			.select('id, name');
		expect(error).toBeNull();
		expect(data).toEqual([{ id: 1, name: 'new' }]);
	});

	it('merges on another unique column with onConflict', async () => {
		await db.from(table).insert({ slug: 'a', name: 'old', plan: 'pro' });
		const { data, error } = await db
			.from(table)
			.upsert(
				[
					{ slug: 'a', name: 'merged' },
					{ slug: 'b', name: 'added' }
				],
				{ onConflict: 'slug' }
			)
			.select('slug, name, plan')
			.order('slug');
		expect(error).toBeNull();
		expect(data).toEqual([
			{ slug: 'a', name: 'merged', plan: 'pro' },
			{ slug: 'b', name: 'added', plan: 'free' }
		]);
	});

	it('ignores duplicates with ignoreDuplicates', async () => {
		await db.from(table).insert({ slug: 'a', name: 'kept' });
		const { data, error } = await db
			.from(table)
			.upsert(
				[
					{ slug: 'a', name: 'ignored' },
					{ slug: 'b', name: 'added' }
				],
				{ onConflict: 'slug', ignoreDuplicates: true }
			)
			.select('slug');
		expect(error).toBeNull();
		expect(data).toEqual([{ slug: 'b' }]);
		expect((await rows()).map((r) => r.name)).toEqual(['kept', 'added']);
	});
});

describe('update and delete', () => {
	beforeEach(async () => {
		await db.from(table).insert([{ slug: 'a' }, { slug: 'b' }, { slug: 'c' }]);
	});

	it('updates only the filtered rows and returns them', async () => {
		const { data, error, status } = await db
			.from(table)
			.update({ plan: 'pro' })
			.in('slug', ['a', 'c'])
			.select('slug, plan');
		expect(error).toBeNull();
		expect(status).toBe(200);
		expect(data).toEqual([
			{ slug: 'a', plan: 'pro' },
			{ slug: 'c', plan: 'pro' }
		]);
		expect((await rows()).map((r) => r.plan)).toEqual(['pro', 'free', 'pro']);
	});

	it('updates with return=minimal as 204 and counts the rows', async () => {
		const { data, status, count } = await db
			.from(table)
			.update({ name: 'x' }, { count: 'exact' })
			.neq('slug', 'b');
		expect([data, status, count]).toEqual([null, 204, 2]);
	});

	it('deletes only the filtered rows', async () => {
		const { data, error } = await db.from(table).delete().eq('slug', 'b').select('slug');
		expect(error).toBeNull();
		expect(data).toEqual([{ slug: 'b' }]);
		expect((await rows()).map((r) => r.slug)).toEqual(['a', 'c']);
	});

	it('rolls back a write that single() refuses', async () => {
		const { error, status } = await db
			.from(table)
			.update({ name: 'all' })
			.gt('id', 0)
			.select()
			.single();
		expect(status).toBe(406);
		expect(error?.code).toBe('PGRST116');
		expect((await rows()).map((r) => r.name)).toEqual([null, null, null]);
	});

	it('refuses and rolls back an update affecting more rows than maxAffected()', async () => {
		const tooMany = await maxAffected(db.from(table).update({ name: 'bulk' }).gt('id', 0), 2);
		expect([tooMany.status, tooMany.error?.code]).toEqual([400, 'PGRST124']);
		expect((await rows()).map((r) => r.name)).toEqual([null, null, null]);
		const fine = await maxAffected(db.from(table).delete().eq('slug', 'a'), 1);
		expect(fine.error).toBeNull();
		expect((await rows()).map((r) => r.slug)).toEqual(['b', 'c']);
	});

	it('rejects an unknown column with PGRST204', async () => {
		const { error, status } = await db.from(table).update({ nope: 1 }).eq('id', 1);
		expect(status).toBe(400);
		expect(error?.code).toBe('PGRST204');
	});
});

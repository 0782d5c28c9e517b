// Reads through supabase-js: select syntax, embedding, every filter, logic trees, ordering,
// ranges, counts, single / maybeSingle, CSV, views and HEAD.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceClient } from '../testing.ts';
import { admin, ddl } from './spec-fixtures.ts';

const db = serviceClient();

beforeAll(async () => {
	await ddl(`
		drop table if exists public.rest_spec_read_bot_labels, public.rest_spec_read_labels,
			public.rest_spec_read_messages, public.rest_spec_read_bots cascade;
		create table public.rest_spec_read_bots (
			id int primary key,
			name text not null unique,
			tags text[] not null default '{}',
			settings jsonb,
			score numeric,
			description text,
			search tsvector generated always as (to_tsvector('english', coalesce(description, ''))) stored,
			active_hours int4range,
			created_at timestamptz not null default now()
		);
		create table public.rest_spec_read_messages (
			id int primary key,
			bot_id int not null references public.rest_spec_read_bots (id) on delete cascade,
			reply_to int references public.rest_spec_read_bots (id),
			body text not null,
			tokens int
		);
		create table public.rest_spec_read_labels (id int primary key, label text not null);
		create table public.rest_spec_read_bot_labels (
			bot_id int references public.rest_spec_read_bots (id) on delete cascade,
			label_id int references public.rest_spec_read_labels (id) on delete cascade,
			primary key (bot_id, label_id)
		);
		create view public.rest_spec_read_bot_names as select id, upper(name) as name from public.rest_spec_read_bots;
		insert into public.rest_spec_read_bots (id, name, tags, settings, score, description, active_hours) values
			(1, 'alpha', '{sales,web}', '{"model": {"name": "gpt", "size": 4}, "lang": "en"}', 9.5, 'The quick brown foxes jumped', '[8,18)'),
			(2, 'beta', '{support}', '{"model": {"name": "claude", "size": 3}, "lang": "fr"}', 7, 'Lazy dogs sleeping all day', '[0,24)'),
			(3, 'gamma', '{}', null, null, 'Quick answers for support', '[20,23)'),
			(4, 'Delta', '{web}', '{"lang": "en"}', 3.25, null, null);
		insert into public.rest_spec_read_messages (id, bot_id, reply_to, body, tokens) values
			(1, 1, null, 'hello', 10), (2, 1, 2, 'world', 20), (3, 2, null, 'bonjour', null);
		insert into public.rest_spec_read_labels values (1, 'vip'), (2, 'beta-test'), (3, 'unused');
		insert into public.rest_spec_read_bot_labels values (1, 1), (1, 2), (2, 2);
	`);
});

afterAll(async () => {
	await admin.unsafe(`
		drop table if exists public.rest_spec_read_bot_labels, public.rest_spec_read_labels,
			public.rest_spec_read_messages, public.rest_spec_read_bots cascade
	`);
	await admin.end();
});

const ids = (rows: { id: number }[] | null) => (rows ?? []).map((r) => r.id).sort((a, b) => a - b);

describe('select', () => {
	it('returns the named columns, aliases, casts and JSON paths', async () => {
		const { data, error } = await db
			.from('rest_spec_read_bots')
			.select(
				'id, label:name, score::text, settings->model->>name, lang:settings->>lang, model:settings->model'
			)
			.eq('id', 1)
			.single();
		expect(error).toBeNull();
		expect(data).toEqual({
			id: 1,
			label: 'alpha',
			score: '9.5',
			name: 'gpt',
			lang: 'en',
			model: { name: 'gpt', size: 4 }
		});
	});

	it('returns every column for select()', async () => {
		const { data } = await db.from('rest_spec_read_bots').select().eq('id', 2);
		expect(data?.[0]).toMatchObject({ id: 2, name: 'beta', tags: ['support'], score: 7 });
	});

	it('embeds a many-to-one parent and one-to-many children through foreign keys', async () => {
		const { data, error } = await db
			.from('rest_spec_read_messages')
			.select('body, bot:bot_id(name), author:rest_spec_read_bots!bot_id(id)')
			.eq('id', 1)
			.single();
		expect(error).toBeNull();
		expect(data).toEqual({ body: 'hello', bot: { name: 'alpha' }, author: { id: 1 } });

		const parents = await db
			.from('rest_spec_read_bots')
			.select('name, messages:rest_spec_read_messages!bot_id(body)')
			.in('id', [1, 3])
			.order('id');
		expect(parents.data).toEqual([
			{ name: 'alpha', messages: [{ body: 'hello' }, { body: 'world' }] },
			{ name: 'gamma', messages: [] }
		]);
	});

	it('keeps only parents with matching children for !inner, and filters embedded rows', async () => {
		const { data } = await db
			.from('rest_spec_read_bots')
			.select('id, rest_spec_read_messages!bot_id!inner(body)')
			.eq('rest_spec_read_messages.body', 'bonjour');
		expect(data).toEqual([{ id: 2, rest_spec_read_messages: [{ body: 'bonjour' }] }]);
	});

	it('orders, limits and filters embedded rows with referencedTable', async () => {
		const { data, error } = await db
			.from('rest_spec_read_bots')
			.select('id, messages:rest_spec_read_messages!bot_id(id, tokens)')
			.eq('id', 1)
			.order('id', { referencedTable: 'messages', ascending: false })
			.limit(1, { referencedTable: 'messages' });
		expect(error).toBeNull();
		expect(data).toEqual([{ id: 1, messages: [{ id: 2, tokens: 20 }] }]);
		const filtered = await db
			.from('rest_spec_read_bots')
			.select('id, messages:rest_spec_read_messages!bot_id(id)')
			.eq('id', 1)
			.or('tokens.lt.15,tokens.is.null', { referencedTable: 'messages' });
		expect(filtered.data).toEqual([{ id: 1, messages: [{ id: 1 }] }]);
	});

	it('spreads a to-one parent into the row with ...', async () => {
		const { data, error } = await db
			.from('rest_spec_read_messages')
			.select('id, ...rest_spec_read_bots!bot_id(bot_name:name, score)')
			.lte('id', 2)
			.order('id');
		expect(error).toBeNull();
		expect(data).toEqual([
			{ id: 1, bot_name: 'alpha', score: 9.5 },
			{ id: 2, bot_name: 'alpha', score: 9.5 }
		]);
		const toMany = await db
			.from('rest_spec_read_bots')
			.select('id, ...rest_spec_read_messages!bot_id(body)');
		expect([toMany.status, toMany.error?.code]).toEqual([400, 'PGRST119']);
	});

	it('embeds many-to-many through a junction table', async () => {
		const { data, error } = await db
			.from('rest_spec_read_bots')
			.select('id, labels:rest_spec_read_labels(label)')
			.in('id', [1, 2, 3])
			.order('id')
			.order('label', { referencedTable: 'labels' });
		expect(error).toBeNull();
		expect(data).toEqual([
			{ id: 1, labels: [{ label: 'beta-test' }, { label: 'vip' }] },
			{ id: 2, labels: [{ label: 'beta-test' }] },
			{ id: 3, labels: [] }
		]);
	});

	it('counts related rows with rel(count)', async () => {
		const { data, error } = await db
			.from('rest_spec_read_bots')
			.select('id, messages:rest_spec_read_messages!bot_id(count)')
			.in('id', [1, 3])
			.order('id');
		expect(error).toBeNull();
		expect(data).toEqual([
			{ id: 1, messages: [{ count: 2 }] },
			{ id: 3, messages: [{ count: 0 }] }
		]);
	});

	it('filters parents by whether an embed has rows with is(embed, null)', async () => {
		const without = await db
			.from('rest_spec_read_bots')
			.select('id, messages:rest_spec_read_messages!bot_id(id)')
			.is('messages', null);
		expect(without.error).toBeNull();
		expect(ids(without.data)).toEqual([3, 4]);
		const withSome = await db
			.from('rest_spec_read_bots')
			.select('id, messages:rest_spec_read_messages!bot_id(id)')
			.not('messages', 'is', null);
		expect(ids(withSome.data)).toEqual([1, 2]);
	});

	it('says which relationships exist when an embed is ambiguous or missing', async () => {
		const ambiguous = await db
			.from('rest_spec_read_bots')
			.select('id, rest_spec_read_messages(body)');
		expect(ambiguous.status).toBe(300);
		expect(ambiguous.error?.code).toBe('PGRST201');
		const missing = await db
			.from('rest_spec_read_bots')
			.select('id, rest_spec_read_bot_names(name)');
		expect(missing.status).toBe(400);
		expect(missing.error?.code).toBe('PGRST200');
	});

	it('reads views', async () => {
		const { data } = await db.from('rest_spec_read_bot_names').select('name').eq('id', 2);
		expect(data).toEqual([{ name: 'BETA' }]);
	});
});

describe('filters', () => {
	const bots = () => db.from('rest_spec_read_bots').select('id');
	const cases: [
		string,
		() => PromiseLike<{ data: { id: number }[] | null; error: unknown }>,
		number[]
	][] = [
		['eq', () => bots().eq('name', 'beta'), [2]],
		['neq', () => bots().neq('name', 'beta'), [1, 3, 4]],
		['gt', () => bots().gt('score', 7), [1]],
		['gte', () => bots().gte('score', 7), [1, 2]],
		['lt', () => bots().lt('score', 7), [4]],
		['lte', () => bots().lte('score', 7), [2, 4]],
		['like', () => bots().like('name', '%et%'), [2]],
		['ilike', () => bots().ilike('name', 'd%'), [4]],
		['likeAnyOf', () => bots().likeAnyOf('name', ['a%', 'b%']), [1, 2]],
		['ilikeAllOf', () => bots().ilikeAllOf('name', ['%A%', '%L%']), [1, 4]],
		['match (regex)', () => bots().filter('name', 'match', '^[ab]'), [1, 2]],
		['imatch (regex, any case)', () => bots().filter('name', 'imatch', '^D'), [4]],
		['likeAllOf', () => bots().likeAllOf('name', ['%a', '%l%']), [1, 4]],
		['ilikeAnyOf', () => bots().ilikeAnyOf('name', ['%MM%', 'DEL%']), [3, 4]],
		['rangeLt', () => bots().rangeLt('active_hours', '[19,30)'), [1]],
		['rangeGte', () => bots().rangeGte('active_hours', '[8,10)'), [1, 3]],
		['rangeLte', () => bots().rangeLte('active_hours', '[0,23)'), [1, 3]],
		['in', () => bots().in('id', [1, 3, 9]), [1, 3]],
		['in with quoted text', () => bots().in('name', ['alpha', 'with,comma']), [1]],
		['is null', () => bots().is('score', null), [3]],
		['not is null', () => bots().not('score', 'is', null), [1, 2, 4]],
		['contains (array)', () => bots().contains('tags', ['web']), [1, 4]],
		['containedBy (array)', () => bots().containedBy('tags', ['web', 'sales']), [1, 3, 4]],
		['contains (jsonb)', () => bots().contains('settings', { lang: 'en' }), [1, 4]],
		['overlaps', () => bots().overlaps('tags', ['support', 'sales']), [1, 2]],
		['rangeGt', () => bots().rangeGt('active_hours', '[0,19)'), [3]],
		['rangeAdjacent', () => bots().rangeAdjacent('active_hours', '[18,20)'), [1, 3]],
		[
			'textSearch (fts with config)',
			() => bots().textSearch('search', 'quick & fox', { config: 'english' }),
			[1]
		],
		[
			'textSearch plain',
			() => bots().textSearch('search', 'quick answers', { type: 'plain' }),
			[3]
		],
		['textSearch phrase', () => bots().textSearch('search', 'lazy dogs', { type: 'phrase' }), [2]],
		[
			'textSearch websearch',
			() => bots().textSearch('search', 'quick -fox', { type: 'websearch' }),
			[3]
		],
		['not eq', () => bots().not('name', 'eq', 'alpha'), [2, 3, 4]],
		['not in', () => bots().not('id', 'in', '(1,2)'), [3, 4]],
		['JSON path', () => bots().eq('settings->model->>name', 'claude'), [2]],
		['isDistinct', () => bots().isDistinct('score', 7), [1, 3, 4]],
		['match() object', () => bots().match({ name: 'alpha', score: 9.5 }), [1]],
		['or', () => bots().or('name.eq.beta,score.gt.9'), [1, 2]],
		['or with nested and', () => bots().or('id.eq.4,and(score.gte.7,tags.cs.{support})'), [2, 4]],
		[
			'or with nested not.and',
			() => bots().or('not.and(id.gt.1,id.lt.4),score.is.null'),
			[1, 3, 4]
		],
		['multiple filters combine with and', () => bots().gt('id', 1).lt('id', 4), [2, 3]]
	];
	for (const [name, run, expected] of cases) {
		it(`${name} returns the matching rows`, async () => {
			const { data, error } = await run();
			expect(error).toBeNull();
			expect(ids(data)).toEqual(expected);
		});
	}
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

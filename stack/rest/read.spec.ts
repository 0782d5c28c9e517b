// Reads through supabase-js: select syntax, embedding, every filter and logic trees (ordering,
// ranges, counts, single, CSV and the schema cache: read-paging.spec.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceClient } from '../testing.ts';
import { admin, createReadFixtures, dropReadFixtures } from './spec-fixtures.ts';

const db = serviceClient();

beforeAll(createReadFixtures);

afterAll(async () => {
	await dropReadFixtures();
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

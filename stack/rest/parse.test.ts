// PostgREST's query language as the REST service reads it: each case is a string supabase-js
// (or a hand-written URL) sends, and the tree the SQL builder will be given, or the 400.
import { describe, expect, it } from 'vitest';
import { ApiError } from './errors.ts';
import {
	parseFieldKey,
	parseFilter,
	parseLogic,
	parseOrder,
	parsePrefer,
	parseSelect
} from './parse.ts';

const field = (name: string) => ({ name, path: [] });

/** The PostgREST error a parser throws, for asserting on what the client is told. */
function failure(fn: () => unknown): ApiError {
	try {
		fn();
	} catch (e) {
		if (e instanceof ApiError) return e;
		throw e;
	}
	throw new Error('expected a parse error');
}

describe('select', () => {
	it('reads columns, aliases, casts and JSON paths (the last key names the column)', () => {
		expect(parseSelect('id, total:amount::text, data->meta->>name')).toEqual([
			{ kind: 'field', field: field('id'), alias: undefined, cast: undefined },
			{ kind: 'field', field: field('amount'), alias: 'total', cast: 'text' },
			{
				kind: 'field',
				field: {
					name: 'data',
					path: [
						{ op: '->', key: 'meta' },
						{ op: '->>', key: 'name' }
					]
				},
				alias: 'name',
				cast: undefined
			}
		]);
	});

	it('reads embeds with hints, !inner, nesting, spreads and counts', () => {
		expect(
			parseSelect('*,owner:users!author_id(name),...bots!inner(slug,tags(*)),n:notes(count)')
		).toEqual([
			{ kind: 'star' },
			{
				kind: 'embed',
				name: 'users',
				alias: 'owner',
				hint: 'author_id',
				inner: false,
				select: [{ kind: 'field', field: field('name'), alias: undefined, cast: undefined }]
			},
			{
				kind: 'embed',
				name: 'bots',
				alias: undefined,
				hint: undefined,
				inner: true,
				spread: true,
				select: [
					{ kind: 'field', field: field('slug'), alias: undefined, cast: undefined },
					{
						kind: 'embed',
						name: 'tags',
						alias: undefined,
						hint: undefined,
						inner: false,
						select: [{ kind: 'star' }]
					}
				]
			},
			{
				kind: 'embed',
				name: 'notes',
				alias: 'n',
				hint: undefined,
				inner: false,
				select: [{ kind: 'field', field: field('count'), alias: undefined, cast: undefined }]
			}
		]);
	});

	it('keeps spaces and commas inside quoted names, and reads an empty select as *', () => {
		expect(parseSelect('"first name", "a,b"')).toEqual([
			{ kind: 'field', field: field('first name'), alias: undefined, cast: undefined },
			{ kind: 'field', field: field('a,b'), alias: undefined, cast: undefined }
		]);
		expect(parseSelect('')).toEqual([{ kind: 'star' }]);
	});

	it('refuses malformed selects with PGRST100 saying what it expected', () => {
		const unclosed = failure(() => parseSelect('id,bots(name'));
		expect(unclosed).toMatchObject({ status: 400, code: 'PGRST100' });
		expect(unclosed.details).toBe('unexpected "end of input" expecting ")"');
		expect(failure(() => parseSelect('id,,name')).details).toBe(
			'unexpected "," expecting field name'
		);
		expect(failure(() => parseSelect('...id')).details).toContain('an embedded resource');
		expect(failure(() => parseSelect('id::1x')).details).toContain('a type name after "::"');
	});
});

describe('filters', () => {
	it('reads operator, negation, modifier and value (the value kept verbatim)', () => {
		expect(parseFilter(field('name'), 'not.ilike.*a.b*')).toEqual({
			kind: 'filter',
			field: field('name'),
			negate: true,
			op: 'ilike',
			modifier: undefined,
			value: '*a.b*'
		});
		expect(parseFilter(field('doc'), 'fts(english).cat & dog')).toMatchObject({
			op: 'fts',
			modifier: 'english',
			value: 'cat & dog'
		});
	});

	it('splits in-lists and any/all lists, honouring quotes', () => {
		expect(parseFilter(field('id'), 'in.(1,"2,3",4)').list).toEqual(['1', '2,3', '4']);
		expect(parseFilter(field('id'), 'in.()').list).toEqual([]);
		expect(parseFilter(field('name'), 'like(any).{a*,*b}').list).toEqual(['a*', '*b']);
	});

	it('refuses unknown operators, bad lists and bad is-values', () => {
		expect(failure(() => parseFilter(field('id'), 'equals.1')).details).toContain(
			'unexpected "equals" expecting a filter operator'
		);
		expect(failure(() => parseFilter(field('id'), 'in.1,2')).details).toBe(
			'expecting a list like (a,b)'
		);
		expect(failure(() => parseFilter(field('ok'), 'is.maybe')).code).toBe('PGRST100');
		expect(parseFilter(field('ok'), 'is.NOT_NULL').value).toBe('NOT_NULL');
	});

	it('reads a filter key with a JSON path, and refuses trailing junk', () => {
		expect(parseFieldKey('data->>kind')).toEqual({
			name: 'data',
			path: [{ op: '->>', key: 'kind' }]
		});
		expect(failure(() => parseFieldKey('a(b)')).details).toBe(
			'unexpected characters in column name'
		);
	});
});

describe('logic trees', () => {
	it('nests or/and/not and unquotes values inside the tree', () => {
		expect(parseLogic('or', false, '(a.eq.1,not.and(b.gt.2,c.eq."x,y"))')).toEqual({
			kind: 'logic',
			op: 'or',
			negate: false,
			children: [
				{ kind: 'filter', field: field('a'), negate: false, op: 'eq', value: '1' },
				{
					kind: 'logic',
					op: 'and',
					negate: true,
					children: [
						{ kind: 'filter', field: field('b'), negate: false, op: 'gt', value: '2' },
						{ kind: 'filter', field: field('c'), negate: false, op: 'eq', value: 'x,y' }
					]
				}
			]
		});
	});

	it('refuses a tree without parentheses or with a bare word', () => {
		expect(failure(() => parseLogic('or', false, 'a.eq.1')).details).toBe('expecting "(" ... ")"');
		expect(failure(() => parseLogic('and', false, '(a)')).details).toBe(
			'unexpected "a" expecting a filter like col.eq.value'
		);
	});
});

describe('order and Prefer', () => {
	it('reads direction and null placement per term', () => {
		expect(parseOrder('created_at.desc.nullslast,bot(name),id')).toEqual([
			{ field: field('created_at'), desc: true, nulls: 'last' },
			{ field: field('bot(name)'), desc: false },
			{ field: field('id'), desc: false }
		]);
		expect(failure(() => parseOrder('id.up')).details).toContain('unexpected "up"');
	});

	it('merges repeated Prefer headers, keys lowercased', () => {
		const prefer = parsePrefer(['return=representation, Count=exact', 'tx=rollback']);
		expect([...prefer]).toEqual([
			['return', 'representation'],
			['count', 'exact'],
			['tx', 'rollback']
		]);
		expect(parsePrefer(undefined).size).toBe(0);
	});
});

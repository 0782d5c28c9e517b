// Postgres Changes filters as realtime-js sends them (`filter: 'bot_id=eq.7'`), and how a
// decoded row is judged against them: by the column's type, with SQL's null semantics.
import { describe, expect, it } from 'vitest';
import { FilterError, matches, parseFilter } from './filters.ts';

const types = new Map([
	['id', 'int8'],
	['score', 'numeric'],
	['name', 'text'],
	['done', 'bool'],
	['at', 'timestamptz'],
	['owner', 'uuid'],
	['data', 'jsonb']
]);
const row = {
	id: 12,
	score: '2.50',
	name: 'Order #7 shipped',
	done: true,
	at: '2026-11-30T10:00:00+00:00',
	owner: 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
	data: { a: 1 },
	note: null
};
const holds = (filter: string) => matches(parseFilter(filter), row, types);

describe('parsing', () => {
	it('reads column, operator, negation and values; no filter means no condition', () => {
		expect(parseFilter('id=not.in.(1,"2,3")')).toEqual([
			{ column: 'id', op: 'in', negate: true, values: ['1', '2,3'] }
		]);
		expect(parseFilter(undefined)).toEqual([]);
		expect(parseFilter('')).toEqual([]);
	});

	it('reads comma-joined conditions as AND, keeping commas inside lists', () => {
		const conds = parseFilter('id=in.(1,2),name=eq.x');
		expect(conds.map((c) => [c.column, c.op, c.values])).toEqual([
			['id', 'in', ['1', '2']],
			['name', 'eq', ['x']]
		]);
	});

	it('says what to write instead of a malformed filter', () => {
		expect(() => parseFilter('id')).toThrow(
			new FilterError('filter "id" must look like column=operator.value, e.g. id=eq.1')
		);
		expect(() => parseFilter('id=between.1')).toThrow(/operator "between" is not supported/);
		expect(() => parseFilter('id=in.1,2')).toThrow(/in takes a list, e.g. id=in.\(1,2,3\)/);
		expect(() => parseFilter('done=is.yes')).toThrow(/is takes null, true, false or unknown/);
		expect(() => parseFilter('name=match.(')).toThrow(/not a valid regular expression/);
	});
});

describe('matching a row', () => {
	it('compares numbers as numbers, not as text', () => {
		expect(holds('id=gt.9')).toBe(true);
		expect(holds('id=lt.100')).toBe(true);
		expect(holds('score=eq.2.5')).toBe(true);
		expect(holds('id=in.(3,12)')).toBe(true);
		expect(holds('id=in.(3,4)')).toBe(false);
	});

	it('compares booleans, timestamps and uuids by their meaning', () => {
		expect(holds('done=eq.t')).toBe(true);
		expect(holds('done=is.true')).toBe(true);
		expect(holds('at=eq.2026-11-30T11:00:00+01:00')).toBe(true);
		expect(holds('at=gte.2026-12-01T00:00:00Z')).toBe(false);
		expect(holds('owner=eq.a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')).toBe(true);
	});

	it('matches like / ilike patterns (% and *) and regular expressions', () => {
		expect(holds('name=like.Order%')).toBe(true);
		expect(holds('name=like.order%')).toBe(false);
		expect(holds('name=ilike.*SHIPPED')).toBe(true);
		expect(holds('name=like.Order_#7%')).toBe(true);
		expect(holds('name=imatch.^order #\\d')).toBe(true);
	});

	it('never matches null with a comparison, even negated, as SQL does', () => {
		expect(holds('note=eq.x')).toBe(false);
		expect(holds('note=not.eq.x')).toBe(false);
		expect(holds('note=is.null')).toBe(true);
		expect(holds('note=isdistinct.x')).toBe(true);
		expect(holds('name=isdistinct.Order #7 shipped')).toBe(false);
	});

	it('needs every condition to hold', () => {
		expect(holds('id=eq.12,done=is.true')).toBe(true);
		expect(holds('id=eq.12,done=is.false')).toBe(false);
	});
});

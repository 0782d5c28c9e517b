import { describe, expect, it } from 'vitest';
import {
	clearFilters,
	decodeCursor,
	encodeCursor,
	filtersToParams,
	withPickedRange,
	hasFilters,
	parseFilters,
	resolveRange,
	rpcFilterArgs
} from './conversation-filters';

const parse = (q: string) => parseFilters(new URLSearchParams(q));

describe('parseFilters', () => {
	it('reads the live page drill-down link of an outcome bucket', () => {
		const { filters, problems } = parse(
			'from=2026-12-01T13:00:00.000Z&to=2026-12-01T14:00:00.000Z&by=ended&status=completed'
		);
		expect(problems).toEqual([]);
		expect(filters.from?.toISOString()).toBe('2026-12-01T13:00:00.000Z');
		expect(filters.to?.toISOString()).toBe('2026-12-01T14:00:00.000Z');
		expect(filters.by).toBe('ended');
		expect(filters.status).toBe('completed');
	});

	it('reads every filter, sort and cursor', () => {
		const id = '8e359c00-363d-4b62-a1e7-efa4bffa92b1';
		const { filters, problems } = parse(
			`range=24h&channel=whatsapp&intent=billing&q=refund%20order&min_duration=60&max_duration=120` +
				`&min_response=100&max_response=2000&handoff=no&sort=duration&dir=asc&after=${id}:404.928`
		);
		expect(problems).toEqual([]);
		expect(filters).toMatchObject({
			range: '24h',
			channel: 'whatsapp',
			intent: 'billing',
			q: 'refund order',
			minDuration: 60,
			maxDuration: 120,
			minResponse: 100,
			maxResponse: 2000,
			handoff: false,
			sort: 'duration',
			dir: 'asc',
			after: { id, key: '404.928' }
		});
	});

	it('drops what does not parse and says what to fix', () => {
		const { filters, problems } = parse(
			'status=lost&channel=fax&min_duration=-3&from=yesterday&to=2026-12-01&sort=cost'
		);
		expect(filters.status).toBeNull();
		expect(filters.channel).toBeNull();
		expect(filters.minDuration).toBeNull();
		expect(filters.from).toBeNull();
		expect(filters.sort).toBe('started');
		expect(problems.join(' ')).toMatch(/Unknown status "lost"; use active, completed/);
		expect(problems.join(' ')).toMatch(/Unknown channel "fax"/);
		expect(problems.join(' ')).toMatch(/"min_duration" must be a number of 0 or more/);
		expect(problems.join(' ')).toMatch(/"from" must be an ISO date/);
		expect(problems.join(' ')).toMatch(/Unknown sort "cost"/);
	});

	it('refuses an inverted or over-long range and falls back to the preset', () => {
		const inverted = parse('from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z');
		expect(inverted.filters.from).toBeNull();
		expect(inverted.problems[0]).toMatch(/"from" must be before "to"/);
		const long = parse('from=2024-01-01T00:00:00Z&to=2026-12-01T00:00:00Z');
		expect(long.filters.from).toBeNull();
		expect(long.problems[0]).toMatch(/at most 400 days/);
	});

	it('ignores a tampered page cursor and says so', () => {
		const { filters, problems } = parse('after=not-a-cursor');
		expect(filters.after).toBeNull();
		expect(problems).toEqual(['The page link is not valid; showing the first page.']);
	});
});

describe('filtersToParams', () => {
	it('round-trips a view, leaving defaults out so equal views share one URL', () => {
		const q =
			'from=2026-12-01T13%3A00%3A00.000Z&to=2026-12-01T14%3A00%3A00.000Z&by=handed_off&channel=web&q=refund&handoff=yes&sort=response&dir=asc';
		const { filters } = parse(q);
		expect(filtersToParams(filters).toString()).toBe(q);
		expect(filtersToParams(parse('range=7d&sort=started&dir=desc').filters).toString()).toBe('');
	});

	it('keeps a preset as a preset (the view moves with time)', () => {
		expect(filtersToParams(parse('range=30d').filters).toString()).toBe('range=30d');
	});
});

describe('withPickedRange', () => {
	it('replaces the range, keeps the filters and sort, and starts from the first page', () => {
		const { filters } = parse(
			'range=30d&status=completed&q=refund&sort=duration&after=8e359c00-363d-4b62-a1e7-efa4bffa92b1:12'
		);
		const custom = withPickedRange(filters, {
			from: '2026-11-01T00:00:00.000Z',
			to: '2026-11-03T00:00:00.000Z'
		});
		expect(filtersToParams(custom).toString()).toBe(
			'from=2026-11-01T00%3A00%3A00.000Z&to=2026-11-03T00%3A00%3A00.000Z&status=completed&q=refund&sort=duration'
		);
		// A preset drops explicit instants; the default preset leaves the URL.
		expect(filtersToParams(withPickedRange(custom, { range: '24h' })).toString()).toBe(
			'range=24h&status=completed&q=refund&sort=duration'
		);
		expect(filtersToParams(withPickedRange(custom, { range: '7d' })).toString()).toBe(
			'status=completed&q=refund&sort=duration'
		);
	});
});

describe('cursors', () => {
	it('keep a timestamp key with colons and offsets intact', () => {
		const c = { id: '8e359c00-363d-4b62-a1e7-efa4bffa92b1', key: '2026-11-28 17:29:09.106277+00' };
		expect(decodeCursor(encodeCursor(c))).toEqual(c);
	});
});

describe('filters on and off', () => {
	it('hasFilters ignores range and sort; clearFilters keeps them', () => {
		const { filters } = parse('range=24h&sort=duration&status=active&q=x');
		expect(hasFilters(filters)).toBe(true);
		const cleared = clearFilters(filters);
		expect(hasFilters(cleared)).toBe(false);
		expect(cleared).toMatchObject({ range: '24h', sort: 'duration', status: null, q: null });
	});
});

describe('resolveRange and rpcFilterArgs', () => {
	it('a preset ends now; explicit instants win', () => {
		const now = new Date('2026-12-01T12:00:00Z');
		expect(resolveRange(parse('range=24h').filters, now)).toEqual({
			from: new Date('2026-11-30T12:00:00Z'),
			to: now
		});
		const explicit = parse('range=24h&from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z').filters;
		expect(resolveRange(explicit, now).from.toISOString()).toBe('2026-11-01T00:00:00.000Z');
	});

	it('maps the URL names onto the read API arguments, absent filters left out', () => {
		const { filters } = parse('status=handed_off&handoff=yes&max_duration=30');
		const range = { from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-11-02T00:00:00Z') };
		const args = rpcFilterArgs(filters, 'b', range);
		expect(args).toMatchObject({
			p_bot_id: 'b',
			p_from: '2026-11-01T00:00:00.000Z',
			p_by: 'started',
			p_status: 'handed_off',
			p_handoff: true,
			p_max_duration_seconds: 30
		});
		expect(args.p_query).toBeUndefined();
		expect(args.p_min_duration_seconds).toBeUndefined();
	});
});

import { describe, expect, it } from 'vitest';
import {
	advance,
	bucketSpan,
	bucketEnd,
	bucketFor,
	conversationsQuery,
	customRangeLabel,
	checkSpan,
	daysRange,
	parseRange,
	presetRange,
	rangeQuery
} from './range';

const now = new Date('2026-12-01T14:03:22.000Z');
const params = (q: string) => new URLSearchParams(q);

describe('parseRange', () => {
	it('defaults to the last 24 hours ending now', () => {
		const { range, error } = parseRange(params(''), now);
		expect(error).toBeNull();
		expect(range).toEqual({
			preset: '24h',
			from: new Date('2026-11-30T14:03:22.000Z'),
			to: now,
			live: true
		});
	});

	it('reads each preset as that long a window ending now', () => {
		expect(parseRange(params('range=1h'), now).range.from.toISOString()).toBe(
			'2026-12-01T13:03:22.000Z'
		);
		expect(parseRange(params('range=7d'), now).range.from.toISOString()).toBe(
			'2026-11-24T14:03:22.000Z'
		);
		expect(parseRange(params('range=30d'), now).range.from.toISOString()).toBe(
			'2026-11-01T14:03:22.000Z'
		);
	});

	it('reads from/to as a fixed custom range, preferred over a preset', () => {
		const { range, error } = parseRange(
			params('range=7d&from=2026-11-02T00:00:00Z&to=2026-11-03T00:00:00.000Z'),
			now
		);
		expect(error).toBeNull();
		expect(range.preset).toBe('custom');
		expect(range.live).toBe(false);
		expect(range.from.toISOString()).toBe('2026-11-02T00:00:00.000Z');
		expect(range.to.toISOString()).toBe('2026-11-03T00:00:00.000Z');
	});

	it('refuses an unknown preset, saying which ones exist, and falls back to 24 h', () => {
		const { range, error } = parseRange(params('range=2w'), now);
		expect(error).toBe('Unknown range "2w": use 1h, 24h, 7d, 30d.');
		expect(range.preset).toBe('24h');
	});

	it('refuses a half-given, malformed, reversed or over-long custom range', () => {
		expect(parseRange(params('from=2026-11-02T00:00:00Z'), now).error).toMatch(
			/both "from" and "to"/
		);
		expect(parseRange(params('from=2026-11-02&to=2026-11-03'), now).error).toMatch(/ISO instants/);
		expect(parseRange(params('from=2026-11-03T00:00:00Z&to=2026-11-02T00:00:00Z'), now).error).toBe(
			'The start must be before the end.'
		);
		expect(
			parseRange(params('from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z'), now).error
		).toMatch(/at most 800 days/);
	});
});

describe('rangeQuery', () => {
	it('round-trips presets and custom ranges through the URL', () => {
		const preset = presetRange('7d', now);
		expect(rangeQuery(preset)).toEqual({ range: '7d' });
		const custom = parseRange(
			params('from=2026-11-02T00:00:00Z&to=2026-11-03T00:00:00Z'),
			now
		).range;
		const back = parseRange(new URLSearchParams(rangeQuery(custom)), now).range;
		expect(back).toEqual(custom);
	});
});

describe('advance', () => {
	it('moves a preset to end at the new now and leaves a custom range alone', () => {
		const later = new Date(now.getTime() + 5_000);
		expect(advance(presetRange('1h', now), later).to).toEqual(later);
		const custom = parseRange(
			params('from=2026-11-02T00:00:00Z&to=2026-11-03T00:00:00Z'),
			now
		).range;
		expect(advance(custom, later)).toBe(custom);
	});
});

describe('daysRange', () => {
	it('runs from local midnight of the first day to local midnight after the last, in the bot zone', () => {
		const r = daysRange('2026-11-02', '2026-11-03', 'Europe/Paris');
		expect(r.from.toISOString()).toBe('2026-11-01T23:00:00.000Z');
		expect(r.to.toISOString()).toBe('2026-11-03T23:00:00.000Z');
	});

	it('follows a DST change (New York, 1 Nov 2026 is 25 hours long)', () => {
		const r = daysRange('2026-11-01', '2026-11-01', 'America/New_York');
		expect(r.to.getTime() - r.from.getTime()).toBe(25 * 3_600_000);
	});
});

describe('buckets', () => {
	it('chooses the read API bucket from the range length', () => {
		const at = (days: number) => new Date(now.getTime() - days * 86_400_000);
		expect(bucketFor(at(1), now)).toBe('hour');
		expect(bucketFor(at(3), now)).toBe('hour');
		expect(bucketFor(at(7), now)).toBe('day');
		expect(bucketFor(at(200), now)).toBe('week');
		expect(bucketFor(at(800), now)).toBe('month');
	});

	it('ends hours after 60 minutes and local days at the next local midnight, DST included', () => {
		expect(bucketEnd(new Date('2026-12-01T13:00:00Z'), 'hour', 'Asia/Kolkata').toISOString()).toBe(
			'2026-12-01T14:00:00.000Z'
		);
		// 25 Oct 2026: Paris goes back to UTC+1, so that local day lasts 25 hours.
		const start = new Date('2026-10-24T22:00:00Z');
		expect(bucketEnd(start, 'day', 'Europe/Paris').toISOString()).toBe('2026-10-25T23:00:00.000Z');
		expect(bucketEnd(new Date('2026-10-31T23:00:00Z'), 'month', 'Europe/Paris').toISOString()).toBe(
			'2026-11-30T23:00:00.000Z'
		);
	});
});

describe('conversationsQuery', () => {
	it('links a bucket by its instants and an outcome by status', () => {
		expect(
			conversationsQuery({
				from: new Date('2026-12-01T13:00:00Z'),
				to: new Date('2026-12-01T14:00:00Z'),
				status: 'handed_off'
			})
		).toEqual({
			from: '2026-12-01T13:00:00.000Z',
			to: '2026-12-01T14:00:00.000Z',
			status: 'handed_off'
		});
	});

	it('links resolved and handed-off buckets by the timestamp the read API counts them at', () => {
		const q = conversationsQuery({ from: now, to: now, by: 'ended', status: 'completed' });
		expect(q.by).toBe('ended');
		expect(q.status).toBe('completed');
		expect(conversationsQuery({ from: now, to: now, by: 'started' }).by).toBeUndefined();
	});

	it('passes a duration band [min, max) as is (the list treats max as exclusive)', () => {
		const q = conversationsQuery({ from: now, to: now, minDuration: 60, maxDuration: 120 });
		expect(q.min_duration).toBe('60');
		expect(q.max_duration).toBe('120');
		expect(
			conversationsQuery({ from: now, to: now, minDuration: 1800, maxDuration: null }).max_duration
		).toBeUndefined();
	});
});

describe('bucketSpan', () => {
	const starts = ['2026-12-01T12:00:00Z', '2026-12-01T13:00:00Z', '2026-12-01T14:00:00Z'].map(
		(s) => new Date(s)
	);
	const from = new Date('2026-12-01T12:03:22Z');
	const to = new Date('2026-12-01T14:03:22Z');

	it('clips the first bucket to the range start and the last to the range end', () => {
		expect(bucketSpan(starts, 0, from, to)).toEqual({ from, to: starts[1] });
		expect(bucketSpan(starts, 2, from, to)).toEqual({ from: starts[2], to });
	});

	it('ends a middle bucket where the next one starts', () => {
		expect(bucketSpan(starts, 1, from, to)).toEqual({ from: starts[1], to: starts[2] });
	});
});

describe('customRangeLabel', () => {
	it('names whole local days as days, the last one inclusive', () => {
		const r = daysRange('2026-11-28', '2026-11-30', 'Europe/Berlin');
		expect(customRangeLabel(r.from, r.to, 'Europe/Berlin')).toBe('28 Nov 2026 – 30 Nov 2026');
		const one = daysRange('2026-11-28', '2026-11-28', 'Europe/Berlin');
		expect(customRangeLabel(one.from, one.to, 'Europe/Berlin')).toBe('28 Nov 2026');
	});

	it('shows the times of a range that is not whole days (a drill-down hour)', () => {
		const from = new Date('2026-12-01T13:00:00Z');
		const to = new Date('2026-12-01T14:00:00Z');
		expect(customRangeLabel(from, to, 'Europe/Berlin')).toBe('1 Dec 2026, 14:00–15:00');
		// The last hour of a day ends at the next midnight, still on that day.
		expect(
			customRangeLabel(
				new Date('2026-12-01T22:00:00Z'),
				new Date('2026-12-01T23:00:00Z'),
				'Europe/Berlin'
			)
		).toBe('1 Dec 2026, 23:00–00:00');
		// UTC midnights are not whole days in Berlin.
		expect(
			customRangeLabel(
				new Date('2026-12-01T00:00:00Z'),
				new Date('2026-12-02T00:00:00Z'),
				'Europe/Berlin'
			)
		).toBe('1 Dec 2026, 01:00 – 2 Dec 2026, 01:00');
	});
});

describe('checkSpan', () => {
	it('takes the longest range of the page that reads it', () => {
		const from = new Date('2026-01-01T00:00:00Z');
		const to = new Date('2026-12-01T00:00:00Z');
		expect(checkSpan(from, to)).toBeNull();
		expect(checkSpan(from, to, 300)).toBe('A range covers at most 300 days: choose a shorter one.');
		expect(checkSpan(to, from)).toBe('The start must be before the end.');
	});
});

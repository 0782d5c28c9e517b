import { describe, expect, it } from 'vitest';
import {
	describeChange,
	formatCount,
	formatDateTimeUtc,
	formatDay,
	formatDurationMs,
	formatMoney,
	formatPercent,
	formatTime
} from './format';

describe('formatters', () => {
	it('formats counts with separators, compact when asked, a dash for no data', () => {
		expect(formatCount(1204)).toBe('1,204');
		expect(formatCount(1_234_567, true)).toBe('1.2M');
		expect(formatCount(950, true)).toBe('950');
		expect(formatCount(null)).toBe('–');
	});
	it('formats ratios as percentages', () => {
		expect(formatPercent(0.9412)).toBe('94.1%');
		expect(formatPercent(1)).toBe('100.0%');
		expect(formatPercent(undefined)).toBe('–');
	});
	it('formats durations at a readable unit', () => {
		expect(formatDurationMs(840)).toBe('840 ms');
		expect(formatDurationMs(2900)).toBe('2.9 s');
		expect(formatDurationMs(42_000)).toBe('42 s');
		expect(formatDurationMs(245_000)).toBe('4 min 5 s');
		expect(formatDurationMs(7_380_000)).toBe('2 h 3 min');
	});
	it('keeps small amounts of money readable', () => {
		expect(formatMoney(3.41)).toBe('$3.41');
		expect(formatMoney(0.021)).toBe('$0.021');
		expect(formatMoney(0.0021)).toBe('$0.0021');
		expect(formatMoney(0)).toBe('$0.00');
	});
});

describe('describeChange', () => {
	it('describes counts as a relative change with arrow and words', () => {
		expect(describeChange(112, 100, 'count')).toEqual({
			direction: 'up',
			arrow: '▲',
			words: 'up 12%',
			tone: 'good'
		});
		expect(describeChange(96, 100, 'count').words).toBe('down 4%');
	});
	it('describes ratios in percentage points', () => {
		expect(describeChange(0.941, 0.935, 'ratio').words).toBe('up 0.6 pt');
	});
	it('treats a slower response time as bad news', () => {
		const c = describeChange(2900, 2000, 'duration', false);
		expect(c.words).toBe('up 45%');
		expect(c.tone).toBe('bad');
	});
	it('handles zero and missing previous values without dividing by zero', () => {
		expect(describeChange(5, 0, 'count').words).toBe('up from none');
		expect(describeChange(0, 0, 'count').direction).toBe('flat');
		expect(describeChange(0.9, null, 'ratio').words).toBe('no earlier data');
	});
});

describe('dates in the bot time zone', () => {
	it('names the local day and time, not the server one', () => {
		// 23:30 UTC on 30 Nov is already 1 Dec in Tokyo.
		expect(formatDay('2026-11-30T23:30:00Z', 'Asia/Tokyo')).toBe('Tue 1 Dec');
		expect(formatDay('2026-11-30T23:30:00Z', 'America/New_York')).toBe('Mon 30 Nov');
		expect(formatTime('2026-11-30T23:30:00Z', 'Europe/Paris')).toBe('00:30');
	});
});

describe('formatDateTimeUtc', () => {
	it('shows UTC explicitly, and a word for never', () => {
		expect(formatDateTimeUtc('2026-12-01T14:03:59Z')).toBe('1 Dec 2026, 14:03 UTC');
		expect(formatDateTimeUtc(null)).toBe('Never');
	});
});

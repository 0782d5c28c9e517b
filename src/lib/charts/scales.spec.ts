import { describe, expect, it } from 'vitest';
import { formatBucket, formatTick, niceMax, timeTicks, zoneLabel } from './scales';

describe('timeTicks', () => {
	it('puts hourly ticks on round local hours of the bot zone (Kolkata is UTC+5:30)', () => {
		const ticks = timeTicks(
			new Date('2026-12-01T00:00:00Z'),
			new Date('2026-12-02T00:00:00Z'),
			'Asia/Kolkata'
		);
		expect(ticks.length).toBeLessThanOrEqual(6);
		expect(ticks.length).toBeGreaterThanOrEqual(3);
		for (const t of ticks) {
			expect(t.getUTCMinutes()).toBe(30);
			expect(formatTick(t, 'hour', 'Asia/Kolkata')).toMatch(/^(00|06|12|18):00$/);
		}
	});

	it('puts daily ticks on local midnights, across a DST change', () => {
		const ticks = timeTicks(
			new Date('2026-10-22T12:00:00Z'),
			new Date('2026-10-28T12:00:00Z'),
			'Europe/Paris'
		);
		expect(ticks.map((t) => t.toISOString())).toEqual([
			'2026-10-22T22:00:00.000Z',
			'2026-10-23T22:00:00.000Z',
			'2026-10-24T22:00:00.000Z',
			'2026-10-25T23:00:00.000Z',
			'2026-10-26T23:00:00.000Z',
			'2026-10-27T23:00:00.000Z'
		]);
	});

	it('never gives more ticks than asked, whatever the span', () => {
		const from = new Date('2025-01-01T00:00:00Z');
		for (const days of [0.04, 1, 3, 7, 30, 120, 400, 800]) {
			const to = new Date(from.getTime() + days * 86_400_000);
			expect(timeTicks(from, to, 'America/New_York', 6).length).toBeLessThanOrEqual(6);
		}
	});
});

describe('labels', () => {
	it('labels buckets in the bot zone, not the viewer zone', () => {
		const at = new Date('2026-12-01T13:00:00Z');
		expect(formatTick(at, 'hour', 'Europe/Paris')).toBe('14:00');
		expect(formatTick(at, 'hour', 'America/New_York')).toBe('08:00');
		expect(formatBucket(at, 'hour', 'Europe/Paris')).toBe('Tue 1 Dec, 14:00');
		expect(formatBucket(new Date('2026-11-30T23:00:00Z'), 'week', 'Europe/Paris')).toBe(
			'week of Tue, 1 Dec 2026'
		);
	});

	it('names the zone with its abbreviation at that instant', () => {
		expect(zoneLabel('Europe/Paris', new Date('2026-12-01T00:00:00Z'))).toBe(
			'Europe/Paris (GMT+1)'
		);
		expect(zoneLabel('America/New_York', new Date('2026-07-01T00:00:00Z'))).toBe(
			'America/New_York (EDT)'
		);
		expect(zoneLabel('UTC', new Date())).toBe('UTC');
	});
});

describe('niceMax', () => {
	it('rounds the top of the axis up to a readable number', () => {
		expect(niceMax([0, 3, 7])).toBe(8);
		expect(niceMax([1204])).toBe(1500);
		expect(niceMax([0.941])).toBe(1);
		expect(niceMax([null, undefined])).toBe(1);
		expect(niceMax([0, 0])).toBe(1);
	});
});

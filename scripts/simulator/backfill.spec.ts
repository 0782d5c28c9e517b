import { describe, expect, it } from 'vitest';
import type { SimBot } from './bots.ts';
import { dayCurve, localHour, planBackfill } from './backfill.ts';
import { personas } from './personas.ts';
import { Random } from './random.ts';

const now = Date.parse('2026-11-30T18:30:00Z');
const bots: SimBot[] = [
	{ key: 'k1', name: 'Paris', channel: 'web', timezone: 'Europe/Paris', persona: personas[0] },
	{ key: 'k2', name: 'Sydney', channel: 'api', timezone: 'Australia/Sydney', persona: personas[2] }
];
const plan = (seed = 'b') =>
	planBackfill({
		bots,
		rng: new Random(seed),
		runId: 'r',
		days: 3,
		perHour: 20,
		concurrency: 1,
		now
	});

describe('backfill plan', () => {
	it('spreads history over the past days, never within the last minute or the future', () => {
		const stamps = plan()
			.flatMap((b) => b.events)
			.map((e) => Date.parse(e.timestamp));
		expect(Math.min(...stamps)).toBeGreaterThanOrEqual(now - 3 * 86_400_000 - 60_000);
		expect(Math.min(...stamps)).toBeLessThan(now - 2.5 * 86_400_000);
		expect(Math.max(...stamps)).toBeLessThan(now - 60_000);
	});

	it('packs whole conversations into batches of at most 1,000 events of one bot', () => {
		const batches = plan();
		expect(batches.length).toBeGreaterThan(2);
		const batchOf = new Map<string, number>();
		batches.forEach((b, i) => {
			expect(b.events.length).toBeLessThanOrEqual(1000);
			for (const e of b.events) {
				expect(e.conversation_id.startsWith('sim-r-b')).toBe(true);
				expect(batchOf.get(e.conversation_id) ?? i).toBe(i);
				batchOf.set(e.conversation_id, i);
			}
		});
	});

	it("follows each bot's local day: busier at noon than at 3 a.m. local time", () => {
		expect(localHour(Date.parse('2026-11-30T11:00:00Z'), 'Europe/Paris')).toBe(12);
		expect(dayCurve(14)).toBeGreaterThan(dayCurve(3) * 10);
		const starts = plan('day')
			.filter((b) => b.bot === 0)
			.flatMap((b) => b.events)
			.filter((e) => e.type === 'conversation_started')
			.map((e) => localHour(Date.parse(e.timestamp), 'Europe/Paris'));
		const at = (h: number) => starts.filter((x) => x === h).length;
		expect(at(13) + at(14)).toBeGreaterThan(5 * (at(2) + at(3) + 1));
	});

	it('is the same for the same seed', () => {
		expect(plan('same')).toEqual(plan('same'));
	});
});

import { describe, expect, it } from 'vitest';
import { Random } from './random.ts';

const draw = (r: Random, n: number) => Array.from({ length: n }, () => r.next());

describe('Random', () => {
	it('replays the same sequence for the same seed, and another for another seed', () => {
		expect(draw(new Random('42'), 20)).toEqual(draw(new Random('42'), 20));
		expect(draw(new Random('42'), 20)).not.toEqual(draw(new Random('43'), 20));
	});

	it('stays in [0, 1) and int() reaches both bounds', () => {
		const r = new Random('bounds');
		const xs = draw(r, 10_000);
		expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
		expect(Math.max(...xs)).toBeLessThan(1);
		const ints = new Set(Array.from({ length: 2000 }, () => r.int(1, 6)));
		expect([...ints].sort()).toEqual([1, 2, 3, 4, 5, 6]);
	});

	it('picks by weight', () => {
		const r = new Random('weights');
		const counts = { a: 0, b: 0 };
		for (let i = 0; i < 20_000; i++)
			counts[
				r.weighted([
					['a', 3],
					['b', 1]
				] as const)
			]++;
		expect(counts.a / counts.b).toBeGreaterThan(2.7);
		expect(counts.a / counts.b).toBeLessThan(3.3);
	});

	it('draws log-normal values around their median', () => {
		const r = new Random('latency');
		const xs = Array.from({ length: 5001 }, () => r.logNormal(900, 0.5)).sort((a, b) => a - b);
		expect(xs[2500]).toBeGreaterThan(850);
		expect(xs[2500]).toBeLessThan(950);
	});
});

import { describe, expect, it } from 'vitest';
import { percentile, until } from './polling.ts';

describe('percentile', () => {
	it('is the nearest-rank value: p95 of 1..100 is 95, p50 is 50, p100 the maximum', () => {
		const values = Array.from({ length: 100 }, (_, i) => 100 - i);
		expect(percentile(values, 95)).toBe(95);
		expect(percentile(values, 50)).toBe(50);
		expect(percentile(values, 100)).toBe(100);
		expect(percentile(values, 0)).toBe(1);
	});
	it('is null without values and does not reorder the input', () => {
		expect(percentile([], 50)).toBeNull();
		const values = [3, 1, 2];
		expect(percentile(values, 50)).toBe(2);
		expect(values).toEqual([3, 1, 2]);
	});
});

describe('until', () => {
	it('returns the first truthy value of a sync or async check', async () => {
		let calls = 0;
		await expect(until(() => ++calls >= 3 && calls, 'three calls', 1000, 1)).resolves.toBe(3);
		await expect(until(async () => 'ready', 'async value')).resolves.toBe('ready');
	});
	it('fails naming what it waited for', async () => {
		await expect(until(() => false, 'the moon', 30, 5)).rejects.toThrow(
			/timed out after 30 ms waiting for the moon/
		);
	});
});

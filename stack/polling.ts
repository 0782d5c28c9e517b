// Waiting for a condition and summarising timings: the two helpers every test layer and benchmark
// needs. No imports, so Node (vitest, scripts) and Deno (the Edge Functions' tests) share this one
// copy instead of each keeping its own.

/**
 * Polls `check` every `everyMs` until it returns a truthy value, which is returned; fails naming
 * `what` after `ms` (generous: a loaded CI machine is slow, a passing check returns at once).
 * A condition, never a fixed sleep.
 */
export async function until<T>(
	check: () => T | Promise<T>,
	what: string,
	ms = 20_000,
	everyMs = 20
): Promise<NonNullable<Awaited<T>>> {
	const deadline = Date.now() + ms;
	for (;;) {
		const value = await check();
		if (value) return value as NonNullable<Awaited<T>>;
		if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, everyMs));
	}
}

/** The nearest-rank percentile `p` (0-100) of `values`, or null when there are none. */
export function percentile(values: readonly number[], p: number): number | null {
	if (values.length === 0) return null;
	const sorted = [...values].sort((a, b) => a - b);
	const rank = Math.ceil((p / 100) * sorted.length);
	return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

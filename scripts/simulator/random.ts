// A small seeded PRNG, so `--seed` replays the same conversations (Math.random cannot be seeded).

/** Hashes a seed string to four 32-bit words (cyrb128), the state sfc32 wants. */
function hashSeed(seed: string): [number, number, number, number] {
	let h1 = 1779033703,
		h2 = 3144134277,
		h3 = 1013904242,
		h4 = 2773480762;
	for (let i = 0; i < seed.length; i++) {
		const k = seed.charCodeAt(i);
		h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
		h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
		h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
		h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
	}
	h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
	h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
	h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
	h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
	return [(h1 ^ h2 ^ h3 ^ h4) >>> 0, (h2 ^ h1) >>> 0, (h3 ^ h1) >>> 0, (h4 ^ h1) >>> 0];
}

export class Random {
	private a: number;
	private b: number;
	private c: number;
	private d: number;

	constructor(seed: string) {
		[this.a, this.b, this.c, this.d] = hashSeed(seed);
		// The first outputs of sfc32 still echo the seed; discard them.
		for (let i = 0; i < 15; i++) this.next();
	}

	/** Uniform in [0, 1) (sfc32). */
	next(): number {
		const t = (((this.a + this.b) | 0) + this.d) | 0;
		this.d = (this.d + 1) | 0;
		this.a = this.b ^ (this.b >>> 9);
		this.b = (this.c + (this.c << 3)) | 0;
		this.c = (this.c << 21) | (this.c >>> 11);
		this.c = (this.c + t) | 0;
		return (t >>> 0) / 4294967296;
	}

	/** An independent stream derived from this one (e.g. one per conversation). */
	fork(label: string): Random {
		return new Random(`${label}:${Math.floor(this.next() * 2 ** 32)}`);
	}

	/** Integer in [min, max], both included. */
	int(min: number, max: number): number {
		return min + Math.floor(this.next() * (max - min + 1));
	}

	chance(p: number): boolean {
		return this.next() < p;
	}

	pick<T>(items: readonly T[]): T {
		return items[Math.floor(this.next() * items.length)];
	}

	/** Picks by weight: entries are [value, weight] with weights > 0. */
	weighted<T>(entries: readonly (readonly [T, number])[]): T {
		const total = entries.reduce((s, [, w]) => s + w, 0);
		let r = this.next() * total;
		for (const [value, w] of entries) {
			r -= w;
			if (r < 0) return value;
		}
		return entries[entries.length - 1][0];
	}

	/** Standard normal (Box-Muller). */
	normal(): number {
		const u = 1 - this.next();
		return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
	}

	/** Log-normal around a median: latencies and think times have long right tails. */
	logNormal(median: number, sigma: number): number {
		return median * Math.exp(sigma * this.normal());
	}

	/** Exponential with the given mean: gaps between independent arrivals. */
	exponential(mean: number): number {
		return -Math.log(1 - this.next()) * mean;
	}
}

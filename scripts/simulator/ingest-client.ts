// Sends batches to the ingest Edge Function as a real bot would: waits out 429s for as long as
// Retry-After says, backs off while ingest is unreachable (one line per failure streak), and
// counts every event's answer so the summary can be checked against the database.
import type { IngestEvent } from './conversation.ts';
import type { Stats } from './stats.ts';

/** Ingest's documented limits (supabase/functions/ingest/index.ts). */
export const maxBatchEvents = 1000;
export const maxBatchBytes = 1024 * 1024;

export class InvalidKeyError extends Error {}

interface IngestAnswer {
	results?: { index: number; status: 'accepted' | 'duplicate' | 'rejected'; reason?: string }[];
	/** The functions' error body (supabase/functions/_shared/errors.ts). */
	error?: { code: string; message: string; retry_after?: number };
}

export interface IngestClientOptions {
	/** The function's URL, e.g. http://127.0.0.1:54321/functions/v1/ingest. */
	url: string;
	stats: Stats;
	log: (line: string) => void;
	/** Aborting stops waits and retries; a request in flight still completes and is counted. */
	signal: AbortSignal;
	maxBackoffMs?: number;
}

/** Waits ms, or less when the signal aborts; says whether the full wait happened. */
export function pause(ms: number, signal: AbortSignal): Promise<boolean> {
	if (signal.aborted) return Promise.resolve(false);
	return new Promise((resolve) => {
		const done = () => {
			clearTimeout(timer);
			signal.removeEventListener('abort', done);
			resolve(!signal.aborted);
		};
		const timer = setTimeout(done, ms);
		signal.addEventListener('abort', done);
	});
}

/** Splits events into batches within ingest's count and size limits, keeping their order. */
export function toBatches(events: IngestEvent[], maxEvents = maxBatchEvents): IngestEvent[][] {
	const batches: IngestEvent[][] = [];
	let current: IngestEvent[] = [];
	// Headroom under 1 MiB for the envelope and JSON escaping.
	let bytes = 64;
	const budget = maxBatchBytes - 4096;
	for (const e of events) {
		const size = Buffer.byteLength(JSON.stringify(e)) + 1;
		if (current.length > 0 && (current.length >= maxEvents || bytes + size > budget)) {
			batches.push(current);
			current = [];
			bytes = 64;
		}
		current.push(e);
		bytes += size;
	}
	if (current.length > 0) batches.push(current);
	return batches;
}

export class IngestClient {
	private failing: string | undefined;
	/** When each bot's last 429 line was printed: at most one a minute per bot. */
	private throttleLogged = new Map<string, number>();
	private backoffMs = 0;

	constructor(private readonly options: IngestClientOptions) {}

	/**
	 * Sends one batch (within the limits) for the bot holding `key` until ingest answers it, or
	 * the run stops (the batch then counts as unsent). Throws InvalidKeyError on 401.
	 */
	async send(key: string, label: string, events: IngestEvent[]): Promise<void> {
		const { stats, signal, log } = this.options;
		// After an attempt without an answer the batch may have been stored: a duplicate on the
		// next attempt is then our own earlier write, so it counts as accepted.
		let ambiguous = false;
		for (;;) {
			if (signal.aborted) {
				stats.unsent += events.length;
				return;
			}
			let res: Response;
			let problem: string | undefined;
			try {
				stats.requests++;
				res = await fetch(this.options.url, {
					method: 'POST',
					headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
					body: JSON.stringify({ events })
				});
				if (res.status === 200) {
					this.recovered();
					this.count(events, (await res.json()) as IngestAnswer, ambiguous);
					return;
				}
				const answer = (await res.json().catch(() => ({}))) as IngestAnswer;
				if (res.status === 429) {
					await this.throttled(label, res, answer);
					continue;
				}
				if (res.status === 401) {
					throw new InvalidKeyError(
						`ingest refused the key of ${label} (401): ${answer.error?.message ?? 'unknown or revoked key'}`
					);
				}
				if (res.status === 400 || res.status === 413) {
					// Our own batch is wrong: resending cannot help, and nothing of it was stored.
					stats.sent += events.length;
					stats.rejected += events.length;
					log(
						`simulate: ingest rejected a batch of ${label} (${res.status}): ${answer.error?.message}`
					);
					return;
				}
				problem = `ingest answered ${res.status}: ${answer.error?.message ?? res.statusText}`;
			} catch (e) {
				if (e instanceof InvalidKeyError) throw e;
				problem = `ingest is unreachable (${e instanceof Error ? e.message : String(e)})`;
			}
			ambiguous = true;
			stats.failedAttempts++;
			if (!this.failing) log(`simulate: ${problem}; retrying with back-off`);
			this.failing = problem;
			this.backoffMs = Math.min(
				this.options.maxBackoffMs ?? 30_000,
				Math.max(1000, this.backoffMs * 2)
			);
			await pause(this.backoffMs, signal);
		}
	}

	private async throttled(label: string, res: Response, answer: IngestAnswer) {
		const { stats, signal, log } = this.options;
		stats.throttled++;
		const header = Number(res.headers.get('retry-after'));
		const seconds =
			Number.isFinite(header) && header > 0 ? header : (answer.error?.retry_after ?? 1);
		const last = this.throttleLogged.get(label);
		if (last === undefined || Date.now() - last > 60_000) {
			log(
				`simulate: ${label} is over its ingest rate (429); resending after Retry-After (${seconds} s)`
			);
			this.throttleLogged.set(label, Date.now());
		}
		await pause(seconds * 1000, signal);
	}

	private recovered() {
		if (this.failing) this.options.log('simulate: ingest accepts events again');
		this.failing = undefined;
		this.backoffMs = 0;
	}

	private count(events: IngestEvent[], answer: IngestAnswer, ambiguous: boolean) {
		const { stats, log } = this.options;
		const results = answer.results ?? [];
		if (results.length !== events.length) {
			throw new Error(`ingest answered ${results.length} results for ${events.length} events`);
		}
		for (const r of results) {
			stats.sent++;
			if (r.status === 'accepted' || (r.status === 'duplicate' && ambiguous)) {
				stats.accepted++;
				stats.acceptedByType[events[r.index].type]++;
			} else if (r.status === 'duplicate') {
				stats.duplicate++;
			} else {
				if (stats.rejected === 0) log(`simulate: ingest rejected an event: ${r.reason}`);
				stats.rejected++;
			}
		}
	}
}

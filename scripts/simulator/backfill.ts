// Backfill: days of history written through ingest itself, in full batches, several requests
// in flight. Conversations follow each bot's local day (busy around noon, quiet at night).
// A conversation never spans two batches, so its start, messages and end arrive together.
import type { SimBot } from './bots.ts';
import { planConversation, type IngestEvent } from './conversation.ts';
import { InvalidKeyError, maxBatchEvents, type IngestClient } from './ingest-client.ts';
import type { Random } from './random.ts';
import type { Stats } from './stats.ts';

export interface BackfillRun {
	bots: SimBot[];
	client: IngestClient;
	stats: Stats;
	rng: Random;
	runId: string;
	days: number;
	/** Conversations per bot in its busiest hour. */
	perHour: number;
	concurrency: number;
	signal: AbortSignal;
	log: (line: string) => void;
	now?: number;
}

const hourMs = 3_600_000;

const hourFormats = new Map<string, Intl.DateTimeFormat>();

/** The hour of the day (0-23) at `ms` in an IANA time zone. */
export function localHour(ms: number, timezone: string): number {
	let format = hourFormats.get(timezone);
	if (!format) {
		format = new Intl.DateTimeFormat('en-GB', {
			timeZone: timezone,
			hour: 'numeric',
			hourCycle: 'h23'
		});
		hourFormats.set(timezone, format);
	}
	return Number(format.format(ms));
}

/** Share of the busiest hour's traffic at a local hour: a day curve, never quite zero. */
export function dayCurve(hour: number): number {
	return Math.max(0.04, Math.sin((Math.PI * (hour - 6)) / 16));
}

interface Batch {
	bot: number;
	events: IngestEvent[];
}

/** Plans the history and packs it into batches of whole conversations, per bot. */
export function planBackfill(
	run: Omit<BackfillRun, 'client' | 'signal' | 'log' | 'stats'>
): Batch[] {
	const now = run.now ?? Date.now();
	// Nothing in the last minute, so the events are never "from the future" for ingest.
	const end = now - 60_000;
	const start = end - run.days * 24 * hourMs;
	const batches: Batch[] = [];
	let n = 0;
	run.bots.forEach((bot, b) => {
		let current: IngestEvent[] = [];
		for (let h = Math.floor(start / hourMs) * hourMs; h < end; h += hourMs) {
			const expected =
				run.perHour * dayCurve(localHour(h, bot.timezone)) * (0.7 + 0.6 * run.rng.next());
			const count = Math.floor(expected) + (run.rng.chance(expected % 1) ? 1 : 0);
			for (let i = 0; i < count; i++) {
				const startedAt = h + run.rng.next() * hourMs;
				if (startedAt < start || startedAt >= end) continue;
				const id = `sim-${run.runId}-b${++n}`;
				const plan = planConversation(id, bot, startedAt, run.rng.fork(id));
				// A conversation still going at the cut-off stays active, as a live one would.
				const events = plan.events.filter((e) => e.at < end).map((e) => e.event);
				if (current.length + events.length > maxBatchEvents) {
					batches.push({ bot: b, events: current });
					current = [];
				}
				current.push(...events);
			}
		}
		if (current.length > 0) batches.push({ bot: b, events: current });
	});
	return batches;
}

export async function runBackfill(run: BackfillRun): Promise<void> {
	const batches = planBackfill(run);
	const total = batches.reduce((s, b) => s + b.events.length, 0);
	run.log(
		`simulate: backfilling ${total.toLocaleString('en-US')} events in ${batches.length} batches`
	);
	run.stats.conversationsStarted = batches.reduce(
		(s, b) => s + b.events.filter((e) => e.type === 'conversation_started').length,
		0
	);
	const dead = new Set<number>();
	let next = 0;
	// Interleave the bots, so concurrent requests spread over several bots' rate limits.
	const seen = new Map<number, number>();
	const order = batches
		.map((batch) => {
			const rank = seen.get(batch.bot) ?? 0;
			seen.set(batch.bot, rank + 1);
			return { batch, rank };
		})
		.sort((a, b) => a.rank - b.rank || a.batch.bot - b.batch.bot)
		.map((x) => x.batch);
	const worker = async () => {
		while (next < order.length) {
			const batch = order[next++];
			if (run.signal.aborted || dead.has(batch.bot)) {
				run.stats.unsent += batch.events.length;
				continue;
			}
			const bot = run.bots[batch.bot];
			try {
				await run.client.send(bot.key, bot.name, batch.events);
			} catch (e) {
				if (!(e instanceof InvalidKeyError)) throw e;
				if (!dead.has(batch.bot)) run.log(`simulate: ${e.message} (skipping this bot)`);
				dead.add(batch.bot);
				run.stats.unsent += batch.events.length;
			}
		}
	};
	await Promise.all(Array.from({ length: run.concurrency }, worker));
}

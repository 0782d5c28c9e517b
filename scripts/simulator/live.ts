// Live traffic: conversations arrive at random (Poisson) so that, with their realistic pauses,
// the bots together send about `rate` events per second. Each event is sent when its moment
// comes, batched per bot, one request in flight per bot so a bot's events arrive in order.
import type { SimBot } from './bots.ts';
import { planConversation, type IngestEvent, type TimedEvent } from './conversation.ts';
import { InvalidKeyError, pause, toBatches, type IngestClient } from './ingest-client.ts';
import type { Random } from './random.ts';
import type { Stats } from './stats.ts';

export interface LiveRun {
	bots: SimBot[];
	client: IngestClient;
	stats: Stats;
	rng: Random;
	runId: string;
	/** Target events per second over all bots. */
	rate: number;
	/** Aborted by Ctrl-C or the end of --duration. */
	signal: AbortSignal;
	log: (line: string) => void;
	tickMs?: number;
}

interface Open {
	bot: number;
	events: TimedEvent[];
	next: number;
}

/** Mean events per conversation and mean length, from a sample of planned conversations. */
export function calibrate(bots: SimBot[], rng: Random, samples = 400) {
	let events = 0;
	let durationMs = 0;
	for (let i = 0; i < samples; i++) {
		const plan = planConversation('calibration', bots[i % bots.length], 0, rng);
		events += plan.events.length;
		durationMs += plan.events[plan.events.length - 1].at;
	}
	return { eventsPerConversation: events / samples, durationMs: durationMs / samples };
}

/** Runs until the signal aborts; resolves once every request in flight has been answered. */
export async function runLive(run: LiveRun): Promise<void> {
	const { bots, client, stats, rng, signal } = run;
	const tickMs = run.tickMs ?? 250;
	const { eventsPerConversation, durationMs } = calibrate(bots, rng.fork('calibration'));
	const arrivalGapMs = (1000 * eventsPerConversation) / run.rate;

	const open: Open[] = [];
	const queues: IngestEvent[][] = bots.map(() => []);
	const inFlight = new Set<Promise<void>>();
	const busy = new Set<number>();
	const dead = new Set<number>();
	let n = 0;
	// Start as if the bots had been running for a while: conversations already under way make
	// the dashboard's active list and feed move from the first second.
	const startedAt = Date.now();
	let nextArrival = startedAt - Math.min(durationMs, 90_000);

	const flush = (b: number) => {
		if (busy.has(b) || dead.has(b) || queues[b].length === 0) return;
		const [batch] = toBatches(queues[b]);
		queues[b].splice(0, batch.length);
		busy.add(b);
		const p = client
			.send(bots[b].key, bots[b].name, batch)
			.catch((e: unknown) => {
				if (!(e instanceof InvalidKeyError)) throw e;
				run.log(`simulate: ${e.message} (this bot stops)`);
				dead.add(b);
				stats.unsent += queues[b].length;
				queues[b] = [];
			})
			.finally(() => {
				busy.delete(b);
				inFlight.delete(p);
			});
		inFlight.add(p);
	};

	const tick = () => {
		const now = Date.now();
		while (nextArrival <= now) {
			const b = rng.int(0, bots.length - 1);
			const id = `sim-${run.runId}-${++n}`;
			const plan = planConversation(id, bots[b], nextArrival, rng.fork(id));
			open.push({ bot: b, events: plan.events, next: 0 });
			stats.conversationsStarted++;
			nextArrival += rng.exponential(arrivalGapMs);
		}
		const due: { bot: number; e: TimedEvent }[] = [];
		for (let i = open.length - 1; i >= 0; i--) {
			const c = open[i];
			while (c.next < c.events.length && c.events[c.next].at <= now) {
				due.push({ bot: c.bot, e: c.events[c.next++] });
			}
			if (c.next === c.events.length) open.splice(i, 1);
		}
		stats.open = open.length;
		due.sort((a, b) => a.e.at - b.e.at);
		for (const d of due) {
			if (dead.has(d.bot)) continue;
			queues[d.bot].push(d.e.event);
			if (d.e.at < startedAt) stats.warmup++;
		}
		bots.forEach((_, b) => flush(b));
		if (dead.size === bots.length)
			throw new Error('every bot key was refused; nothing to simulate');
	};

	while (!signal.aborted) {
		tick();
		await pause(tickMs, signal);
	}
	await Promise.all(inFlight);
	for (const q of queues) stats.unsent += q.length;
}

// `npm run simulate -- [flags]`: live traffic (or --backfill history) from simulated bots,
// through the real ingest function. Progress on stderr; the summary on stdout (--json for
// scripts), printed on Ctrl-C, SIGTERM or the end of --duration.
import { runBackfill } from './backfill.ts';
import { resolveBots } from './bots.ts';
import { IngestClient } from './ingest-client.ts';
import { runLive } from './live.ts';
import { parseOptions, usage, UsageError } from './options.ts';
import { Progress } from './progress.ts';
import { Random } from './random.ts';
import { formatSummary, Stats, summarize } from './stats.ts';

async function main(): Promise<number> {
	const options = parseOptions(process.argv.slice(2), () =>
		String(Math.floor(Math.random() * 1e9))
	);
	if (options.help) {
		console.log(usage);
		return 0;
	}
	const { url, bots } = await resolveBots(options);
	// The run id keeps each run's conversation ids apart, so a replayed seed is not a duplicate.
	const runId = Date.now().toString(36);
	const stop = new AbortController();
	let firstSignal = 0;
	for (const signal of ['SIGINT', 'SIGTERM'] as const) {
		process.on(signal, () => {
			// Ctrl-C can arrive twice at once (the terminal and a wrapper such as npm or tsx); a
			// second one a moment later means: do not wait for requests in flight.
			if (firstSignal && Date.now() - firstSignal > 1000) process.exit(130);
			firstSignal ||= Date.now();
			stop.abort();
		});
	}
	const timer =
		options.durationMs === undefined
			? undefined
			: setTimeout(() => stop.abort(), options.durationMs);

	const stats = new Stats();
	const progress = new Progress(stats);
	const log = progress.log;
	const client = new IngestClient({ url, stats, log, signal: stop.signal });
	const rng = new Random(options.seed);
	const who = bots.map((b) => `${b.name} (${b.persona.label})`).join(', ');
	const common = { bots, client, stats, rng, runId, signal: stop.signal, log };
	try {
		if (options.backfillDays !== undefined) {
			log(
				`simulate: ${options.backfillDays} days of history for ${who}; seed ${options.seed}, run ${runId}`
			);
			await runBackfill({
				...common,
				days: options.backfillDays,
				perHour: options.perHour,
				concurrency: options.concurrency
			});
		} else {
			log(
				`simulate: ${who} talking at ~${options.rate} events/s to ${url}; seed ${options.seed}, run ${runId}; Ctrl-C stops`
			);
			await runLive({ ...common, rate: options.rate });
		}
	} finally {
		clearTimeout(timer);
		progress.stop();
	}
	const summary = summarize(stats, runId);
	console.log(options.json ? JSON.stringify(summary) : formatSummary(summary));
	return 0;
}

main().then(
	(code) => process.exit(code),
	(e: unknown) => {
		if (e instanceof UsageError) {
			console.error(`simulate: ${e.message}`);
			process.exit(2);
		}
		console.error('simulate:', e instanceof Error ? e.message : e);
		process.exit(1);
	}
);

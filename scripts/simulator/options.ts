// The simulator's command line: flags, their defaults, and errors that say what to type instead.
import { parseArgs } from 'node:util';

export interface Options {
	/** Target events per second of live traffic, over all bots. */
	rate: number;
	/** How many of the bots (the first N), or which ones by name; all when absent. */
	bots?: number | string[];
	/** Milliseconds of live traffic; until Ctrl-C when absent. */
	durationMs?: number;
	seed: string;
	/** Days of history to write through ingest instead of live traffic. */
	backfillDays?: number;
	/** Backfill: conversations per bot in its busiest hour. */
	perHour: number;
	/** Backfill: requests in flight at once. */
	concurrency: number;
	/** The ingest function's URL; the local platform's when absent. */
	url?: string;
	/** Bot API keys to use instead of the local seed's demo keys. */
	keys: string[];
	json: boolean;
	help: boolean;
}

export const usage = `Usage: npm run simulate -- [flags]

Plays several bots (support, sales, an LLM agent, ...) talking to their users, and reports every
event through the real ingest Edge Function with each bot's own API key.

  --rate N          live events per second over all bots (default 5)
  --bots N|a,b      the first N bots, or bots whose names contain a or b (default: all)
  --duration T      stop after T: 90, 90s, 5m, 1h (default: until Ctrl-C)
  --seed S          replay the same conversations (default: random, printed at the start)
  --backfill DAYS   instead of live traffic, write DAYS of history (at most 29) in large
                    batches, timestamps spread over the past days, then stop
  --per-hour N      backfill: conversations per bot in its busiest hour (default 12)
  --concurrency N   backfill: requests in flight at once (default 4)
  --url URL         another project: https://<ref>.supabase.co or the ingest function's URL
  --key KEY         a bot API key (repeat for several bots); needed with --url
  --json            print the summary as JSON
  --help            this text

Without --url and --key it talks to the local platform as the seeded demo bots.`;

export class UsageError extends Error {}

/** Ingest refuses events older than 30 days; leave a day for clocks and slow runs. */
export const maxBackfillDays = 29;

function positive(name: string, raw: string | undefined, fallback: number, max: number): number {
	if (raw === undefined) return fallback;
	const n = Number(raw);
	if (!Number.isFinite(n) || n <= 0 || n > max) {
		throw new UsageError(`--${name} ${raw}: give a number above 0 and at most ${max}`);
	}
	return n;
}

/** 90, 90s, 5m, 1h, 1.5h → milliseconds. */
export function parseDuration(raw: string): number {
	const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
	const factors: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
	const ms = m ? Number(m[1]) * factors[m[2] ?? 's'] : NaN;
	if (!(ms > 0)) throw new UsageError(`--duration ${raw}: give e.g. 90, 90s, 5m or 1h`);
	return ms;
}

/** A project URL becomes its ingest function's URL. */
export function ingestUrl(raw: string): string {
	let url: URL;
	try {
		url = new URL(raw);
	} catch {
		throw new UsageError(`--url ${raw}: give a URL such as https://<ref>.supabase.co`);
	}
	if (url.pathname.includes('/functions/')) return url.href;
	return `${url.origin}${url.pathname.replace(/\/$/, '')}/functions/v1/ingest`;
}

export function parseOptions(argv: string[], randomSeed: () => string): Options {
	let values;
	try {
		({ values } = parseArgs({
			args: argv,
			strict: true,
			allowPositionals: false,
			options: {
				rate: { type: 'string' },
				bots: { type: 'string' },
				duration: { type: 'string' },
				seed: { type: 'string' },
				backfill: { type: 'string' },
				'per-hour': { type: 'string' },
				concurrency: { type: 'string' },
				url: { type: 'string' },
				key: { type: 'string', multiple: true },
				json: { type: 'boolean', default: false },
				help: { type: 'boolean', short: 'h', default: false }
			}
		}));
	} catch (e) {
		throw new UsageError(`${(e as Error).message}; see --help`);
	}
	let bots: Options['bots'];
	if (values.bots !== undefined) {
		const raw = values.bots.trim();
		if (/^\d+$/.test(raw)) bots = positive('bots', raw, 0, 10_000);
		else
			bots = raw
				.split(',')
				.map((s) => s.trim())
				.filter(Boolean);
		if (Array.isArray(bots) && bots.length === 0) {
			throw new UsageError('--bots: give a number or bot names separated by commas');
		}
	}
	const keys = (values.key ?? []).map((k) => k.trim()).filter(Boolean);
	if (values.url !== undefined && keys.length === 0) {
		throw new UsageError('--url needs --key: the API key of each bot to play (repeat --key)');
	}
	if (values.seed !== undefined && values.seed.trim() === '') {
		throw new UsageError('--seed: give a non-empty value, e.g. --seed 42');
	}
	return {
		rate: positive('rate', values.rate, 5, 5000),
		bots,
		durationMs: values.duration === undefined ? undefined : parseDuration(values.duration),
		seed: values.seed?.trim() ?? randomSeed(),
		backfillDays:
			values.backfill === undefined
				? undefined
				: positive('backfill', values.backfill, 0, maxBackfillDays),
		perHour: positive('per-hour', values['per-hour'], 12, 10_000),
		concurrency: Math.round(positive('concurrency', values.concurrency, 4, 64)),
		url: values.url === undefined ? undefined : ingestUrl(values.url),
		keys,
		json: values.json,
		help: values.help
	};
}

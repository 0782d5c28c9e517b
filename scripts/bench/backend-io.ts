// Ingest and export throughput of the Edge Functions, each beside Postgres COPY of the same rows
// measured in the same run (the physical reference). Called by scripts/bench/backend.ts; run
// alone with `npx tsx scripts/bench/backend-io.ts` against a running platform.
// BENCH_INGEST_EVENTS (default 50,000) and BENCH_EXPORT_ROWS (default 1,000,000) scale it down
// while developing; BENCH_KEEP=1 keeps the bench bots, and the export fixture is then reused by
// the next run of the same size.
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import postgres from 'postgres';
import { config } from '../../stack/config.ts';
import { percentile } from '../../stack/polling.ts';
import { fixture, newBot, realtimeCaughtUp, round, seconds, type Sql } from './backend-common.ts';
import { benchExport } from './backend-export.ts';

const batchSize = 500;
const ingestConcurrency = 4;

const words =
	'order refund shipping where is my "parcel" please, thanks kettle blue invoice help human'.split(
		' '
	);
function sentence(i: number): string {
	let s = '';
	for (let w = 0; w < 12; w++) s += (w ? ' ' : '') + words[(i * 7 + w * 3) % words.length];
	return s;
}

function events(count: number, runId: string) {
	const base = Date.now() - 60 * 60_000;
	return Array.from({ length: count }, (_, i) => ({
		type: 'message',
		conversation_id: `${runId}-c${Math.floor(i / 20)}`,
		message_id: `${runId}-m${i}`,
		role: i % 2 ? 'bot' : 'user',
		content: sentence(i),
		timestamp: new Date(base + i).toISOString(),
		...(i % 2
			? {
					response_time_ms: 300 + (i % 900),
					tokens_in: 50,
					tokens_out: 20,
					cost_usd: 0.0004,
					model: 'gpt-4o-mini'
				}
			: {})
	}));
}

/**
 * Ingest against COPY three times (BENCH_INGEST_RUNS): the figure is the median ratio. One
 * untimed batch goes first, as the summary reads have warm-up runs: the function's worker has
 * just started and compiles its code on its first requests, once, not per event.
 */
async function benchIngest(sql: Sql, organizationId: string, total: number) {
	const warmUp = await newBot(sql, organizationId, 'Benchmark ingest warm-up');
	await post(warmUp.key, JSON.stringify({ events: events(batchSize, randomUUID().slice(0, 8)) }));
	const runs = [];
	for (let i = 0; i < Number(process.env.BENCH_INGEST_RUNS ?? 3); i++)
		runs.push(await benchIngestOnce(sql, organizationId, total));
	return {
		median_ratio_vs_copy: percentile(
			runs.map((r) => r.ratio_vs_copy),
			50
		),
		target_ratio: 0.5,
		runs
	};
}

async function post(key: string, body: string): Promise<{ accepted: number }> {
	const res = await fetch(`${config.api.url}/functions/v1/ingest`, {
		method: 'POST',
		headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
		body
	});
	const answer = await res.json();
	if (res.status !== 200)
		throw new Error(`ingest answered ${res.status}: ${JSON.stringify(answer)}`);
	return answer;
}

async function benchIngestOnce(sql: Sql, organizationId: string, total: number) {
	const runId = randomUUID().slice(0, 8);
	const bot = await newBot(sql, organizationId, `Benchmark ingest ${runId}`);
	const all = events(total, runId);
	const batches: string[] = [];
	for (let i = 0; i < all.length; i += batchSize)
		batches.push(JSON.stringify({ events: all.slice(i, i + batchSize) }));

	let next = 0;
	let accepted = 0;
	const realtimeBeforeIngest = await realtimeCaughtUp(sql);
	const start = process.hrtime.bigint();
	await Promise.all(
		Array.from({ length: ingestConcurrency }, async () => {
			while (next < batches.length) {
				// Awaited first: `accepted += await ...` would read `accepted` before the wait.
				const answer = await post(bot.key, batches[next++]);
				accepted += answer.accepted;
			}
		})
	);
	const ingestSeconds = seconds(start);
	if (accepted !== total) throw new Error(`ingest accepted ${accepted} of ${total} events`);

	// The reference: COPY of the same rows into the same table (conversations made beforehand,
	// as COPY cannot make them), in one stream.
	const copyBot = await newBot(sql, organizationId, `Benchmark copy ${runId}`);
	const copyRun = `${runId}x`;
	const rows = events(total, copyRun);
	const conversations = [...new Set(rows.map((r) => r.conversation_id))];
	const ids = await sql`insert into public.conversations (bot_id, external_id, started_at)
		select ${copyBot.id}, x, now() - interval '1 hour' from unnest(${conversations}::text[]) x
		returning id, external_id`;
	const convId = new Map(ids.map((r) => [r.external_id as string, r.id as string]));
	const realtimeBeforeCopy = await realtimeCaughtUp(sql);
	const csv = (v: unknown) => (v === undefined ? '' : `"${String(v).replaceAll('"', '""')}"`);
	const copyStart = process.hrtime.bigint();
	const writable =
		await sql`copy public.messages (bot_id, conversation_id, external_id, role, content,
		sent_at, response_time_ms, tokens_in, tokens_out, cost_usd, model) from stdin (format csv)`.writable();
	await pipeline(
		(async function* () {
			let chunk = '';
			for (const r of rows as Record<string, unknown>[]) {
				chunk +=
					[
						copyBot.id,
						convId.get(r.conversation_id as string),
						r.message_id,
						r.role,
						csv(r.content),
						r.timestamp,
						r.response_time_ms ?? '',
						r.tokens_in ?? 0,
						r.tokens_out ?? 0,
						r.cost_usd ?? 0,
						csv(r.model)
					].join(',') + '\n';
				if (chunk.length > 65536) {
					yield chunk;
					chunk = '';
				}
			}
			if (chunk) yield chunk;
		})(),
		writable
	);
	const copySeconds = seconds(copyStart);
	const eventsPerS = total / ingestSeconds;
	const copyPerS = total / copySeconds;
	return {
		events: total,
		batch_size: batchSize,
		concurrency: ingestConcurrency,
		function_seconds: round(ingestSeconds, 2),
		function_events_per_s: round(eventsPerS),
		copy_seconds: round(copySeconds, 2),
		copy_rows_per_s: round(copyPerS),
		ratio_vs_copy: round(eventsPerS / copyPerS, 3),
		realtime_caught_up_before_seconds: { ingest: realtimeBeforeIngest, copy: realtimeBeforeCopy }
	};
}

export async function benchIngestAndExport() {
	const ingestEvents = Number(process.env.BENCH_INGEST_EVENTS ?? 50_000);
	const exportRows = Number(process.env.BENCH_EXPORT_ROWS ?? 1_000_000);
	const sql = postgres(config.db.url, { max: 4, onnotice: () => {} });
	try {
		const user = await fixture(sql, 'backend-io');
		const ingest = await benchIngest(sql, user.organizationId, ingestEvents);
		const exported = await benchExport(sql, user, exportRows);
		if (process.env.BENCH_KEEP !== '1') {
			await sql`delete from public.bots where organization_id = ${user.organizationId} and name like 'Benchmark %'`;
		}
		return { ingest, export: exported };
	} finally {
		await sql.end();
	}
}

if (import.meta.url === `file://${process.argv[1]}`) {
	console.log(JSON.stringify(await benchIngestAndExport(), null, 2));
}

// `npm run bench:platform`: how fast the local platform answers on this machine, each figure
// next to a physical reference measured in the same run. Prints JSON; asserts nothing.
//   - REST single-row reads/s and 20-row bulk inserts/s through supabase-js, against the same
//     statements sent straight to Postgres (porsager `postgres`), at the same concurrency;
//   - an Edge Function's round trip, warm (p50/p95) and cold (fresh Deno process);
//   - the gateway's resident memory (VmRSS) while under that load, and its own request ceiling.
// Needs the platform running (`npm run stack:start`). Env: BENCH_SECONDS (per phase, default 4),
// BENCH_CONCURRENCY (in-flight requests, default 8).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@supabase/supabase-js';
import postgres from 'postgres';
import WebSocket from 'ws';
import { config, projectRoot, stateDir } from '../../stack/config.ts';
import { percentile } from '../../stack/testing.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 4);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 8);
const table = `bench_platform_${process.pid}`;
const seedRows = 10_000;
const fixturesDir = join(projectRoot, 'stack', 'functions', 'fixtures');

const log = (msg: string) => process.stderr.write(`bench: ${msg}\n`);
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

const client = createClient(config.api.url, config.keys.anon, {
	auth: { persistSession: false, autoRefreshToken: false },
	realtime: { transport: WebSocket as never }
});
const sql = postgres(config.db.url, { max: concurrency, onnotice: () => {} });

// --- gateway memory, sampled all along -------------------------------------------------
function gatewayRssMb(): number | null {
	try {
		const pid = readFileSync(join(stateDir, 'api.pid'), 'utf8').trim();
		const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
		return m ? Number(m[1]) / 1024 : null;
	} catch {
		return null;
	}
}
/** CPU time (user + system) the gateway process has used so far, in ms. */
function gatewayCpuMs(): number | null {
	try {
		const pid = readFileSync(join(stateDir, 'api.pid'), 'utf8').trim();
		const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
		return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks at 100 Hz
	} catch {
		return null;
	}
}

/** Runs a phase and also reports the gateway's CPU cost per operation during it. */
async function withGatewayCpu(op: (i: number) => Promise<unknown>) {
	const before = gatewayCpuMs();
	const start = performance.now();
	const perSecond = await throughput(op);
	const ops = (perSecond * (performance.now() - start)) / 1000;
	const after = gatewayCpuMs();
	const cpuMs = before === null || after === null ? NaN : (after - before) / ops;
	return { perSecond, cpuMs };
}
const rss: number[] = [];
const sampler = setInterval(() => {
	const mb = gatewayRssMb();
	if (mb !== null) rss.push(mb);
}, 200);

/** Runs `op` from `concurrency` loops for the phase length; returns operations per second. */
async function throughput(op: (i: number) => Promise<unknown>): Promise<number> {
	const end = performance.now() + seconds * 1000;
	let done = 0;
	const start = performance.now();
	await Promise.all(
		Array.from({ length: concurrency }, async (_, lane) => {
			for (let i = lane; performance.now() < end; i += concurrency) {
				await op(i);
				done++;
			}
		})
	);
	return done / ((performance.now() - start) / 1000);
}

const randomId = () => 1 + Math.floor(Math.random() * seedRows);
const batch = (i: number) =>
	Array.from({ length: 20 }, (_, j) => ({
		bot: `bot-${i % 10}`,
		value: i * 20 + j,
		payload: { i, j }
	}));

async function setUpTable() {
	await sql.unsafe(`
		create table public.${table} (
			id bigint generated always as identity primary key,
			bot text not null,
			value integer not null,
			payload jsonb not null default '{}',
			created_at timestamptz not null default now()
		);
		alter table public.${table} enable row level security;
		create policy "Anyone can read benchmark rows" on public.${table} for select to anon using (true);
		create policy "Anyone can add benchmark rows" on public.${table} for insert to anon with check (true);
		-- The project revokes anon's default grants on new tables: grant what the policies allow.
		grant select, insert on public.${table} to anon;
		insert into public.${table} (bot, value, payload)
			select 'bot-' || (g % 10), g, jsonb_build_object('g', g) from generate_series(1, ${seedRows}) g;
		analyze public.${table};
	`);
	// REST learns about new tables from its schema cache reload (notify pgrst); wait for it.
	for (let i = 0; i < 100; i++) {
		const { error } = await client.from(table).select('id').eq('id', 1);
		if (!error) return;
		if (i === 99) throw new Error(`REST does not serve ${table}: ${error.message}`);
		await new Promise((r) => setTimeout(r, 100));
	}
}

async function rest() {
	await setUpTable();
	try {
		log(`REST single-row reads (${seconds}s, ${concurrency} in flight)`);
		const reads = await withGatewayCpu(async () => {
			const { error } = await client.from(table).select('*').eq('id', randomId());
			if (error) throw new Error(`REST read failed: ${error.message}`);
		});
		const restReads = reads.perSecond;
		const directReads = await throughput(
			() => sql`select * from ${sql('public.' + table)} where id = ${randomId()}`
		);
		log('REST 20-row bulk inserts');
		const inserts = await withGatewayCpu(async (i) => {
			const { error } = await client.from(table).insert(batch(i));
			if (error) throw new Error(`REST insert failed: ${error.message}`);
		});
		const restInserts = inserts.perSecond;
		const directInserts = await throughput(
			(i) => sql`insert into ${sql('public.' + table)} ${sql(batch(i))}`
		);
		return {
			single_row_reads_per_s: round(restReads, 0),
			direct_single_row_reads_per_s: round(directReads, 0),
			reads_ratio: round(restReads / directReads),
			reads_target_ratio: 0.3,
			gateway_cpu_ms_per_read: round(reads.cpuMs, 3),
			bulk_inserts_20_rows_per_s: round(restInserts, 0),
			direct_bulk_inserts_20_rows_per_s: round(directInserts, 0),
			inserts_ratio: round(restInserts / directInserts),
			inserts_target_ratio: 0.6,
			gateway_cpu_ms_per_insert: round(inserts.cpuMs, 3)
		};
	} finally {
		await sql.unsafe(`drop table if exists public.${table}`);
	}
}

/** The gateway's own ceiling: apikey check, routing, CORS and logging, no database. */
async function gateway() {
	log('gateway-only requests (auth health)');
	const url = `${config.api.url}/auth/v1/health`;
	const headers = { apikey: config.keys.anon };
	const { perSecond, cpuMs } = await withGatewayCpu(async () => {
		const res = await fetch(url, { headers });
		await res.arrayBuffer();
	});
	return { requests_per_s: round(perSecond, 0), gateway_cpu_ms_per_request: round(cpuMs, 3) };
}

async function functions() {
	log('Edge Function warm round trips');
	const call = async (name: string) => {
		const t = performance.now();
		const { error } = await client.functions.invoke(name, { method: 'GET' });
		if (error) throw new Error(`function ${name} failed: ${error.message}`);
		return performance.now() - t;
	};
	await call('fixture-echo');
	const warm: number[] = [];
	for (let i = 0; i < 300; i++) warm.push(await call('fixture-echo'));

	log('Edge Function cold starts');
	// A brand-new function each time: nothing warm to reuse, as after a deploy.
	const source = readFileSync(join(fixturesDir, 'fixture-echo', 'index.ts'), 'utf8');
	const cold: number[] = [];
	for (let i = 0; i < 6; i++) {
		const name = `fixture-tmp-bench-${process.pid}-${i}`;
		const dir = join(fixturesDir, name);
		mkdirSync(dir, { recursive: true });
		writeFileSync(join(dir, 'index.ts'), source);
		try {
			cold.push(await call(name));
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	}
	return {
		warm_round_trip_ms: {
			p50: round(percentile(warm, 50) ?? NaN),
			p95: round(percentile(warm, 95) ?? NaN),
			samples: warm.length
		},
		warm_p95_target_ms: 10,
		cold_round_trip_ms: {
			p50: round(percentile(cold, 50) ?? NaN),
			p95: round(percentile(cold, 95) ?? NaN),
			samples: cold.length
		},
		cold_target_ms: 500
	};
}

async function main() {
	if (!existsSync(join(stateDir, 'api.pid'))) {
		throw new Error('the platform is not running: start it with `npm run stack:start`');
	}
	const result: Record<string, unknown> = {
		machine: {
			cpus: cpus().length,
			// Other work on the machine skews every figure; the ratios are what compare.
			load_average_at_start: loadavg().map((n) => round(n)),
			seconds_per_phase: seconds,
			concurrency
		},
		gateway_rss_mb_idle: round(gatewayRssMb() ?? NaN, 1)
	};
	try {
		result.rest = await rest();
	} catch (e) {
		result.rest = { error: (e as Error).message };
	}
	result.gateway = await gateway();
	try {
		result.functions = await functions();
	} catch (e) {
		result.functions = { error: (e as Error).message };
	}
	clearInterval(sampler);
	result.gateway_rss_mb_under_load = {
		max: round(Math.max(...rss), 1),
		last: round(rss.at(-1) ?? NaN, 1),
		target_max: 150
	};
	(result.machine as Record<string, unknown>).load_average_at_end = loadavg().map((n) => round(n));
	console.log(JSON.stringify(result, null, 2));
}

main()
	.catch((e) => {
		console.error(`bench: ${(e as Error).message}`);
		process.exitCode = 1;
	})
	.finally(() => {
		clearInterval(sampler);
		return sql.end();
	});

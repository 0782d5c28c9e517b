// Realtime benchmark: commit-to-client latency of RLS-checked postgres_changes at 100 changes/s
// with 100 and 1,000 subscribers (distinct users), the highest rate whose p95 stays under
// 250 ms with 500 subscribers, memory per idle connection at 10,000 connections, and events
// lost. The reference is the raw logical replication stream (pgoutput, no RLS, no fan-out),
// measured in the same run on the same load. Needs the local platform's database running.
//
//   npm run bench:realtime [-- --quick]
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import postgres from 'postgres';
import { config, projectRoot } from '../../stack/config.ts';
import { percentile } from '../../stack/testing.ts';
import { ReplicationStream } from '../../stack/realtime/replication.ts';
import {
	jsSubscriber,
	rawSubscriber,
	tokenFor,
	wsUrl,
	type Subscriber
} from './realtime-subscribers.ts';

const { values: args } = parseArgs({
	options: {
		quick: { type: 'boolean', default: false },
		profile: { type: 'string' },
		port: { type: 'string', default: '0' }
	}
});
const quick = args.quick!;
/** 0 picks a free port at the first start; restarts keep it */
let port = Number(args.port);
const slot = 'realtime_bench';
const rawSlot = 'realtime_bench_raw';
const table = 'rt_bench_events';
const ORGS = 10;
const PHASE_MS = quick ? 4000 : 8000;
const RAMP_STEP_MS = quick ? 2500 : 4000;
const IDLE_CONNECTIONS = quick ? 2000 : 10_000;
const JS_CLIENTS = 10; // subscribers driven through realtime-js; the rest are raw sockets

const sql = postgres(config.db.url, { max: 8, onnotice: () => {} });
const log = (m: string) => process.stderr.write(`${m}\n`);

const summary = (xs: number[]) => ({
	p50: percentile(xs, 50),
	p95: percentile(xs, 95),
	p99: percentile(xs, 99),
	samples: xs.length
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function setup() {
	await sql.unsafe(`
		drop table if exists public.${table}, public.rt_bench_members cascade;
		create table public.rt_bench_members (user_id uuid primary key, org_id int not null);
		create index on public.rt_bench_members (org_id);
		create table public.${table} (id bigint generated always as identity primary key, org_id int not null, body text, sent_at timestamptz default clock_timestamp());
		alter table public.${table} enable row level security;
		create policy "Bench events are visible to members of their organization" on public.${table}
			for select to authenticated
			using (org_id in (select m.org_id from public.rt_bench_members m where m.user_id = (select auth.uid())));
		grant select on public.${table}, public.rt_bench_members to authenticated;
		alter publication supabase_realtime add table public.${table};
	`);
	for (const s of [slot, rawSlot]) {
		await sql`select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = ${s} and not active`;
		await sql`select pg_create_logical_replication_slot(${s}, 'pgoutput')`;
	}
}

async function teardown() {
	await sql.unsafe(`drop table if exists public.${table}, public.rt_bench_members cascade`);
	for (let i = 0; i < 50; i++) {
		const rows =
			await sql`select slot_name, active from pg_replication_slots where slot_name in (${slot}, ${rawSlot})`;
		if (rows.length === 0) break;
		for (const r of rows) if (!r.active) await sql`select pg_drop_replication_slot(${r.slot_name})`;
		await sleep(100);
	}
}

let server: ChildProcess | null = null;
async function startServer() {
	// --profile DIR writes a V8 CPU profile of the server, to see where its time goes
	const prof = args.profile ? ['--cpu-prof', '--cpu-prof-dir', args.profile] : [];
	const child = spawn(
		process.execPath,
		[
			...prof,
			'--import',
			'tsx',
			join(projectRoot, 'stack/realtime/standalone.ts'),
			'--port',
			String(port),
			'--slot',
			slot
		],
		{
			cwd: projectRoot,
			env: process.env,
			stdio: ['ignore', 'pipe', 'inherit']
		}
	);
	server = child;
	port = await new Promise<number>((resolve, reject) => {
		child.stdout!.on('data', (d: Buffer) => {
			const m = /listening on (\d+)/.exec(d.toString());
			if (m) resolve(Number(m[1]));
		});
		child.once('exit', (code) => reject(new Error(`realtime server exited with ${code}`)));
	});
}

async function serverStats(): Promise<{ dispatchMs: number[] }> {
	return (await fetch(`http://127.0.0.1:${port}/stats`)).json() as Promise<{
		dispatchMs: number[];
	}>;
}

/** Resident memory of the server process, in bytes. */
function serverRss(): number {
	const status = readFileSync(`/proc/${server!.pid}/status`, 'utf8');
	return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

/**
 * CPU time (user + system) the server process has used so far, in ms: unlike latency, the
 * cost per change hardly moves when other work shares the machine.
 */
function serverCpuMs(): number {
	const fields = readFileSync(`/proc/${server!.pid}/stat`, 'utf8').split(') ')[1].split(' ');
	return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks at 100 Hz
}

async function subscribers(n: number): Promise<Subscriber[]> {
	const users = Array.from({ length: n }, (_, i) => ({ user: randomUUID(), org: i % ORGS }));
	await sql`insert into public.rt_bench_members ${sql(users.map((u) => ({ user_id: u.user, org_id: u.org })))}`;
	const out: Subscriber[] = [];
	for (let i = 0; i < n; i += 100) {
		const slice = users.slice(i, i + 100);
		out.push(
			...(await Promise.all(
				slice.map((u, j) =>
					i + j < JS_CLIENTS
						? jsSubscriber(port, table, u.user, u.org)
						: rawSubscriber(port, table, u.user, u.org)
				)
			))
		);
	}
	return out;
}

/** Inserts `rate` single-row transactions per second for `ms`; returns rows per org. */
async function load(rate: number, ms: number): Promise<number[]> {
	const perOrg = new Array(ORGS).fill(0);
	const tickMs = 10;
	const perTick = rate / (1000 / tickMs);
	const start = performance.now();
	let due = 0;
	let sent = 0;
	const inflight = new Set<Promise<unknown>>();
	while (performance.now() - start < ms) {
		due += perTick;
		while (sent < Math.floor(due)) {
			const org = sent % ORGS;
			perOrg[org]++;
			sent++;
			const p: Promise<unknown> =
				sql`insert into public.rt_bench_events (org_id, body) values (${org}, 'x')`.then(() =>
					inflight.delete(p)
				);
			inflight.add(p);
		}
		const next = start + (sent / rate) * 1000;
		await sleep(Math.max(0, Math.min(tickMs, next - performance.now())));
	}
	await Promise.all(inflight);
	return perOrg;
}

/** Raw pgoutput stream on its own slot: commit-to-receive latency without any of the service. */
function rawReference() {
	const latencies: number[] = [];
	const stream = new ReplicationStream({
		dbUrl: config.db.url,
		slot: rawSlot,
		publication: 'supabase_realtime',
		onChunk: (chunk) => {
			if (chunk.endLsn === null) return;
			const end = chunk.endLsn;
			latencies.push(Date.now() - chunk.commitTime.getTime());
			setImmediate(() => stream.confirm(end, 1));
		},
		log
	});
	return { stream, latencies };
}

async function phase(subs: Subscriber[], rate: number, ms: number, raw: number[]) {
	for (const s of subs) {
		s.received = 0;
		s.latencies = [];
	}
	raw.length = 0;
	await serverStats();
	const cpuBefore = serverCpuMs();
	const perOrg = await load(rate, ms);
	const expected = subs.reduce((n, s) => n + perOrg[s.org], 0);
	// let the tail drain, bounded
	const deadline = Date.now() + 5000;
	while (subs.reduce((n, s) => n + s.received, 0) < expected && Date.now() < deadline)
		await sleep(50);
	const received = subs.reduce((n, s) => n + s.received, 0);
	const changes = perOrg.reduce((a, b) => a + b, 0);
	const cpuMs = serverCpuMs() - cpuBefore;
	return {
		subscribers: subs.length,
		changes_per_s: rate,
		changes,
		deliveries_expected: expected,
		events_lost: Math.max(0, expected - received),
		latency_ms: summary(subs.flatMap((s) => s.latencies)),
		raw_replication_latency_ms: summary([...raw]),
		// from arrival off the slot to frames handed to the sockets, measured inside the server
		server_dispatch_ms: summary((await serverStats()).dispatchMs.map((x) => Math.round(x))),
		server_cpu_ms_per_change: Math.round((cpuMs / changes) * 1000) / 1000,
		server_cpu_ms_per_delivery: Math.round((cpuMs / Math.max(1, received)) * 10000) / 10000
	};
}

async function idleMemory(n: number) {
	// a fresh server, so the baseline is not inflated by garbage from the load phases
	server?.kill('SIGTERM');
	await new Promise((r) => server!.once('exit', r));
	await startServer();
	await sleep(1000);
	const before = serverRss();
	const token = await tokenFor(randomUUID());
	const sockets: WebSocket[] = [];
	for (let i = 0; i < n; i += 500) {
		await Promise.all(
			Array.from({ length: Math.min(500, n - i) }, async (_, j) => {
				const ws = new WebSocket(wsUrl(port), { perMessageDeflate: false });
				sockets.push(ws);
				await new Promise(
					(resolve, reject) => (ws.once('open', resolve), ws.once('error', reject))
				);
				await new Promise<void>((resolve) => {
					ws.once('message', () => resolve());
					ws.send(
						JSON.stringify([
							'1',
							'1',
							`realtime:idle-${(i + j) % 100}`,
							'phx_join',
							{ config: {}, access_token: token }
						])
					);
				});
			})
		);
	}
	await sleep(1500);
	const after = serverRss();
	for (const ws of sockets) ws.terminate();
	return {
		connections: n,
		server_rss_before_mb: +(before / 2 ** 20).toFixed(1),
		server_rss_after_mb: +(after / 2 ** 20).toFixed(1),
		bytes_per_idle_connection: Math.round((after - before) / n)
	};
}

async function main() {
	await setup();
	await startServer();
	const ref = rawReference();
	await ref.stream.start();
	const os = await import('node:os');
	// the machine is shared: the load average says how much of it the figures had
	const results: Record<string, unknown> = {
		machine: {
			cores: os.cpus().length,
			load_average_at_start: os.loadavg().map((x) => +x.toFixed(2))
		},
		quick
	};
	try {
		log('phase: 100 subscribers at 100 changes/s');
		let subs = await subscribers(100);
		// warm-up, not reported: JIT, plan caches and the generated RLS function
		await phase(subs, 100, 1500, ref.latencies);
		results.at_100_changes_per_s_100_subscribers = await phase(subs, 100, PHASE_MS, ref.latencies);
		log('phase: 1,000 subscribers at 100 changes/s');
		subs.push(...(await subscribers(900)));
		results.at_100_changes_per_s_1000_subscribers = await phase(subs, 100, PHASE_MS, ref.latencies);
		for (const s of subs.slice(500)) s.close();
		subs = subs.slice(0, 500);
		await sleep(500);
		log('phase: 500 subscribers, rising rate until p95 >= 250 ms');
		const steps = [];
		let best = 0;
		for (const rate of [100, 250, 500, 750, 1000, 1500, 2000, 3000]) {
			const r = await phase(subs, rate, RAMP_STEP_MS, ref.latencies);
			steps.push({
				changes_per_s: rate,
				p95_ms: r.latency_ms.p95,
				raw_p95_ms: r.raw_replication_latency_ms.p95,
				events_lost: r.events_lost
			});
			log(`  ${rate}/s: p95 ${r.latency_ms.p95} ms, lost ${r.events_lost}`);
			if (r.latency_ms.p95 === null || r.latency_ms.p95 >= 250 || r.events_lost > 0) break;
			best = rate;
		}
		results.max_changes_per_s_p95_under_250ms_500_subscribers = { value: best, steps };
		for (const s of subs) s.close();
		await sleep(1000);
		log(`phase: ${IDLE_CONNECTIONS} idle connections`);
		results.idle_memory = await idleMemory(IDLE_CONNECTIONS);
		const phases = [
			results.at_100_changes_per_s_100_subscribers,
			results.at_100_changes_per_s_1000_subscribers
		] as {
			events_lost: number;
			latency_ms: { p95: number | null };
			raw_replication_latency_ms: { p95: number | null };
		}[];
		results.events_lost_total =
			phases.reduce((n, p) => n + p.events_lost, 0) + steps.reduce((n, s) => n + s.events_lost, 0);
		results.ratio_p95_vs_raw_replication = phases.map((p) =>
			p.latency_ms.p95 !== null && p.raw_replication_latency_ms.p95
				? +(p.latency_ms.p95 / Math.max(1, p.raw_replication_latency_ms.p95)).toFixed(2)
				: null
		);
		results.targets = {
			p95_le_50ms_at_100_per_s_100_subs: (phases[0].latency_ms.p95 ?? Infinity) <= 50,
			ge_500_changes_per_s_under_250ms_500_subs: best >= 500,
			le_50kb_per_idle_connection:
				(results.idle_memory as { bytes_per_idle_connection: number }).bytes_per_idle_connection <=
				50 * 1024,
			zero_events_lost: results.events_lost_total === 0
		};
	} finally {
		await ref.stream.close();
		server?.kill('SIGTERM');
		await sleep(500);
		server?.kill('SIGKILL');
		await teardown().catch((e) => log(`teardown: ${e.message}`));
		await sql.end();
	}
	(results.machine as Record<string, unknown>).load_average_at_end = (await import('node:os'))
		.loadavg()
		.map((x) => +x.toFixed(2));
	console.log(JSON.stringify(results, null, 2));
	process.exit(0);
}

main().catch((e) => {
	console.error(e);
	server?.kill('SIGKILL');
	process.exit(1);
});

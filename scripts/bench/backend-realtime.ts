// Realtime with a huge transaction (issue 14, item 6): one committed transaction of 1M rows on
// a table in publication supabase_realtime, streamed by the realtime server (standalone, on its
// own slot) to a subscriber RLS allows (it must get every row, in commit order) and one it does
// not (it must get none). Figures: rows delivered, ms from commit to the last row, rows/s, the
// server's resident size before / peak / after (sampled from /proc), whether the slot was
// confirmed before the last row went out; references measured in the same run: the time
// Postgres took to commit the transaction and to decode it (pgoutput, scratch slot, peek).
//
//   npx tsx scripts/bench/backend-realtime.ts        (BENCH_REALTIME_ROWS, default 1000000)
// or, from another benchmark: `await runHugeTransactionBench({ rows })` (see the contract).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import postgres from 'postgres';
import WebSocket from 'ws';
import { config, projectRoot } from '../../stack/config.ts';
import { signLegacy } from '../../stack/jwt.ts';

export interface HugeTransactionOptions {
	/** rows in the transaction (1,000,000) */
	rows?: number;
	/** progress lines (stderr by default) */
	log?: (msg: string) => void;
}

const table = 'rt_huge_bench';
const members = 'rt_huge_bench_members';
const slot = 'realtime_huge_bench';
const scratchSlot = 'realtime_huge_bench_scratch';
const [allowedOrg, otherOrg] = [1, 2];
const allowedUser = '0e000000-0000-4000-8000-00000000a11e';
const otherUser = '0e000000-0000-4000-8000-0000000000be';
const RSS_GROWTH_TARGET_MB = 64;

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU time (user + system) a process has used so far, in ms (clock ticks at 100 Hz). */
function cpuMsOf(pid: number): number {
	const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
	return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** Resident size of a process, in bytes. */
function rssOf(pid: number): number {
	const status = readFileSync(`/proc/${pid}/status`, 'utf8');
	return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

async function startServer(): Promise<{ child: ChildProcess; port: number }> {
	const child = spawn(
		process.execPath,
		[
			// BENCH_REALTIME_PROFILE=DIR writes a V8 CPU profile of the server, to see where its time goes
			...(process.env.BENCH_REALTIME_PROFILE
				? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_REALTIME_PROFILE]
				: []),
			'--import',
			'tsx',
			join(projectRoot, 'stack/realtime/standalone.ts'),
			'--port',
			'0',
			'--slot',
			slot
		],
		{ cwd: projectRoot, env: process.env, stdio: ['ignore', 'pipe', 'inherit'] }
	);
	const port = await new Promise<number>((resolve, reject) => {
		child.stdout!.on('data', (d: Buffer) => {
			const m = /listening on (\d+)/.exec(d.toString());
			if (m) resolve(Number(m[1]));
		});
		child.once('exit', (code) => reject(new Error(`realtime server exited with ${code}`)));
	});
	return { child, port };
}

/**
 * A Phoenix client that keeps up: it reads only the `seq` of each change (a full parse per
 * message would make this process the bottleneck), counts them and checks their order.
 */
async function subscriber(port: number, user: string) {
	const ws = new WebSocket(
		`ws://127.0.0.1:${port}/realtime/v1/websocket?apikey=${config.keys.anon}&vsn=2.0.0`,
		{ perMessageDeflate: false, skipUTF8Validation: true }
	);
	const state = { received: 0, lastSeq: 0, outOfOrder: 0, lastAt: 0, closed: '' };
	await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
	ws.on('close', (code, reason) => (state.closed = `${code} ${reason.toString()}`));
	const joined = new Promise<void>((resolve, reject) => {
		ws.on('message', (d: Buffer) => {
			const at = d.indexOf('"seq":');
			if (at >= 0) {
				let seq = 0;
				for (let i = at + 6; d[i] >= 48 && d[i] <= 57; i++) seq = seq * 10 + d[i] - 48;
				if (seq <= state.lastSeq) state.outOfOrder++;
				state.lastSeq = seq;
				state.received++;
				state.lastAt = performance.now();
				return;
			}
			const [, , , event, payload] = JSON.parse(d.toString()) as [
				unknown,
				unknown,
				unknown,
				string,
				{ status?: string }
			];
			if (event === 'phx_reply' && payload.status === 'ok') resolve();
			else if (event === 'phx_reply') reject(new Error(JSON.stringify(payload)));
		});
	});
	const token = await signLegacy({
		role: 'authenticated',
		aud: 'authenticated',
		sub: user,
		exp: Math.floor(Date.now() / 1000) + 3600
	});
	ws.send(
		JSON.stringify([
			'1',
			'1',
			'realtime:huge',
			'phx_join',
			{
				config: { postgres_changes: [{ event: 'INSERT', schema: 'public', table }] },
				access_token: token
			}
		])
	);
	await joined;
	// the server closes sockets that send nothing for 60 s; the stream may last longer
	const beat = setInterval(
		() => ws.send(JSON.stringify([null, 'hb', 'phoenix', 'heartbeat', {}])),
		20_000
	);
	return { state, close: () => (clearInterval(beat), ws.terminate()) };
}

/** One transaction of `n` rows for the allowed organization; `seq` counts on from `from`. */
function insertRows(sql: postgres.Sql, from: number, n: number, org = allowedOrg) {
	// ~120 characters of text per row, about what a chat message carries
	return sql`insert into public.rt_huge_bench (org_id, seq, body)
		select ${org}, g, 'message ' || g || ' ' || repeat(md5(g::text), 3)
		from generate_series(${from}::int, ${from + n - 1}::int) g`;
}

async function slotConfirmed(sql: postgres.Sql, lsn: string): Promise<boolean> {
	const [s] = await sql`select confirmed_flush_lsn >= ${lsn}::pg_lsn as past
		from pg_replication_slots where slot_name = ${slot}`;
	return Boolean(s?.past);
}

interface ServerStats {
	/** change frames handed to sockets so far */
	frames: number;
	/** time spent in RLS checks so far; readers waited for */
	rlsMs: number;
	waitedMs: number;
	memory: NodeJS.MemoryUsage;
}

async function serverStats(port: number): Promise<ServerStats> {
	return (await (await fetch(`http://127.0.0.1:${port}/stats`)).json()) as ServerStats;
}

async function dropSlots(sql: postgres.Sql) {
	for (let i = 0; i < 100; i++) {
		const rows = await sql`select slot_name, active from pg_replication_slots
			where slot_name in (${slot}, ${scratchSlot})`;
		if (rows.length === 0) return;
		for (const r of rows) if (!r.active) await sql`select pg_drop_replication_slot(${r.slot_name})`;
		await sleep(100);
	}
}

export async function runHugeTransactionBench(options: HugeTransactionOptions = {}) {
	const rows = options.rows ?? 1_000_000;
	const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
	const sql = postgres(config.db.url, { max: 2, onnotice: () => {} });
	let server: ChildProcess | null = null;
	const closers: (() => void)[] = [];
	const loadAtStart = loadavg().map((x) => Math.round(x * 100) / 100);
	try {
		await dropSlots(sql);
		await sql.unsafe(`
			drop table if exists public.${table}, public.${members} cascade;
			create table public.${members} (user_id uuid primary key, org_id int not null);
			create table public.${table} (
				id bigint generated always as identity primary key,
				org_id int not null,
				seq int not null,
				body text not null,
				sent_at timestamptz not null default now()
			);
			alter table public.${table} enable row level security;
			create policy "Huge bench rows are visible to members of their organization"
				on public.${table} for select to authenticated
				using (org_id in (select m.org_id from public.${members} m where m.user_id = (select auth.uid())));
			grant select on public.${table}, public.${members} to authenticated;
			alter publication supabase_realtime add table public.${table};
		`);
		await sql`insert into public.rt_huge_bench_members (user_id, org_id)
			values (${allowedUser}, ${allowedOrg}), (${otherUser}, ${otherOrg})`;
		await sql`select pg_create_logical_replication_slot(${slot}, 'pgoutput')`;

		const started = await startServer();
		server = started.child;
		const pid = server.pid!;
		const allowed = await subscriber(started.port, allowedUser);
		const other = await subscriber(started.port, otherUser);
		closers.push(allowed.close, other.close);

		// warm-up: code paths compiled and pools open, so "before" is the server at work
		const warm = 20_000;
		await insertRows(sql, 1, warm);
		while (allowed.state.received < warm && !allowed.state.closed) await sleep(50);
		await sleep(500);
		allowed.state.lastSeq = warm;
		allowed.state.received = 0;
		const rssBefore = rssOf(pid);
		const statsBefore = await serverStats(started.port);
		const cpuBefore = cpuMsOf(pid);

		// the reference decoding: a scratch slot that sees the same transaction
		await sql`select pg_create_logical_replication_slot(${scratchSlot}, 'pgoutput')`;
		log(`realtime: committing ${rows} rows in one transaction`);
		let peak = rssBefore;
		let confirmedEarly = false;
		let end = '';
		const sampler = setInterval(() => {
			peak = Math.max(peak, rssOf(pid));
		}, 50);
		closers.push(() => clearInterval(sampler));
		const t0 = performance.now();
		await insertRows(sql, warm + 1, rows);
		const commitMs = performance.now() - t0;
		const [{ lsn }] = await sql`select pg_current_wal_lsn()::text as lsn`;
		end = lsn as string;
		// The slot must not pass the transaction before the server handed out its last row: read
		// after the slot, a frame count short of the total proves it did.
		const heap = { used: 0, total: 0, external: 0 };
		while (allowed.state.received < rows && !allowed.state.closed) {
			const confirmed = await slotConfirmed(sql, end);
			const stats = await serverStats(started.port);
			if (confirmed && stats.frames < warm + rows) confirmedEarly = true;
			heap.used = Math.max(heap.used, stats.memory.heapUsed);
			heap.total = Math.max(heap.total, stats.memory.heapTotal);
			heap.external = Math.max(heap.external, stats.memory.external);
			await sleep(200);
		}
		const deliveredMs = allowed.state.lastAt - t0 - commitMs;
		const statsAfter = await serverStats(started.port);
		const cpuMs = cpuMsOf(pid) - cpuBefore;
		clearInterval(sampler);
		peak = Math.max(peak, rssOf(pid));
		let confirmedAfter = false;
		for (let i = 0; i < 100 && !confirmedAfter; i++) {
			confirmedAfter = await slotConfirmed(sql, end);
			if (!confirmedAfter) await sleep(100);
		}
		// a row for the other organization after the transaction: once it is there, the other
		// subscriber has seen everything before it that RLS would have let through
		await insertRows(sql, warm + rows + 1, 1, otherOrg);
		const marker = warm + rows + 1;
		for (let i = 0; i < 300 && other.state.lastSeq !== marker; i++) await sleep(100);
		const refusedGot = other.state.received - (other.state.lastSeq === marker ? 1 : 0);
		const rssAfter = rssOf(pid);

		log('realtime: decoding the same transaction with pg_logical_slot_peek_binary_changes');
		const d0 = performance.now();
		const [{ n: decoded }] = await sql`select count(*)::int as n from
			pg_logical_slot_peek_binary_changes(${scratchSlot}, null, null,
				'proto_version', '1', 'publication_names', 'supabase_realtime')`;
		const decodeMs = performance.now() - d0;

		const delivered = allowed.state.received;
		const growth = peak - rssBefore;
		return {
			rows,
			delivered,
			lost: rows - delivered,
			out_of_order: allowed.state.outOfOrder,
			delivered_to_subscriber_rls_refuses: refusedGot,
			slow_client_disconnect: allowed.state.closed || null,
			ms: Math.round(deliveredMs),
			rows_per_s: Math.round(delivered / (deliveredMs / 1000)),
			gateway_rss_mb: {
				before: mb(rssBefore),
				peak: mb(peak),
				after: mb(rssAfter),
				growth: mb(growth)
			},
			// where the resident size goes (peaks of the server's samples, every 200 ms)
			gateway_heap_peak_mb: {
				used: mb(heap.used),
				total: mb(heap.total),
				external: mb(heap.external)
			},
			// where the server's time went while streaming
			server_ms: {
				cpu: Math.round(cpuMs),
				rls_checks: Math.round(statsAfter.rlsMs - statsBefore.rlsMs),
				waiting_for_readers: Math.round(statsAfter.waitedMs - statsBefore.waitedMs)
			},
			slot_confirmed_before_last_row: confirmedEarly,
			slot_confirmed_after_last_row: confirmedAfter,
			reference: {
				postgres_commit_ms: Math.round(commitMs),
				postgres_decode_ms: Math.round(decodeMs),
				decoded_messages: decoded
			},
			ratio_delivery_to_decode: Math.round((deliveredMs / decodeMs) * 100) / 100,
			targets: {
				rss_growth_le_64_mb: growth <= RSS_GROWTH_TARGET_MB * 1024 * 1024,
				nothing_lost: delivered === rows,
				commit_order_kept: allowed.state.outOfOrder === 0,
				none_to_refused_subscriber: refusedGot === 0 && other.state.lastSeq === marker,
				confirmed_only_after_last_row: !confirmedEarly && confirmedAfter
			},
			load_average: {
				at_start: loadAtStart,
				at_end: loadavg().map((x) => Math.round(x * 100) / 100)
			}
		};
	} finally {
		for (const close of closers) close();
		if (server) {
			server.kill('SIGTERM');
			await new Promise((r) => (server!.exitCode !== null ? r(null) : server!.once('exit', r)));
		}
		await dropSlots(sql);
		await sql.unsafe(`drop table if exists public.${table}, public.${members} cascade`);
		await sql.end();
	}
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
	const rows = Number(process.env.BENCH_REALTIME_ROWS ?? 1_000_000);
	const figures = await runHugeTransactionBench({ rows });
	console.log(JSON.stringify({ realtime_huge_transaction: figures }, null, 2));
}

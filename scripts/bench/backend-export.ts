// Export throughput of the export-csv Edge Function beside Postgres COPY of the same rows in the
// same run, its first byte, and the memory its process adds. Part of scripts/bench/backend-io.ts.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { config, projectRoot } from '../../stack/config.ts';
import { round, seconds, type Sql } from './backend-common.ts';

/** Makes (or finds from an earlier run) a bot with `rows` messages for the export. */
async function exportFixture(sql: Sql, organizationId: string, rows: number) {
	const name = `Benchmark export ${rows}`;
	const [existing] =
		await sql`select b.id, (select count(*) from public.messages m where m.bot_id = b.id)::int as n
		from public.bots b where b.organization_id = ${organizationId} and b.name = ${name}`;
	if (existing?.n === rows) return existing.id as string;
	if (existing) await sql`delete from public.bots where id = ${existing.id}`;
	const [bot] =
		await sql`insert into public.bots (organization_id, name) values (${organizationId}, ${name}) returning id`;
	const perConversation = 20;
	await sql`insert into public.conversations (bot_id, external_id, channel, started_at, status)
		select ${bot.id}, 'c' || g, (case when g % 3 = 0 then 'whatsapp' else 'web' end)::public.channel,
			now() - interval '2 days' + g * interval '1 second', 'completed'
		from generate_series(0, ${Math.ceil(rows / perConversation) - 1}) g`;
	await sql`insert into public.messages (bot_id, conversation_id, external_id, role, content, sent_at,
			response_time_ms, success, intent, model, tokens_in, tokens_out, cost_usd)
		select ${bot.id}, c.id, 'm' || g, (case when g % 2 = 0 then 'user' else 'bot' end)::public.message_role,
			'Message ' || g || ': where is my "parcel", please? order #' || (g % 9973),
			c.started_at + (g % ${perConversation}) * interval '1 second',
			case when g % 2 = 1 then 200 + g % 1500 end, case when g % 2 = 1 then g % 50 <> 0 end,
			'order_status', 'gpt-4o-mini', 40, 25, 0.00035
		from generate_series(0, ${rows - 1}) g
		join public.conversations c on c.bot_id = ${bot.id} and c.external_id = 'c' || (g / ${perConversation})`;
	// Sets hint bits and the visibility map now, so the first timed read does not pay for them.
	await sql`vacuum (analyze) public.messages, public.conversations`;
	return bot.id as string;
}

/** The Deno process serving a function under the local host (found by its env), if any. */
function functionPid(name: string): number | null {
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			if (!readlinkSync(`/proc/${entry}/exe`).includes('deno')) continue;
			const environ = readFileSync(`/proc/${entry}/environ`, 'utf8');
			if (environ.split('\0').includes(`STACK_FUNCTION_NAME=${name}`)) return Number(entry);
		} catch {
			// processes come and go while we look
		}
	}
	return null;
}

function rssMb(pid: number | null): number | null {
	if (pid === null) return null;
	try {
		const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
		return m ? Number(m[1]) / 1024 : null;
	} catch {
		return null;
	}
}

async function drain(body: ReadableStream<Uint8Array>, onFirst: () => void) {
	let bytes = 0;
	let lines = 0;
	for await (const chunk of body) {
		if (bytes === 0) onFirst();
		bytes += chunk.byteLength;
		// Native search: a byte-by-byte loop here would make this client, not the export, the
		// bottleneck (the COPY reference's reader counts nothing).
		for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) lines++;
	}
	return { bytes, lines };
}

function peakRssMb(pid: number): number | null {
	try {
		const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
		return m ? Number(m[1]) / 1024 : null;
	} catch {
		return null;
	}
}

/** Downloads one export, sampling the serving Deno process' memory while it runs. */
async function measureExport(url: string, token: string, pid: number | null, rows: number) {
	const rssBefore = rssMb(pid);
	let peak = rssBefore ?? 0;
	const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid) ?? 0)), 10);
	const start = process.hrtime.bigint();
	let ttfb = 0;
	const res = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
	if (res.status !== 200) throw new Error(`export answered ${res.status}: ${await res.text()}`);
	const fn = await drain(res.body!, () => (ttfb = seconds(start)));
	const total = seconds(start);
	clearInterval(sampler);
	peak = Math.max(peak, rssMb(pid) ?? 0);
	const exported = fn.lines - 1; // header
	if (exported < rows) throw new Error(`export wrote ${exported} rows, expected ${rows}`);
	return {
		rows: exported,
		bytes: fn.bytes,
		seconds: round(total, 2),
		rows_per_s: round(exported / total),
		ttfb_ms: round(ttfb * 1000, 1),
		rss_before_mb: rssBefore === null ? null : round(rssBefore, 1),
		peak_rss_mb: pid === null ? null : round(peak, 1),
		// What the export itself added to the function's resident size (target: at most 16 MB).
		rss_growth_mb: rssBefore === null ? null : round(peak - rssBefore, 1)
	};
}

/** The export function in a Deno process of our own, so its memory is its alone to measure. */
async function startOwnDeno(): Promise<{ url: string; pid: number; stop: () => void }> {
	const functionsDir = join(projectRoot, 'supabase', 'functions');
	const child = spawn(
		join(projectRoot, 'node_modules', '.bin', 'deno'),
		[
			'run',
			'--allow-all',
			'--no-prompt',
			// The same V8 limits the functions host gives every function (stack/functions/worker.ts).
			'--v8-flags=--max-old-space-size=256,--max-semi-space-size=2',
			'--config',
			join(functionsDir, 'deno.json'),
			join(functionsDir, 'export-csv', 'index.ts')
		],
		{
			cwd: functionsDir,
			stdio: ['ignore', 'pipe', 'pipe'],
			env: {
				PATH: process.env.PATH,
				HOME: process.env.HOME,
				DENO_NO_UPDATE_CHECK: '1',
				NO_COLOR: '1',
				// Port 0: the system picks a free one, which Deno prints when it listens.
				DENO_SERVE_ADDRESS: 'tcp:127.0.0.1:0',
				SUPABASE_URL: config.api.url,
				SUPABASE_ANON_KEY: config.keys.anon,
				SUPABASE_SERVICE_ROLE_KEY: config.keys.serviceRole,
				SUPABASE_DB_URL: config.db.url
			}
		}
	);
	let output = '';
	const url = await new Promise<string>((resolve, reject) => {
		const timer = setTimeout(
			() => reject(new Error(`export function did not start: ${output}`)),
			60_000
		);
		const onData = (chunk: Buffer) => {
			output += chunk.toString();
			const m = /Listening on (http:\/\/[^\s/]+)/.exec(output);
			if (m) {
				clearTimeout(timer);
				resolve(m[1]);
			}
		};
		child.stdout!.on('data', onData);
		child.stderr!.on('data', onData);
		child.once('exit', (code) => reject(new Error(`export function exited (${code}): ${output}`)));
	}).catch((err) => {
		child.kill();
		throw err;
	});
	return { url, pid: child.pid!, stop: () => child.kill() };
}

/**
 * The reference: COPY of the same rows and columns straight from Postgres, as superuser, in
 * the export's order.
 */
async function copyReference(sql: Sql, botId: string) {
	let ttfb = 0;
	const start = process.hrtime.bigint();
	const readable = await sql
		.unsafe(
			`copy (
		select c.external_id, m.external_id, m.role, m.content, m.sent_at, m.response_time_ms, m.success,
			m.error_code, m.intent, m.model, m.tokens_in, m.tokens_out, m.cost_usd
		from public.messages m join public.conversations c on c.id = m.conversation_id
		where m.bot_id = '${botId}' order by m.sent_at, m.id) to stdout (format csv, header true)`
		)
		.readable();
	let bytes = 0;
	await pipeline(
		readable,
		new Writable({
			write(chunk: Buffer, _enc, done) {
				if (bytes === 0) ttfb = seconds(start);
				bytes += chunk.length;
				done();
			}
		})
	);
	return { seconds: seconds(start), ttfb, bytes };
}

export async function benchExport(
	sql: Sql,
	user: { token: string; organizationId: string },
	rows: number
) {
	const botId = await exportFixture(sql, user.organizationId, rows);
	// Read the rows once so every measurement below starts with them cached; otherwise the
	// first one measured (the gateway) pays the disk reads the others then skip.
	await sql`select count(*), sum(length(m.content))
		from public.messages m join public.conversations c on c.id = m.conversation_id
		where m.bot_id = ${botId}`;
	const params = new URLSearchParams({
		bot: botId,
		kind: 'messages',
		from: new Date(Date.now() - 7 * 86_400_000).toISOString(),
		to: new Date().toISOString()
	});
	const headers = { Authorization: `Bearer ${user.token}` };
	// Warm-up: a real export of the bot's first hour (~72,000 rows), so the code paths of a
	// download are compiled and the heap has its working size before the measured one: growth
	// then shows whether memory follows the number of rows (it must not: the rows stream).
	const [{ first }] =
		await sql`select min(sent_at) as first from public.messages where bot_id = ${botId}`;
	const warmUp = new URLSearchParams({
		bot: botId,
		kind: 'messages',
		from: new Date(first).toISOString(),
		to: new Date(new Date(first).getTime() + 60 * 60_000).toISOString()
	});
	const before = await copyReference(sql, botId);

	// Through the gateway and the functions host, as the dashboard downloads it. The warm-up
	// first (a cold start is not what this measures).
	const gatewayUrl = `${config.api.url}/functions/v1/export-csv`;
	await (await fetch(`${gatewayUrl}?${warmUp}`, { headers })).arrayBuffer();
	const viaGateway = await measureExport(
		`${gatewayUrl}?${params}`,
		user.token,
		functionPid('export-csv'),
		rows
	);

	// The same function in a Deno process of its own: its throughput without the proxies, and
	// its peak memory (VmHWM) for the whole run, start-up included.
	const own = await startOwnDeno();
	let direct;
	try {
		await (await fetch(`${own.url}?${warmUp}`, { headers })).arrayBuffer();
		const idleHwm = peakRssMb(own.pid);
		direct = {
			...(await measureExport(`${own.url}?${params}`, user.token, own.pid, rows)),
			peak_rss_mb_hwm: peakRssMb(own.pid),
			idle_rss_mb_hwm: idleHwm
		};
	} finally {
		own.stop();
	}

	// The machine is shared: the reference runs before and after the exports, and the faster
	// run counts (the ratio errs against the export).
	const copyRuns = [before, await copyReference(sql, botId)];
	const best = copyRuns.reduce((a, b) => (b.seconds < a.seconds ? b : a));
	const copySeconds = best.seconds;
	const copyRowsPerS = viaGateway.rows / copySeconds;

	return {
		via_gateway: { ...viaGateway, ratio_vs_copy: round(viaGateway.rows_per_s / copyRowsPerS, 3) },
		direct_deno: { ...direct, ratio_vs_copy: round(direct.rows_per_s / copyRowsPerS, 3) },
		copy: {
			seconds: round(copySeconds, 2),
			rows_per_s: round(copyRowsPerS),
			ttfb_ms: round(best.ttfb * 1000, 1),
			bytes: best.bytes,
			runs_seconds: copyRuns.map((r) => round(r.seconds, 2))
		},
		targets: { ratio_vs_copy: 0.5, ttfb_ms: 200, rss_growth_mb: 16, peak_rss_mb: 150 }
	};
}

// Alone, for iteration: `npx tsx scripts/bench/backend-export.ts` (BENCH_EXPORT_ROWS, default
// 1,000,000; the bench bot is kept and reused by the next run of the same size).
if (import.meta.url === `file://${process.argv[1]}`) {
	const { default: postgres } = await import('postgres');
	const { fixture } = await import('./backend-common.ts');
	const { loadavg } = await import('node:os');
	const sql = postgres(config.db.url, { max: 4, onnotice: () => {} });
	try {
		const load = () => loadavg().map((l) => round(l, 2));
		const loadStart = load();
		const user = await fixture(sql, 'backend-io');
		const figures = await benchExport(
			sql,
			user,
			Number(process.env.BENCH_EXPORT_ROWS ?? 1_000_000)
		);
		console.log(
			JSON.stringify({ export: figures, load_start: loadStart, load_end: load() }, null, 2)
		);
	} finally {
		await sql.end();
	}
}

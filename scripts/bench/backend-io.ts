// Ingest and export throughput of the Edge Functions, each beside Postgres COPY of the same rows
// measured in the same run (the physical reference). Called by scripts/bench/backend.ts; run
// alone with `npx tsx scripts/bench/backend-io.ts` against a running platform.
// BENCH_INGEST_EVENTS (default 50,000) and BENCH_EXPORT_ROWS (default 1,000,000) scale it down
// while developing; BENCH_KEEP=1 keeps the bench bots, and the export fixture is then reused by
// the next run of the same size.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createClient } from '@supabase/supabase-js';
import postgres from 'postgres';
import WebSocket from 'ws';
import { config, projectRoot } from '../../stack/config.ts';

const batchSize = 500;
const ingestConcurrency = 4;

type Sql = postgres.Sql;

const round = (n: number, digits = 0) => Number(n.toFixed(digits));
const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

/** A user with a bot in their personal organization; the user signs in for the export. */
async function fixture(sql: Sql, label: string) {
	const email = `bench-${label}@example.test`;
	const password = 'bench-password-42';
	const client = createClient(config.api.url, config.keys.anon, {
		auth: { persistSession: false, autoRefreshToken: false },
		// Node 20 has no global WebSocket, which realtime-js wants as soon as a client exists.
		realtime: { transport: WebSocket as unknown as typeof globalThis.WebSocket }
	});
	let auth = await client.auth.signInWithPassword({ email, password });
	if (auth.error) {
		const signUp = await client.auth.signUp({ email, password });
		if (signUp.error) throw new Error(`bench sign-up failed: ${signUp.error.message}`);
		auth = await client.auth.signInWithPassword({ email, password });
		if (auth.error) throw new Error(`bench sign-in failed: ${auth.error.message}`);
	}
	const userId = auth.data.user!.id;
	const [org] = await sql`select organization_id as id from public.organization_members
		where user_id = ${userId} and role = 'owner' order by created_at limit 1`;
	return {
		client,
		token: auth.data.session!.access_token,
		userId,
		organizationId: org.id as string
	};
}

async function newBot(sql: Sql, organizationId: string, name: string) {
	const key = `bf_live_${randomUUID().replaceAll('-', '')}${randomUUID().replaceAll('-', '')}`;
	const [bot] =
		await sql`insert into public.bots (organization_id, name) values (${organizationId}, ${name}) returning id`;
	await sql`insert into public.bot_api_keys (bot_id, name, key_prefix, key_hash)
		values (${bot.id}, 'bench', ${key.slice(0, 14)}, ${createHash('sha256').update(key).digest()})`;
	// The bench measures throughput, not the default rate limit.
	await sql`insert into private.ingest_rate_limits
			(bot_id, request_burst, requests_per_second, event_burst, events_per_second)
		values (${bot.id}, 1000000, 1000000, 1000000000, 1000000000)`;
	return { id: bot.id as string, key };
}

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

async function benchIngest(sql: Sql, organizationId: string, total: number) {
	const runId = randomUUID().slice(0, 8);
	const bot = await newBot(sql, organizationId, `Benchmark ingest ${runId}`);
	const all = events(total, runId);
	const batches: string[] = [];
	for (let i = 0; i < all.length; i += batchSize)
		batches.push(JSON.stringify({ events: all.slice(i, i + batchSize) }));

	let next = 0;
	let accepted = 0;
	const start = process.hrtime.bigint();
	await Promise.all(
		Array.from({ length: ingestConcurrency }, async () => {
			while (next < batches.length) {
				const body = batches[next++];
				const res = await fetch(`${config.api.url}/functions/v1/ingest`, {
					method: 'POST',
					headers: { Authorization: `Bearer ${bot.key}`, 'Content-Type': 'application/json' },
					body
				});
				const answer = await res.json();
				if (res.status !== 200)
					throw new Error(`ingest answered ${res.status}: ${JSON.stringify(answer)}`);
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
		target_ratio: 0.5
	};
}

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
		select ${bot.id}, 'c' || g, case when g % 3 = 0 then 'whatsapp' else 'web' end,
			now() - interval '2 days' + g * interval '1 second', 'completed'
		from generate_series(0, ${Math.ceil(rows / perConversation) - 1}) g`;
	await sql`insert into public.messages (bot_id, conversation_id, external_id, role, content, sent_at,
			response_time_ms, success, intent, model, tokens_in, tokens_out, cost_usd)
		select ${bot.id}, c.id, 'm' || g, case when g % 2 = 0 then 'user' else 'bot' end,
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
		for (let i = 0; i < chunk.length; i++) if (chunk[i] === 0x0a) lines++;
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
		peak_rss_mb: pid === null ? null : round(peak, 1)
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

async function benchExport(
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

	// Through the gateway and the functions host, as the dashboard downloads it. One call first
	// warms the function's process (a cold start is not what this measures).
	const gatewayUrl = `${config.api.url}/functions/v1/export-csv`;
	await (
		await fetch(`${gatewayUrl}?${params}`.replace(botId, randomUUID()), { headers })
	).arrayBuffer();
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
		await (
			await fetch(`${own.url}?${params}`.replace(botId, randomUUID()), { headers })
		).arrayBuffer();
		const idleHwm = peakRssMb(own.pid);
		direct = {
			...(await measureExport(`${own.url}?${params}`, user.token, own.pid, rows)),
			peak_rss_mb_hwm: peakRssMb(own.pid),
			idle_rss_mb_hwm: idleHwm
		};
	} finally {
		own.stop();
	}

	// The reference: COPY of the same rows and columns straight from Postgres, as superuser.
	let copyTtfb = 0;
	const copyStart = process.hrtime.bigint();
	const readable = await sql
		.unsafe(
			`copy (
		select c.external_id, m.external_id, m.role, m.content, m.sent_at, m.response_time_ms, m.success,
			m.error_code, m.intent, m.model, m.tokens_in, m.tokens_out, m.cost_usd
		from public.messages m join public.conversations c on c.id = m.conversation_id
		where m.bot_id = '${botId}' order by m.sent_at, m.id) to stdout (format csv, header true)`
		)
		.readable();
	let copyBytes = 0;
	await pipeline(
		readable,
		new Writable({
			write(chunk: Buffer, _enc, done) {
				if (copyBytes === 0) copyTtfb = seconds(copyStart);
				copyBytes += chunk.length;
				done();
			}
		})
	);
	const copySeconds = seconds(copyStart);
	const copyRowsPerS = viaGateway.rows / copySeconds;

	// A second reference: COPY of the read API's export function, the floor of what the Edge
	// Function (which reads through that function so cards and exports agree) can reach.
	const fnStart = process.hrtime.bigint();
	let fnTtfb = 0;
	let fnBytes = 0;
	const fnReadable = await sql
		.unsafe(
			`copy (select * from public.export_messages('${botId}'::uuid,
		now() - interval '7 days', now())) to stdout (format csv, header true)`
		)
		.readable();
	await pipeline(
		fnReadable,
		new Writable({
			write(chunk: Buffer, _enc, done) {
				if (fnBytes === 0) fnTtfb = seconds(fnStart);
				fnBytes += chunk.length;
				done();
			}
		})
	);
	const fnSeconds = seconds(fnStart);
	return {
		via_gateway: { ...viaGateway, ratio_vs_copy: round(viaGateway.rows_per_s / copyRowsPerS, 3) },
		direct_deno: { ...direct, ratio_vs_copy: round(direct.rows_per_s / copyRowsPerS, 3) },
		copy: {
			seconds: round(copySeconds, 2),
			rows_per_s: round(copyRowsPerS),
			ttfb_ms: round(copyTtfb * 1000, 1),
			bytes: copyBytes
		},
		copy_of_read_api_function: {
			seconds: round(fnSeconds, 2),
			rows_per_s: round(viaGateway.rows / fnSeconds),
			ttfb_ms: round(fnTtfb * 1000, 1),
			gateway_ratio: round(viaGateway.rows_per_s / (viaGateway.rows / fnSeconds), 3),
			direct_ratio: round(direct.rows_per_s / (viaGateway.rows / fnSeconds), 3)
		},
		targets: { ratio_vs_copy: 0.5, ttfb_ms: 200, peak_memory_mb: 64 }
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

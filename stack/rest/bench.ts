// REST benchmark (not a test): single-row reads/s and 20-row bulk inserts/s through the
// gateway, each against the same statement sent straight to Postgres in the same run.
// Usage: npx tsx stack/rest/bench.ts [--seconds 5] [--concurrency 8]   (platform running)
import { Agent, request } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { config, stateDir } from '../config.ts';
import { noDelayOption } from './clients.ts';
import { createRestService } from './index.ts';
import { benchWireBatch, type WireBatchFigures } from './wire-bench.ts';

export interface RestBenchFigures {
	seconds: number;
	concurrency: number;
	singleRowRead: Figure;
	bulkInsert20: Figure;
	/** The REST handler called in this process, without HTTP: what the service itself costs. */
	handlerOnlyRead: { perSec: number; cpuMsPerRequest: number };
	/** A request's settings + read as one batch (pg-wire) against postgres.js's four queries. */
	wireBatch: WireBatchFigures;
	gatewayRssMb: number | null;
}

interface Figure {
	restPerSec: number;
	directPerSec: number;
	ratio: number;
	target: number;
	/** Gateway CPU time per REST request: where the gap to direct goes. */
	gatewayCpuMsPerRequest: number | null;
}

const table = 'rest_bench_items';

/** The gateway's CPU time so far in ms (utime + stime from /proc, 100 ticks/s). */
function gatewayCpuMs(): number | null {
	try {
		const pid = readFileSync(join(stateDir, 'api.pid'), 'utf8').trim();
		const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
		return (Number(fields[11]) + Number(fields[12])) * 10;
	} catch {
		return null;
	}
}

/** Ops/s of a REST run with the gateway CPU it cost per request. */
async function measured(
	seconds: number,
	run: () => Promise<number>
): Promise<[number, number | null]> {
	const before = gatewayCpuMs();
	const perSec = await run();
	const after = gatewayCpuMs();
	const cpu =
		before === null || after === null ? null : +((after - before) / (perSec * seconds)).toFixed(3);
	return [perSec, cpu];
}

/** Runs `op` from `concurrency` loops for `seconds`; returns completed operations per second. */
async function rate(
	seconds: number,
	concurrency: number,
	op: (i: number) => Promise<void>
): Promise<number> {
	const end = Date.now() + seconds * 1000;
	let done = 0;
	await Promise.all(
		Array.from({ length: concurrency }, async (_, worker) => {
			let i = worker;
			while (Date.now() < end) {
				await op(i);
				i += concurrency;
				done++;
			}
		})
	);
	return done / seconds;
}

function gatewayRss(): number | null {
	try {
		const pid = readFileSync(join(stateDir, 'api.pid'), 'utf8').trim();
		const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
		return m ? Math.round(Number(m[1]) / 1024) : null;
	} catch {
		return null;
	}
}

/** Reads through createRestService() with stand-in req/res objects: no sockets on the HTTP side. */
async function inProcessReads(seconds: number, concurrency: number, key: string) {
	const handler = createRestService();
	const headers = { apikey: key, authorization: `Bearer ${key}`, accept: '*/*' };
	const call = (i: number) =>
		new Promise<void>((resolve, reject) => {
			let status = 0;
			const req = {
				method: 'GET',
				url: `/rest/v1/${table}?select=*&id=eq.${(i % 1000) + 1}`,
				headers
			};
			const res = {
				headersSent: false,
				writeHead(s: number) {
					status = s;
					return res;
				},
				end: () => (status < 300 ? resolve() : reject(new Error(`in-process read: ${status}`)))
			};
			handler.handle(req as never, res as never).catch(reject);
		});
	try {
		await rate(0.5, concurrency, call);
		const before = process.cpuUsage();
		const perSec = await rate(seconds, concurrency, call);
		const used = process.cpuUsage(before);
		const cpuMsPerRequest = +((used.user + used.system) / 1000 / (perSec * seconds)).toFixed(3);
		return { perSec: Math.round(perSec), cpuMsPerRequest };
	} finally {
		await handler.close();
	}
}

export async function benchRest(seconds = 5, concurrency = 8): Promise<RestBenchFigures> {
	const admin = postgres(config.db.url, { max: 1, onnotice: () => {} });
	// The physical reference: the same statements, prepared, straight to Postgres.
	const direct = postgres(config.db.url, {
		max: concurrency,
		...noDelayOption,
		onnotice: () => {}
	});
	const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
	const key = config.keys.serviceRole;
	const headers = { apikey: key, authorization: `Bearer ${key}` };

	function call(method: string, path: string, body?: string): Promise<void> {
		return new Promise((resolve, reject) => {
			const req = request(
				`${config.api.url}/rest/v1/${path}`,
				{
					method,
					agent,
					headers: body
						? { ...headers, 'content-type': 'application/json', prefer: 'return=minimal' }
						: headers
				},
				(res) => {
					res.resume();
					res.on('end', () =>
						res.statusCode! < 300
							? resolve()
							: reject(new Error(`${method} ${path}: ${res.statusCode}`))
					);
				}
			);
			req.on('error', reject);
			req.end(body);
		});
	}

	try {
		await admin.unsafe(`
			drop table if exists public.${table};
			create table public.${table} (id bigint generated by default as identity primary key, name text not null, n int, created_at timestamptz not null default now());
			insert into public.${table} (name, n) select 'item ' || g, g from generate_series(1, 1000) g;
			notify pgrst, 'reload schema';
		`);
		await new Promise((r) => setTimeout(r, 300));
		const rows = Array.from({ length: 20 }, (_, i) => ({ name: `bulk ${i}`, n: i }));
		const body = JSON.stringify(rows);

		// Warm both paths (prepared statements, connections, JWT cache).
		await rate(0.5, concurrency, (i) => call('GET', `${table}?select=*&id=eq.${(i % 1000) + 1}`));
		await rate(
			0.5,
			concurrency,
			async (i) =>
				void (await direct`select * from public.rest_bench_items where id = ${(i % 1000) + 1}`)
		);

		const directRead = await rate(seconds, concurrency, async (i) => {
			await direct`select * from public.rest_bench_items where id = ${(i % 1000) + 1}`;
		});
		const [restRead, readCpu] = await measured(seconds, () =>
			rate(seconds, concurrency, (i) => call('GET', `${table}?select=*&id=eq.${(i % 1000) + 1}`))
		);
		const directInsert = await rate(seconds, concurrency, async () => {
			await direct`insert into public.rest_bench_items ${direct(rows, 'name', 'n')}`;
		});
		const [restInsert, insertCpu] = await measured(seconds, () =>
			rate(seconds, concurrency, () => call('POST', table, body))
		);
		const handlerOnlyRead = await inProcessReads(seconds, concurrency, key);
		const wireBatch = await benchWireBatch(table, seconds, concurrency, rate);
		const rss = gatewayRss();
		const round = (x: number) => Math.round(x);
		return {
			seconds,
			concurrency,
			singleRowRead: {
				restPerSec: round(restRead),
				directPerSec: round(directRead),
				ratio: +(restRead / directRead).toFixed(2),
				target: 0.3,
				gatewayCpuMsPerRequest: readCpu
			},
			bulkInsert20: {
				restPerSec: round(restInsert),
				directPerSec: round(directInsert),
				ratio: +(restInsert / directInsert).toFixed(2),
				target: 0.6,
				gatewayCpuMsPerRequest: insertCpu
			},
			handlerOnlyRead,
			wireBatch,
			gatewayRssMb: rss
		};
	} finally {
		agent.destroy();
		await admin.unsafe(`drop table if exists public.${table}`).catch(() => {});
		await Promise.all([admin.end(), direct.end()]);
	}
}

if (import.meta.url === `file://${process.argv[1]}`) {
	const arg = (name: string, fallback: number) => {
		const i = process.argv.indexOf(`--${name}`);
		return i > 0 ? Number(process.argv[i + 1]) : fallback;
	};
	console.log(JSON.stringify(await benchRest(arg('seconds', 5), arg('concurrency', 8)), null, 2));
}

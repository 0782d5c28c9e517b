// What pg-wire.ts's one round trip is worth: the settings and a single-row read, as a request
// runs them, through `execute()` (one batch, one Sync) against the path it replaced, postgres.js
// pipelining begin, settings, statement and commit on a reserved connection. Same statements,
// same concurrency, same process; used by bench.ts.
import postgres from 'postgres';
import { config } from '../config.ts';
import { authenticator, noDelayOption, requestPool } from './clients.ts';
import { execute, settingsSql } from './execute.ts';
import type { SchemaCache } from './schema-cache.ts';

export interface WireBatchFigures {
	oneBatchPerSec: number;
	postgresJsPerSec: number;
	ratio: number;
	/** This process's CPU per request: the client side of each path. */
	oneBatchCpuMs: number;
	postgresJsCpuMs: number;
}

type Rate = (
	seconds: number,
	concurrency: number,
	op: (i: number) => Promise<void>
) => Promise<number>;

export async function benchWireBatch(
	table: string,
	seconds: number,
	concurrency: number,
	rate: Rate
): Promise<WireBatchFigures> {
	const statement =
		`select null::bigint as total, count(*)::int as page_total, coalesce(json_agg(_t), '[]')::text as body ` +
		`from (select _t0.* from public.${table} _t0 where _t0.id = $1::text::bigint) _t`;
	const role = 'service_role';
	const claims = JSON.stringify({ role });
	const headers = { accept: '*/*' };
	const request = {
		req: { method: 'GET', headers } as never,
		path: `/${table}`,
		schema: config.api.schemas[0],
		auth: { role, claims },
		cache: { roleTimeouts: new Map() } as unknown as SchemaCache
	};
	const settings = [role, claims, 'GET', `/${table}`, JSON.stringify(headers), '0', 'on', '{}'];
	const pool = requestPool();
	const js = postgres({
		host: '127.0.0.1',
		port: config.db.port,
		...noDelayOption,
		database: config.db.name,
		username: authenticator.user,
		password: authenticator.password,
		max: concurrency,
		onnotice: () => {}
	});
	const id = (i: number) => String((i % 1000) + 1);
	const oneBatch = async (i: number) => {
		await execute(pool, request, { sql: statement, params: [id(i)], readOnly: true });
	};
	const pipelined = async (i: number) => {
		const c = await js.reserve();
		try {
			await Promise.all([
				c.unsafe('begin isolation level read committed read only'),
				c.unsafe(settingsSql, settings, { prepare: true }),
				c.unsafe(statement, [id(i)], { prepare: true }),
				c.unsafe('commit')
			]);
		} finally {
			c.release();
		}
	};
	const measure = async (op: (i: number) => Promise<void>) => {
		await rate(0.5, concurrency, op);
		const before = process.cpuUsage();
		const perSec = await rate(seconds, concurrency, op);
		const used = process.cpuUsage(before);
		return { perSec, cpuMs: (used.user + used.system) / 1000 / (perSec * seconds) };
	};
	try {
		const a = await measure(oneBatch);
		const b = await measure(pipelined);
		return {
			oneBatchPerSec: Math.round(a.perSec),
			postgresJsPerSec: Math.round(b.perSec),
			ratio: +(a.perSec / b.perSec).toFixed(2),
			oneBatchCpuMs: +a.cpuMs.toFixed(3),
			postgresJsCpuMs: +b.cpuMs.toFixed(3)
		};
	} finally {
		await Promise.all([pool.end(), js.end({ timeout: 2 })]);
	}
}

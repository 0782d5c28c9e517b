// The PostgREST-compatible /rest/v1 service. Every request runs in one transaction that does
// what PostgREST does (role from the JWT, request.jwt.claims, request.method / path / headers,
// the role's statement_timeout), pipelined on one connection so a read costs one round trip.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import postgres from 'postgres';
import { config } from '../config.ts';
import { JwtError, verifyJwt } from '../jwt.ts';
import type { HttpService } from '../services-api.ts';
import { ApiError, fromPostgres } from './errors.ts';
import { DbError, WirePool, type Statement } from './pg-wire.ts';
import {
	key,
	loadSchemaCache,
	type DbFunction,
	type Relation,
	type SchemaCache
} from './schema-cache.ts';
import {
	parseFieldKey,
	parseFilter,
	parseLogic,
	parseOrder,
	parsePrefer,
	parseSelect,
	type SelectItem
} from './parse.ts';
import {
	Builder,
	Params,
	deleteSql,
	emptyLevel,
	functionCall,
	functionSource,
	insertSql,
	readSql,
	scalarCallSql,
	tableSource,
	updateSql,
	type BodyFormat,
	type Level,
	type Source
} from './build-sql.ts';

/** Hosted Supabase's gateway refuses bodies above this; so do we, before parsing. */
export const maxBodyBytes = 10 * 1024 * 1024;
const prefix = '/rest/v1';
const jsonType = 'application/json; charset=utf-8';
const objectType = 'application/vnd.pgrst.object+json; charset=utf-8';
const csvType = 'text/csv; charset=utf-8';

const settingsSql =
	`select set_config('role', $1::text, true), set_config('request.jwt.claims', $2::text, true), ` +
	`set_config('request.method', $3::text, true), set_config('request.path', $4::text, true), ` +
	`set_config('request.headers', $5::text, true), set_config('search_path', $6::text, true), ` +
	`set_config('statement_timeout', $7::text, true), set_config('transaction_read_only', $8::text, true)`;

interface Auth {
	role: string;
	claims: string;
}

interface Result {
	total: string | null;
	page_total: number;
	body: string | null;
}

interface Execution {
	sql: string;
	params: (string | number)[];
	readOnly: boolean;
	/** When set, commit only if it returns true (single-object writes, `tx=rollback`). */
	decide?: (r: Result) => boolean;
	/** `count=planned`: a statement whose plan's row estimate is the count. */
	explain?: { sql: string; params: (string | number)[] };
}

/** What the response carries, decided before the statement runs. */
interface Shape {
	status: number;
	single: boolean;
	csv: boolean;
	/** Send the body at all (not for HEAD, return=minimal, headers-only). */
	send: boolean;
	/** A function returning one value or row: unwrap the one-element array. */
	unwrap?: boolean;
	offset: number;
	countKind: string | null;
	headers: Record<string, string>;
	location?: { table: string; pk: string[] };
}

/**
 * Reads the body up to maxBodyBytes. A larger body is drained (not kept) before the 413 so
 * the client, still uploading, reads the answer instead of a reset connection.
 */
function readBody(req: IncomingMessage): Promise<string> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		req.on('data', (chunk: Buffer) => {
			size += chunk.length;
			if (size <= maxBodyBytes) chunks.push(chunk);
			else if (size > maxBodyBytes * 8) req.destroy();
		});
		req.on('end', () =>
			size > maxBodyBytes ? reject(tooLarge()) : resolve(Buffer.concat(chunks).toString('utf8'))
		);
		req.on('error', reject);
	});
}

function tooLarge(): ApiError {
	return new ApiError(
		413,
		'PGRST413',
		'Request size limit exceeded',
		`The request body is larger than ${maxBodyBytes / 1024 / 1024} MB.`,
		'Send fewer rows per request.',
		{ connection: 'close' }
	);
}

function parseJson(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch (e) {
		throw new ApiError(400, 'PGRST102', 'Empty or invalid json', (e as Error).message);
	}
}

/** The database is unreachable (PostgREST answers 503 PGRST001 and keeps retrying). */
function isConnectionError(e: unknown): boolean {
	const code = (e as { code?: string })?.code ?? '';
	return (
		code.startsWith('CONNECT') ||
		code.startsWith('CONNECTION') ||
		['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(code)
	);
}

function isObject(v: unknown): v is Record<string, unknown> {
	return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A TCP socket to the local database with Nagle's algorithm off: requests are small writes
 * waiting on a reply, and Nagle's delay halved throughput in the benchmark.
 */
export function noDelaySocket() {
	const socket = connect(config.db.port, '127.0.0.1');
	socket.setNoDelay(true);
	return socket;
}

/** postgres.js takes a socket factory (`socket`), which its typings leave out. */
export const noDelayOption = { socket: noDelaySocket } as postgres.Options<Record<string, never>>;

export function createRestHandler(): HttpService {
	const searchPath = config.api.extraSearchPath.join(', ');
	const sql = postgres({
		host: '127.0.0.1',
		port: config.db.port,
		...noDelayOption,
		database: config.db.name,
		username: 'authenticator',
		password: 'postgres',
		max: 2,
		idle_timeout: 60,
		onnotice: () => {},
		connection: { application_name: 'stack-rest', search_path: searchPath }
	});
	// Requests go through the wire client; postgres.js above only loads the schema cache and
	// listens for reloads.
	const pool = new WirePool(
		{
			host: '127.0.0.1',
			port: config.db.port,
			user: 'authenticator',
			password: 'postgres',
			database: config.db.name,
			params: { application_name: 'stack-rest', search_path: searchPath }
		},
		6
	);
	const schemas = config.api.schemas;

	// Schema cache: reloaded on `notify pgrst, 'reload schema'`; overlapping notifications
	// during a migration collapse into one reload that starts after the current one.
	let failed = false;
	function load(): Promise<SchemaCache> {
		const p = loadSchemaCache(sql, schemas);
		p.catch((e) => {
			// Retried on the next request, so a database that was down does not stay unusable.
			failed = true;
			console.error('rest: cannot load the schema cache:', e.message);
		});
		return p;
	}
	let current = load();
	let queued = false;
	let lastMissReload = 0;
	function reload() {
		if (queued) return;
		queued = true;
		const previous = current;
		current = previous
			.catch(() => undefined)
			.then(() => {
				queued = false;
				return load();
			});
		current.catch(() => {});
	}
	function schemaCache(): Promise<SchemaCache> {
		if (failed) {
			failed = false;
			current = load();
		}
		return current;
	}
	const listening = sql
		.listen('pgrst', (payload) => {
			if (payload === '' || payload === 'reload schema') reload();
		})
		.catch((e) => console.error('rest: cannot listen for schema reloads:', e.message));

	/** A name missing from the cache may be DDL whose notification is still in flight. */
	async function withFreshCache<T>(fn: (cache: SchemaCache) => T): Promise<T> {
		try {
			return fn(await schemaCache());
		} catch (e) {
			const missing =
				e instanceof ApiError && ['PGRST205', 'PGRST202', 'PGRST200'].includes(e.code);
			if (!missing || Date.now() - lastMissReload < 1000) throw e;
			lastMissReload = Date.now();
			reload();
			return fn(await schemaCache());
		}
	}

	const jwtCache = new Map<string, { auth: Auth; exp: number }>();
	async function authenticate(req: IncomingMessage): Promise<Auth> {
		const header = req.headers.authorization;
		const m = header ? /^Bearer\s+(.*)$/i.exec(header) : null;
		if (!m) return { role: 'anon', claims: '{"role":"anon"}' };
		const token = m[1].trim();
		const hit = jwtCache.get(token);
		if (hit && hit.exp > Date.now() / 1000) return hit.auth;
		try {
			const claims = await verifyJwt(token);
			const auth = {
				role: typeof claims.role === 'string' && claims.role ? claims.role : 'anon',
				claims: JSON.stringify(claims)
			};
			if (jwtCache.size > 10_000) jwtCache.clear();
			jwtCache.set(token, { auth, exp: claims.exp ?? Infinity });
			return auth;
		} catch (e) {
			if (!(e instanceof JwtError)) throw e;
			const code = e.expired ? 'PGRST303' : 'PGRST301';
			throw new ApiError(401, code, e.message, null, null, {
				'www-authenticate': `Bearer error="invalid_token", error_description="${e.message}"`
			});
		}
	}

	async function execute(
		auth: Auth,
		req: IncomingMessage,
		path: string,
		schema: string,
		ex: Execution
	) {
		const cache = await schemaCache();
		const timeout =
			cache.roleTimeouts.get(auth.role) ?? cache.roleTimeouts.get('authenticator') ?? '0';
		const settings = [
			auth.role,
			auth.claims,
			req.method ?? 'GET',
			path,
			JSON.stringify(req.headers),
			[schema, ...config.api.extraSearchPath.filter((s) => s !== schema)].join(', '),
			timeout,
			ex.readOnly ? 'on' : 'off'
		];
		// One batch, one Sync: an implicit transaction. An explicit one only when the outcome
		// decides between commit and rollback.
		const explicit = ex.decide !== undefined;
		const statements: Statement[] = [
			...(explicit ? [{ text: 'begin', params: [] }] : []),
			{ text: settingsSql, params: settings },
			{ text: ex.sql, params: ex.params },
			...(ex.explain
				? [{ text: `explain (format json) ${ex.explain.sql}`, params: ex.explain.params }]
				: [])
		];
		const c = await pool.acquire();
		try {
			const results = await c.run(statements);
			const first = explicit ? 2 : 1;
			const [total, pageTotal, body] = results[first][0];
			const row: Result = { total, page_total: Number(pageTotal), body };
			let planned: number | null = null;
			if (ex.explain) {
				const plan = JSON.parse(results[first + 1][0][0]!) as { Plan: { 'Plan Rows': number } }[];
				planned = plan[0].Plan['Plan Rows'];
			}
			if (explicit) await c.run([{ text: ex.decide!(row) ? 'commit' : 'rollback', params: [] }]);
			return { row, planned };
		} catch (e) {
			if (explicit && !c.closed) await c.run([{ text: 'rollback', params: [] }]).catch(() => {});
			if (e instanceof DbError) throw fromPostgres(e, auth.role === 'anon');
			throw e;
		} finally {
			pool.release(c);
		}
	}

	/** Top-level and embedded filters / order / paging from the query string. */
	function levels(url: URL, skip: Set<string>): { top: Level; embeds: Map<string, Level> } {
		const top = emptyLevel();
		const embeds = new Map<string, Level>();
		for (const [k, v] of url.searchParams) {
			// Kong lets the key ride in the query string; it is not a filter.
			if (skip.has(k) || k === 'apikey') continue;
			let level = top;
			let name = k;
			const dot = k.indexOf('.');
			if (dot > 0 && !k.startsWith('not.') && !k.slice(0, dot).includes('->')) {
				const label = k.slice(0, dot);
				level = embeds.get(label) ?? emptyLevel();
				embeds.set(label, level);
				name = k.slice(dot + 1);
			}
			if (name === 'order') level.order.push(...parseOrder(v));
			else if (name === 'limit' || name === 'offset') {
				const n = Number(v);
				if (!Number.isInteger(n) || n < 0) {
					throw new ApiError(
						400,
						'PGRST100',
						`"failed to parse ${name} parameter (${v})"`,
						`${name} must be a non-negative integer`
					);
				}
				level[name] = n;
			} else if (['or', 'and', 'not.or', 'not.and'].includes(name)) {
				const negate = name.startsWith('not.');
				level.conditions.push(
					parseLogic(negate ? (name.slice(4) as 'or' | 'and') : (name as 'or' | 'and'), negate, v)
				);
			} else level.conditions.push({ ...parseFilter(parseFieldKey(name), v) });
		}
		return { top, embeds };
	}

	/** Applies the Range header and max_rows to the top level. */
	function page(req: IncomingMessage, level: Level) {
		const range = req.headers.range;
		if (range && level.limit === undefined && level.offset === undefined) {
			const m = /^(?:items=)?(\d+)-(\d*)$/.exec(range.trim());
			if (m) {
				level.offset = Number(m[1]);
				if (m[2] !== '') level.limit = Math.max(0, Number(m[2]) - Number(m[1]) + 1);
			}
		}
		if (level.limit === undefined || level.limit > config.api.maxRows)
			level.limit = config.api.maxRows;
	}

	function respond(res: ServerResponse, shape: Shape, row: Result, planned: number | null) {
		const headers: Record<string, string> = { ...shape.headers };
		const n = row.page_total;
		let total: number | null = row.total === null ? null : Number(row.total);
		if (shape.countKind === 'planned' && planned !== null) total = planned;
		// estimated: exact up to max_rows (the statement counts no further), the planner beyond.
		if (
			shape.countKind === 'estimated' &&
			planned !== null &&
			total !== null &&
			total > config.api.maxRows
		)
			total = planned;
		let status = shape.status;
		if (total !== null && status === 200) {
			if (shape.offset > 0 && shape.offset > total) {
				throw new ApiError(
					416,
					'PGRST103',
					'Requested range not satisfiable',
					`An offset of ${shape.offset} was requested, but there are only ${total} rows.`,
					null,
					{
						'content-range': `*/${total}`
					}
				);
			}
			if (n < total) status = 206;
		}
		headers['content-range'] =
			`${n > 0 ? `${shape.offset}-${shape.offset + n - 1}` : '*'}/${total ?? '*'}`;
		if (shape.single && n !== 1) {
			throw new ApiError(
				406,
				'PGRST116',
				'Cannot coerce the result to a single JSON object',
				`The result contains ${n} rows`
			);
		}
		if (shape.location && row.body) {
			const first = (JSON.parse(row.body) as Record<string, unknown>[])[0];
			if (first) {
				const q = shape.location.pk
					.map((c) => `${encodeURIComponent(c)}=eq.${encodeURIComponent(String(first[c]))}`)
					.join('&');
				headers.location = `/${shape.location.table}?${q}`;
			}
		}
		if (!shape.send || row.body === null) {
			res.writeHead(status, headers).end();
			return;
		}
		let body = row.body;
		if (shape.csv) {
			headers['content-type'] = csvType;
		} else if (shape.single || shape.unwrap) {
			headers['content-type'] = shape.single ? objectType : jsonType;
			body = n === 0 ? 'null' : body.slice(1, -1);
		} else headers['content-type'] = jsonType;
		res.writeHead(status, headers).end(body);
	}

	function shapeFor(
		req: IncomingMessage,
		prefer: Map<string, string>,
		status: number,
		send: boolean,
		offset = 0
	): Shape {
		const accept = req.headers.accept ?? '';
		return {
			status,
			single: accept.includes('application/vnd.pgrst.object'),
			csv: accept.startsWith('text/csv'),
			send: send && req.method !== 'HEAD',
			offset,
			countKind: prefer.get('count') ?? null,
			headers: {}
		};
	}

	/** The body format the Accept header asks for; 406 PGRST107 for one we cannot produce. */
	function bodyFormat(req: IncomingMessage): BodyFormat {
		const accept = (req.headers.accept ?? '').toLowerCase();
		if (accept.startsWith('text/csv')) return 'csv';
		if (accept.includes('nulls=stripped')) return 'stripped';
		const acceptable = [
			'*/*',
			'application/json',
			'application/vnd.pgrst.object',
			'application/vnd.pgrst.array',
			'application/*',
			''
		];
		const types = accept.split(',').map((t) => t.split(';')[0].trim());
		if (!types.some((t) => acceptable.some((a) => t === a || (a && t.startsWith(a))))) {
			throw new ApiError(406, 'PGRST107', `None of these media types are available: ${accept}`);
		}
		return 'json';
	}

	function checkColumns(rel: Relation, columns: string[]) {
		for (const c of columns) {
			if (!rel.columns.has(c)) {
				throw new ApiError(
					400,
					'PGRST204',
					`Could not find the '${c}' column of '${rel.name}' in the schema cache`
				);
			}
		}
	}

	function countKind(prefer: Map<string, string>): 'exact' | 'planned' | 'estimated' | null {
		const c = prefer.get('count');
		return c === 'exact' || c === 'planned' || c === 'estimated' ? c : null;
	}

	/** GET/HEAD on a table or view, or a function read like one. */
	function planRead(
		cache: SchemaCache,
		schema: string,
		req: IncomingMessage,
		url: URL,
		source: Source,
		params: Params,
		skip: Set<string>,
		prefer: Map<string, string>
	) {
		const { top, embeds } = levels(url, skip);
		page(req, top);
		const select = parseSelect(url.searchParams.get('select') ?? '*');
		const b = new Builder(cache, schema, params, embeds);
		const count = countKind(prefer);
		const { sql } = readSql(b, source, {
			select,
			level: top,
			count,
			body: req.method === 'HEAD' ? 'none' : bodyFormat(req),
			maxRows: config.api.maxRows
		});
		let explain: Execution['explain'];
		if (count === 'planned' || count === 'estimated') {
			// The estimate comes from the planner, over the same filters with their own parameters.
			const eb = new Builder(cache, schema, new Params(), embeds);
			const where = eb.where(source.relation, '_t0', top.conditions);
			if (!source.from('_t0').includes('$'))
				explain = { sql: `select 1 from ${source.from('_t0')}${where}`, params: eb.params.values };
		}
		return { sql, explain, offset: top.offset ?? 0 };
	}

	async function handleTable(
		cache: SchemaCache,
		schema: string,
		name: string,
		req: IncomingMessage,
		url: URL,
		auth: Auth,
		path: string,
		res: ServerResponse
	) {
		const b0 = new Builder(cache, schema, new Params());
		const rel = b0.relation(name);
		const prefer = parsePrefer(req.headers.prefer);
		const method = req.method ?? 'GET';
		if (method === 'GET' || method === 'HEAD') {
			const params = new Params();
			const plan = planRead(
				cache,
				schema,
				req,
				url,
				tableSource(rel),
				params,
				new Set(['select']),
				prefer
			);
			const { row, planned } = await execute(auth, req, path, schema, {
				sql: plan.sql,
				params: params.values,
				readOnly: true,
				explain: plan.explain
			});
			respond(res, shapeFor(req, prefer, 200, true, plan.offset), row, planned);
			return;
		}
		if (!['POST', 'PATCH', 'DELETE'].includes(method)) {
			throw new ApiError(405, 'PGRST117', `Unsupported HTTP method: ${method}`);
		}
		const returnPref = prefer.get('return') ?? 'minimal';
		const representation = returnPref === 'representation';
		const headersOnly = returnPref === 'headers-only';
		const select: SelectItem[] = headersOnly
			? rel.primaryKey.map((c) => ({ kind: 'field' as const, field: { name: c, path: [] } }))
			: parseSelect(url.searchParams.get('select') ?? '*');
		const skip = new Set(['select', 'columns', 'on_conflict']);
		const { top, embeds } = levels(url, skip);
		const params = new Params();
		const b = new Builder(cache, schema, params, embeds);
		const plan = {
			select,
			body: (headersOnly ? 'json' : representation ? bodyFormat(req) : 'none') as BodyFormat,
			count: prefer.has('count')
		};
		const applied = [`return=${returnPref}`];
		let sqlText: string;
		let status: number;
		if (method === 'POST') {
			const text = await readBody(req);
			const body = parseJson(text);
			const rows = Array.isArray(body) ? body : [body];
			if (!rows.every(isObject))
				throw new ApiError(
					400,
					'PGRST102',
					'Empty or invalid json',
					'Send a JSON object or an array of objects.'
				);
			const columnsParam = url.searchParams.get('columns');
			const columns = columnsParam
				? columnsParam.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'))
				: [...new Set(rows.flatMap((r) => Object.keys(r)))];
			checkColumns(rel, columns);
			const resolution = prefer.get('resolution');
			let onConflict: { columns: string[]; action: 'merge' | 'ignore' } | undefined;
			if (resolution === 'merge-duplicates' || resolution === 'ignore-duplicates') {
				const target =
					url.searchParams
						.get('on_conflict')
						?.split(',')
						.map((c) => c.trim()) ?? rel.primaryKey;
				if (target.length === 0) {
					throw new ApiError(
						400,
						'PGRST100',
						`"${rel.name}" has no primary key to upsert on`,
						null,
						'Pass on_conflict= with the columns of a unique constraint.'
					);
				}
				checkColumns(rel, target);
				onConflict = {
					columns: target,
					action: resolution === 'merge-duplicates' ? 'merge' : 'ignore'
				};
				applied.push(`resolution=${resolution}`);
			}
			const missingDefault = prefer.get('missing') === 'default';
			if (missingDefault) applied.push('missing=default');
			const rowsParam = params.text(Array.isArray(body) ? text : `[${text}]`);
			sqlText = insertSql(b, rel, { columns, rowsParam, missingDefault, onConflict }, plan);
			status = 201;
		} else if (method === 'PATCH') {
			const text = await readBody(req);
			const body = parseJson(text);
			if (!isObject(body))
				throw new ApiError(
					400,
					'PGRST102',
					'Empty or invalid json',
					'Send one JSON object with the columns to change.'
				);
			const columns = Object.keys(body);
			checkColumns(rel, columns);
			if (columns.length === 0) {
				respond(
					res,
					shapeFor(req, prefer, representation ? 200 : 204, representation),
					{ total: null, page_total: 0, body: '[]' },
					null
				);
				return;
			}
			sqlText = updateSql(b, rel, columns, params.text(text), top.conditions, plan);
			status = representation ? 200 : 204;
		} else {
			sqlText = deleteSql(b, rel, top.conditions, plan);
			status = representation ? 200 : 204;
		}
		const shape = shapeFor(req, prefer, status, representation);
		if (headersOnly && rel.primaryKey.length)
			shape.location = { table: rel.name, pk: rel.primaryKey };
		const rollback = prefer.get('tx') === 'rollback';
		if (rollback) applied.push('tx=rollback');
		// `handling=strict` with `max-affected=n` (supabase-js maxAffected) on update and delete.
		const maxAffected =
			method !== 'POST' && prefer.get('handling') === 'strict' && prefer.has('max-affected')
				? Number(prefer.get('max-affected'))
				: null;
		if (maxAffected !== null) applied.push('handling=strict', `max-affected=${maxAffected}`);
		shape.headers['preference-applied'] = applied.join(', ');
		const { row } = await execute(auth, req, path, schema, {
			sql: sqlText,
			params: params.values,
			readOnly: false,
			decide:
				shape.single || rollback || maxAffected !== null
					? (r) =>
							!rollback &&
							(!shape.single || r.page_total === 1) &&
							(maxAffected === null || r.page_total <= maxAffected)
					: undefined
		});
		if (maxAffected !== null && row.page_total > maxAffected) {
			throw new ApiError(
				400,
				'PGRST124',
				'Query result exceeds max-affected preference constraint',
				`The query affects ${row.page_total} rows`
			);
		}
		respond(res, shape, row, null);
	}

	function resolveFunction(
		cache: SchemaCache,
		schema: string,
		name: string,
		given: string[],
		body: unknown,
		isGet: boolean
	): { fn: DbFunction; singleJson: boolean } {
		const candidates = cache.functions.get(key(schema, name)) ?? [];
		const fits = (fn: DbFunction) =>
			fn.args.every((a) => a.hasDefault || given.includes(a.name)) &&
			(isGet || given.every((g) => fn.args.some((a) => a.name === g)));
		const matches = candidates.filter(fits);
		if (matches.length === 1) return { fn: matches[0], singleJson: false };
		if (matches.length > 1) {
			// For GET, parameters that are not arguments are filters: prefer the closest fit.
			const best = matches.sort(
				(a, b) =>
					b.args.filter((x) => given.includes(x.name)).length -
					a.args.filter((x) => given.includes(x.name)).length
			);
			const score = (f: DbFunction) => f.args.filter((x) => given.includes(x.name)).length;
			if (score(best[0]) > score(best[1])) return { fn: best[0], singleJson: false };
			throw new ApiError(
				300,
				'PGRST203',
				`Could not choose the best candidate function between: ${matches.map((f) => `${f.schema}.${f.name}(${f.args.map((a) => `${a.name} => ${a.type}`).join(', ')})`).join(', ')}`,
				null,
				'Try renaming the parameters or the function itself in the database so function overloading can be resolved'
			);
		}
		const single = candidates.find(
			(f) =>
				f.args.length === 1 && f.args[0].name === '' && ['json', 'jsonb'].includes(f.args[0].type)
		);
		if (single && !isGet && body !== undefined) return { fn: single, singleJson: true };
		const argList = [...given].sort().join(', ');
		throw new ApiError(
			404,
			'PGRST202',
			`Could not find the function ${schema}.${name}${given.length ? `(${argList})` : ' without parameters'} in the schema cache`,
			`Searched for the function ${schema}.${name}${given.length ? ` with parameters ${argList}` : ' without parameters'} or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.`,
			candidates.length
				? `Perhaps you meant to call the function ${schema}.${name}(${candidates[0].args.map((a) => a.name).join(', ')})`
				: null
		);
	}

	async function handleRpc(
		cache: SchemaCache,
		schema: string,
		name: string,
		req: IncomingMessage,
		url: URL,
		auth: Auth,
		path: string,
		res: ServerResponse
	) {
		const method = req.method ?? 'GET';
		const isGet = method === 'GET' || method === 'HEAD';
		if (!isGet && method !== 'POST')
			throw new ApiError(405, 'PGRST101', 'Only GET, HEAD and POST are allowed for functions');
		const prefer = parsePrefer(req.headers.prefer);
		let argsText: string;
		let given: string[];
		let body: unknown;
		const reserved = new Set([
			'select',
			'order',
			'limit',
			'offset',
			'or',
			'and',
			'not.or',
			'not.and',
			'columns'
		]);
		if (isGet) {
			const candidates = cache.functions.get(key(schema, name)) ?? [];
			const argNames = new Set(candidates.flatMap((f) => f.args.map((a) => a.name)));
			const args: Record<string, string> = {};
			for (const [k, v] of url.searchParams) if (!reserved.has(k) && argNames.has(k)) args[k] = v;
			given = Object.keys(args);
			argsText = JSON.stringify(args);
		} else {
			argsText = await readBody(req);
			body = argsText.trim() === '' ? {} : parseJson(argsText);
			if (argsText.trim() === '') argsText = '{}';
			given = isObject(body) ? Object.keys(body) : [];
		}
		const { fn, singleJson } = resolveFunction(cache, schema, name, given, body, isGet);
		if (!singleJson && !isGet && !isObject(body)) {
			throw new ApiError(
				400,
				'PGRST102',
				'Empty or invalid json',
				'Send the arguments as one JSON object of named parameters.'
			);
		}
		const params = new Params();
		const argsParam = given.length || singleJson ? params.text(argsText) : null;
		const call = functionCall(new Builder(cache, schema, params), fn, given, argsParam, singleJson);
		const readOnly = isGet || !fn.volatile;
		const skip = new Set(['select', ...(isGet ? given : []), 'columns']);
		if (fn.returnColumns) {
			const plan = planRead(
				cache,
				schema,
				req,
				url,
				functionSource(fn, call, cache),
				params,
				skip,
				prefer
			);
			const { row, planned } = await execute(auth, req, path, schema, {
				sql: plan.sql,
				params: params.values,
				readOnly,
				explain: plan.explain
			});
			const shape = shapeFor(req, prefer, 200, true, plan.offset);
			if (!fn.returnsSet) shape.unwrap = true;
			respond(res, shape, row, planned);
			return;
		}
		const { row } = await execute(auth, req, path, schema, {
			sql: scalarCallSql(call, fn.returnsVoid),
			params: params.values,
			readOnly
		});
		if (fn.returnsVoid) {
			res.writeHead(204, { 'content-range': '*/*' }).end();
			return;
		}
		const shape = shapeFor(req, prefer, 200, true);
		if (!fn.returnsSet) {
			shape.unwrap = true;
			shape.single = false;
		}
		respond(res, shape, row, null);
	}

	async function handle(req: IncomingMessage, res: ServerResponse) {
		const method = req.method ?? 'GET';
		let role = 'anon';
		try {
			if (method === 'OPTIONS') {
				res.writeHead(200, { allow: 'OPTIONS,GET,HEAD,POST,PATCH,DELETE' }).end();
				return;
			}
			const url = new URL(req.url ?? '/', 'http://rest.local');
			const path = url.pathname.slice(prefix.length) || '/';
			const profile = (
				method === 'GET' || method === 'HEAD'
					? req.headers['accept-profile']
					: req.headers['content-profile']
			) as string | undefined;
			const schema = profile ?? schemas[0];
			if (!schemas.includes(schema)) {
				throw new ApiError(
					406,
					'PGRST106',
					`Invalid schema: ${schema}`,
					null,
					`Only the following schemas are exposed: ${schemas.join(', ')}`
				);
			}
			const auth = await authenticate(req);
			role = auth.role;
			const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
			if (parts.length === 0) {
				res
					.writeHead(200, { 'content-type': jsonType })
					.end(
						JSON.stringify({ swagger: '2.0', info: { title: 'BotFlow local REST', version: '12' } })
					);
				return;
			}
			if (parts.length === 2 && parts[0] === 'rpc') {
				const cache = await withFreshCache((c) => {
					if (!c.functions.has(key(schema, parts[1])))
						resolveFunction(c, schema, parts[1], [], undefined, true);
					return c;
				});
				await handleRpc(cache, schema, parts[1], req, url, auth, path, res);
				return;
			}
			if (parts.length !== 1)
				throw new ApiError(404, 'PGRST125', `Invalid path specified in request URL: ${path}`);
			const cache = await withFreshCache(
				(c) => (new Builder(c, schema, new Params()).relation(parts[0]), c)
			);
			await handleTable(cache, schema, parts[0], req, url, auth, path, res);
		} catch (e) {
			let err: ApiError;
			if (e instanceof ApiError) err = e;
			else if (e instanceof postgres.PostgresError || e instanceof DbError) {
				err = fromPostgres(e, role === 'anon');
			} else if (isConnectionError(e)) {
				err = new ApiError(
					503,
					'PGRST001',
					'Database client error. Retrying the connection.',
					(e as Error).message
				);
			} else {
				console.error(`rest: ${method} ${req.url}:`, e);
				err = new ApiError(
					500,
					'PGRST000',
					'An unexpected error occurred in the REST service',
					(e as Error).message
				);
			}
			if (res.headersSent) {
				res.end();
				return;
			}
			res.writeHead(err.status, { 'content-type': jsonType, ...err.headers }).end(err.body());
		}
	}

	return {
		handle,
		async close() {
			await listening;
			await Promise.all([sql.end({ timeout: 2 }), pool.end()]);
		}
	};
}

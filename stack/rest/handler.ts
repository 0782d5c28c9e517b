// The PostgREST-compatible /rest/v1 service. Every request runs in one transaction that does
// what PostgREST does (role from the JWT, request.jwt.claims, request.method / path / headers,
// the role's statement_timeout), pipelined on one connection so a read costs one round trip.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import postgres from 'postgres';
import { config } from '../config.ts';
import { JwtError, verifyJwt } from '../jwt.ts';
import type { HttpService } from '../service-interface.ts';
import { ApiError, fromPostgres } from './errors.ts';
import { DbError, WirePool, type Statement } from './pg-wire.ts';
import { isObject, parseJson, readBody } from './request-body.ts';
import { bodyFormat, jsonType, respond, shapeFor, type Result } from './response.ts';
import { checkColumns, countKind, levels, page } from './query-params.ts';
import { resolveFunction } from './resolve-function.ts';
import { key, loadSchemaCache, type SchemaCache } from './schema-cache.ts';
import { parsePrefer, parseSelect, type SelectItem } from './parse.ts';
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
	type Source
} from './build-sql.ts';

const prefix = '/rest/v1';

const settingsSql =
	`select set_config('role', $1::text, true), set_config('request.jwt.claims', $2::text, true), ` +
	`set_config('request.method', $3::text, true), set_config('request.path', $4::text, true), ` +
	`set_config('request.headers', $5::text, true), set_config('statement_timeout', $6::text, true), ` +
	`set_config('transaction_read_only', $7::text, true), set_config('request.cookies', $8::text, true)`;
/**
 * For another exposed schema (Accept-Profile) the search_path changes too. Only then: setting
 * it costs Postgres more than the rest of the request (cached plans are re-checked).
 */
const settingsWithPathSql = settingsSql + `, set_config('search_path', $9::text, true)`;

/** `Cookie: a=1; b=2` as the JSON object PostgREST puts in request.cookies. */
function cookies(header: string | undefined): string {
	const out: Record<string, string> = {};
	for (const part of (header ?? '').split(';')) {
		const eq = part.indexOf('=');
		if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
	}
	return JSON.stringify(out);
}

interface Auth {
	role: string;
	claims: string;
}

interface Execution {
	sql: string;
	params: (string | number)[];
	readOnly: boolean;
	/** When set, commit only if it returns true (single(), maxAffected(), `tx=rollback`). */
	decide?: (r: Result) => boolean;
	/** `count=planned`: a statement whose plan's row estimate is the count. */
	explain?: { sql: string; params: (string | number)[] };
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

/** The role PostgREST logs in as; stack/db/bootstrap.sql creates it as `supabase start` does. */
const authenticator = { user: 'authenticator', password: 'postgres' };

export function createRestHandler(): HttpService {
	const schemas = config.api.schemas;
	// What a request on the first exposed schema runs with; set once per connection.
	const defaultSearchPath = [
		schemas[0],
		...config.api.extraSearchPath.filter((s) => s !== schemas[0])
	].join(', ');
	const sql = postgres({
		host: '127.0.0.1',
		port: config.db.port,
		...noDelayOption,
		database: config.db.name,
		username: authenticator.user,
		password: authenticator.password,
		max: 2,
		idle_timeout: 60,
		onnotice: () => {},
		connection: { application_name: 'stack-rest', search_path: defaultSearchPath }
	});
	// Requests go through the wire client; postgres.js above only loads the schema cache and
	// listens for reloads.
	const pool = new WirePool(
		{
			host: '127.0.0.1',
			port: config.db.port,
			user: authenticator.user,
			password: authenticator.password,
			database: config.db.name,
			params: { application_name: 'stack-rest', search_path: defaultSearchPath }
		},
		8
	);

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
			timeout,
			ex.readOnly ? 'on' : 'off',
			cookies(req.headers.cookie)
		];
		const searchPath = [schema, ...config.api.extraSearchPath.filter((s) => s !== schema)].join(
			', '
		);
		const pathChanges = searchPath !== defaultSearchPath;
		if (pathChanges) settings.push(searchPath);
		// One batch, one Sync: an implicit transaction. An explicit one only when the outcome
		// decides between commit and rollback.
		const explicit = ex.decide !== undefined;
		const statements: Statement[] = [
			...(explicit ? [{ text: 'begin', params: [] }] : []),
			{ text: pathChanges ? settingsWithPathSql : settingsSql, params: settings },
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
			if (!source.cte && !source.from('_t0').includes('$'))
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
				functionSource(fn, call, cache, countKind(prefer) !== null),
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
		// A set of scalars pages and counts like rows (filters need a column, so none apply).
		const level = fn.returnsSet ? levels(url, skip).top : emptyLevel();
		if (fn.returnsSet) page(req, level);
		const count = fn.returnsSet && countKind(prefer) !== null;
		const sql = scalarCallSql(new Builder(cache, schema, params), call, fn.returnsVoid, {
			level,
			count
		});
		const { row } = await execute(auth, req, path, schema, {
			sql,
			params: params.values,
			readOnly
		});
		if (fn.returnsVoid) {
			res.writeHead(204, { 'content-range': '*/*' }).end();
			return;
		}
		const shape = shapeFor(req, prefer, 200, true, level.offset ?? 0);
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
			} else if (e instanceof URIError) {
				err = new ApiError(
					400,
					'PGRST100',
					'Invalid percent-encoding in the request URL',
					e.message
				);
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

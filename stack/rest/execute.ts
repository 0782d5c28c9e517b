// How one request's statement runs: in one transaction that does what PostgREST does (role
// from the JWT, request.jwt.claims, request.method / path / headers / cookies, the role's
// statement_timeout, read-only for reads), sent as one batch so a read costs one round trip.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { defaultSearchPath, searchPathFor } from './clients.ts';
import { fromPostgres } from './errors.ts';
import type { Auth } from './jwt-cache.ts';
import { DbError, type Statement, type WirePool } from './pg-wire.ts';
import type { Result } from './response.ts';
import type { SchemaCache } from './schema-cache.ts';

/** PostgREST's per-request settings, in the order `execute` binds them. */
export const settingsSql =
	`select set_config('role', $1::text, true), set_config('request.jwt.claims', $2::text, true), ` +
	`set_config('request.method', $3::text, true), set_config('request.path', $4::text, true), ` +
	`set_config('request.headers', $5::text, true), set_config('statement_timeout', $6::text, true), ` +
	`set_config('transaction_read_only', $7::text, true), set_config('request.cookies', $8::text, true)`;
/**
 * For another exposed schema (Accept-Profile) the search_path changes too. Only then: setting
 * it costs Postgres more than the rest of the request (cached plans are re-checked).
 */
const settingsWithPathSql = settingsSql + `, set_config('search_path', $9::text, true)`;

export interface Execution {
	sql: string;
	params: (string | number)[];
	readOnly: boolean;
	/** When set, commit only if it returns true (single(), maxAffected(), `tx=rollback`). */
	decide?: (r: Result) => boolean;
	/** `count=planned`: a statement whose plan's row estimate is the count. */
	explain?: { sql: string; params: (string | number)[] };
}

export interface Executed {
	row: Result;
	/** The planner's row estimate, when `explain` was asked for. */
	planned: number | null;
}

/** One request to a table or function, as its handler sees it. */
export interface RestRequest {
	req: IncomingMessage;
	res: ServerResponse;
	url: URL;
	/** The path under /rest/v1, for `request.path`. */
	path: string;
	/** The exposed schema the request addresses (profile headers). */
	schema: string;
	cache: SchemaCache;
	auth: Auth;
	/** Runs a statement as this request's caller. */
	run(ex: Execution): Promise<Executed>;
}

/** `Cookie: a=1; b=2` as the JSON object PostgREST puts in request.cookies. */
function cookies(header: string | undefined): string {
	const out: Record<string, string> = {};
	for (const part of (header ?? '').split(';')) {
		const eq = part.indexOf('=');
		if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
	}
	return JSON.stringify(out);
}

export async function execute(
	pool: WirePool,
	r: Omit<RestRequest, 'run' | 'res' | 'url'>,
	ex: Execution
): Promise<Executed> {
	const { auth, req, cache } = r;
	const timeout =
		cache.roleTimeouts.get(auth.role) ?? cache.roleTimeouts.get('authenticator') ?? '0';
	const settings = [
		auth.role,
		auth.claims,
		req.method ?? 'GET',
		r.path,
		JSON.stringify(req.headers),
		timeout,
		ex.readOnly ? 'on' : 'off',
		cookies(req.headers.cookie)
	];
	const searchPath = searchPathFor(r.schema);
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

// The PostgREST-compatible REST service behind /rest/v1 (see README.md): routes a request to
// its table or function handler and answers every failure with PostgREST's error body.
import type { IncomingMessage, ServerResponse } from 'node:http';
import postgres from 'postgres';
import { config } from '../config.ts';
import type { HttpService } from '../service-interface.ts';
import { Builder, Params } from './build-sql.ts';
import { catalogClient, requestPool } from './clients.ts';
import { ApiError, fromPostgres } from './errors.ts';
import { execute, type RestRequest } from './execute.ts';
import { createAuthenticator } from './jwt-cache.ts';
import { DbError } from './pg-wire.ts';
import { resolveFunction } from './resolve-function.ts';
import { jsonType } from './response.ts';
import { handleRpc } from './rpc-handler.ts';
import { key } from './schema-cache.ts';
import { LiveSchemaCache } from './schema-reload.ts';
import { handleTable } from './table-handler.ts';

const prefix = '/rest/v1';

/** The database is unreachable (PostgREST answers 503 PGRST001 and keeps retrying). */
function isConnectionError(e: unknown): boolean {
	const code = (e as { code?: string })?.code ?? '';
	return (
		code.startsWith('CONNECT') ||
		code.startsWith('CONNECTION') ||
		['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(code)
	);
}

/** Any failure as PostgREST's error: ours as they are, the database's mapped to HTTP. */
function toApiError(e: unknown, role: string, req: IncomingMessage): ApiError {
	if (e instanceof ApiError) return e;
	if (e instanceof postgres.PostgresError || e instanceof DbError)
		return fromPostgres(e, role === 'anon');
	if (e instanceof URIError)
		return new ApiError(400, 'PGRST100', 'Invalid percent-encoding in the request URL', e.message);
	if (isConnectionError(e))
		return new ApiError(
			503,
			'PGRST001',
			'Database client error. Retrying the connection.',
			(e as Error).message
		);
	console.error(`rest: ${req.method} ${req.url}:`, e);
	return new ApiError(
		500,
		'PGRST000',
		'An unexpected error occurred in the REST service',
		(e as Error).message
	);
}

export function createRestService(): HttpService {
	const schemas = config.api.schemas;
	const catalog = catalogClient();
	const pool = requestPool();
	const schemaCache = new LiveSchemaCache(catalog, schemas);
	const authenticate = createAuthenticator();

	/** `caller.role` is set as soon as the JWT is read: errors map by it (401 anon, 403 else). */
	async function route(req: IncomingMessage, res: ServerResponse, caller: { role: string }) {
		const method = req.method ?? 'GET';
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
		caller.role = auth.role;
		const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
		if (parts.length === 0) {
			const openApiStub = { swagger: '2.0', info: { title: 'BotFlow local REST', version: '12' } };
			res.writeHead(200, { 'content-type': jsonType }).end(JSON.stringify(openApiStub));
			return;
		}
		const request = (cache: RestRequest['cache']): RestRequest => ({
			req,
			res,
			url,
			path,
			schema,
			cache,
			auth,
			run: async (ex) =>
				execute(pool, { req, path, schema, auth, cache: await schemaCache.get() }, ex)
		});
		if (parts.length === 2 && parts[0] === 'rpc') {
			const cache = await schemaCache.withFresh((c) => {
				if (!c.functions.has(key(schema, parts[1])))
					resolveFunction(c, schema, parts[1], [], undefined, true);
				return c;
			});
			await handleRpc(request(cache), parts[1]);
			return;
		}
		if (parts.length !== 1)
			throw new ApiError(404, 'PGRST125', `Invalid path specified in request URL: ${path}`);
		const cache = await schemaCache.withFresh(
			(c) => (new Builder(c, schema, new Params()).relation(parts[0]), c)
		);
		await handleTable(request(cache), parts[0]);
	}

	async function handle(req: IncomingMessage, res: ServerResponse) {
		if (req.method === 'OPTIONS') {
			res.writeHead(200, { allow: 'OPTIONS,GET,HEAD,POST,PATCH,DELETE' }).end();
			return;
		}
		const caller = { role: 'anon' };
		try {
			await route(req, res, caller);
		} catch (e) {
			const err = toApiError(e, caller.role, req);
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
			await schemaCache.listening;
			await Promise.all([catalog.end({ timeout: 2 }), pool.end()]);
		}
	};
}

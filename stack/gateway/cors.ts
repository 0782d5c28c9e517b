// CORS as the hosted gateway answers it: any origin, credentials allowed, preflights answered
// by the gateway itself (no apikey needed) with the headers the browser asked for.
import type { IncomingMessage, ServerResponse } from 'node:http';

const allowMethods = 'GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS,TRACE,CONNECT';
const exposeHeaders = [
	'Content-Encoding',
	'Content-Location',
	'Content-Range',
	'Content-Type',
	'Date',
	'Location',
	'Range-Unit',
	'X-Total-Count',
	'X-Supabase-Api-Version'
].join(', ');
const defaultAllowHeaders =
	'authorization, x-client-info, apikey, content-type, accept, accept-profile, content-profile, prefer, range, x-supabase-api-version';

export function isPreflight(req: IncomingMessage): boolean {
	return req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
}

function origin(req: IncomingMessage): string {
	// With credentials allowed a browser refuses `*`, so echo the caller's origin.
	return req.headers.origin ?? '*';
}

export function answerPreflight(req: IncomingMessage, res: ServerResponse) {
	res.writeHead(200, {
		'access-control-allow-origin': origin(req),
		'access-control-allow-credentials': 'true',
		'access-control-allow-methods': allowMethods,
		'access-control-allow-headers':
			req.headers['access-control-request-headers'] ?? defaultAllowHeaders,
		'access-control-max-age': '3600',
		vary: 'Origin',
		'content-length': '0'
	});
	res.end();
}

/** Headers every proxied answer carries; services' own headers are merged on top. */
export function setCorsHeaders(req: IncomingMessage, res: ServerResponse) {
	res.setHeader('access-control-allow-origin', origin(req));
	res.setHeader('access-control-allow-credentials', 'true');
	res.setHeader('access-control-expose-headers', exposeHeaders);
	if (req.headers.origin) res.setHeader('vary', 'Origin');
}

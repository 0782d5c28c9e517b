// The API gateway: one port in front of the platform's services, as Kong is for Supabase.
// Plain node:http on purpose: it sits on every request, so it stays small.
import './gateway/heap.ts';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { config } from './config.ts';
import { healthPath } from './services.ts';
import type { HttpService } from './services-api.ts';
import { createAuthService } from './auth/index.ts';
import { createRestService } from './rest/index.ts';
import { createFunctionsService } from './functions/index.ts';
import { createRealtimeService } from './realtime/index.ts';
import { checkApiKey, hideApiKey, refuseKey, upgradeUrlWithJwt } from './gateway/api-keys.ts';
import { answerPreflight, isPreflight, setCorsHeaders } from './gateway/cors.ts';
import { logRequest, logUpgrade } from './gateway/request-log.ts';

const auth = createAuthService();
const rest = createRestService();
const functions = createFunctionsService();
const realtime = createRealtimeService();

interface Route {
	prefix: string;
	service: HttpService;
	/** Kong's key-auth; Edge Functions do their own JWT check, as hosted. */
	needsKey: boolean;
	/** Edge Functions answer CORS themselves (the `_shared/cors.ts` pattern), as hosted. */
	cors: boolean;
	/** Kong's hide_credentials: the upstream never sees the key. */
	hideKey: boolean;
}

const routes: Route[] = [
	{ prefix: '/auth/v1', service: auth, needsKey: true, cors: true, hideKey: false },
	{ prefix: '/rest/v1', service: rest, needsKey: true, cors: true, hideKey: true },
	{ prefix: '/functions/v1', service: functions, needsKey: false, cors: false, hideKey: false }
];
// Realtime's HTTP side (e.g. /realtime/v1/api/broadcast), when its service offers one.
const realtimeHttp = realtime as Partial<HttpService>;
if (typeof realtimeHttp.handle === 'function') {
	routes.push({
		prefix: '/realtime/v1',
		service: realtimeHttp as HttpService,
		needsKey: true,
		cors: true,
		hideKey: false
	});
}

// Auth endpoints hosted Kong leaves open: browser redirects and key discovery carry no apikey.
const openAuthPaths = [
	'/auth/v1/verify',
	'/auth/v1/callback',
	'/auth/v1/authorize',
	'/auth/v1/.well-known/'
];

function matches(url: string, prefix: string): boolean {
	if (!url.startsWith(prefix)) return false;
	const next = url.charCodeAt(prefix.length);
	return Number.isNaN(next) || next === 47 /* / */ || next === 63; /* ? */
}

function sendJson(res: ServerResponse, status: number, body: unknown) {
	res
		.writeHead(status, { 'content-type': 'application/json; charset=utf-8' })
		.end(JSON.stringify(body));
}

/** Services may expose `ready()`; health is only reported once every one of them answers. */
async function health(res: ServerResponse) {
	const services = { auth, rest, functions, realtime } as Record<
		string,
		{ ready?: () => Promise<void> }
	>;
	const failing: Record<string, string> = {};
	await Promise.all(
		Object.entries(services).map(async ([name, service]) => {
			try {
				await service.ready?.();
			} catch (e) {
				failing[name] = (e as Error).message;
			}
		})
	);
	const ok = Object.keys(failing).length === 0;
	// The CLI shows the log's last lines when health never comes: make them say why, once.
	const why = Object.entries(failing)
		.map(([name, reason]) => `${name}: ${reason}`)
		.join('; ');
	if (why && why !== lastUnhealthy) console.error(`not healthy yet: ${why}`);
	lastUnhealthy = why;
	// Memory figures let bench:platform and a curious developer see where the gateway's RSS goes.
	const m = process.memoryUsage();
	const mb = (n: number) => Math.round(n / 104857.6) / 10;
	const memory_mb = { rss: mb(m.rss), heap_total: mb(m.heapTotal), heap_used: mb(m.heapUsed) };
	sendJson(res, ok ? 200 : 503, ok ? { ok, memory_mb } : { ok, failing, memory_mb });
}
let lastUnhealthy = '';

function handle(req: IncomingMessage, res: ServerResponse) {
	const url = req.url ?? '/';
	if (url === healthPath) return void health(res);
	logRequest(req, res);
	const route = routes.find((r) => matches(url, r.prefix));
	if (!route) return sendJson(res, 404, { message: 'no Route matched with those values' });
	if (route.cors) {
		if (isPreflight(req)) return answerPreflight(req, res);
		setCorsHeaders(req, res);
	}
	if (route.needsKey && !(route.service === auth && openAuthPaths.some((p) => url.startsWith(p)))) {
		const check = checkApiKey(req);
		if (!check.ok) return refuseKey(res, check.body);
		if (route.hideKey) hideApiKey(req);
	}
	route.service.handle(req, res).catch((e) => {
		console.error(`${req.method} ${url.split('?')[0]}: unhandled error in ${route.prefix}:`, e);
		if (!res.headersSent) sendJson(res, 500, { message: 'An unexpected error occurred' });
		else res.destroy();
	});
}

const server = createServer({ keepAliveTimeout: 65_000 }, handle);

server.on('upgrade', (req, socket, head) => {
	const url = req.url ?? '';
	if (!url.startsWith('/realtime/v1/')) {
		logUpgrade(req, 404);
		socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n');
		return;
	}
	const check = checkApiKey(req);
	if (!check.ok) {
		logUpgrade(req, 401);
		const body = JSON.stringify(check.body);
		socket.end(
			`HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`
		);
		return;
	}
	req.url = upgradeUrlWithJwt(url, check.key);
	logUpgrade(req, 101);
	realtime.handleUpgrade(req, socket, head);
});

// A bug in one request must not take every other one down with the process.
process.on('uncaughtException', (e) => console.error('uncaught exception in the gateway:', e));
process.on('unhandledRejection', (e) => console.error('unhandled rejection in the gateway:', e));

server.on('error', (e: NodeJS.ErrnoException) => {
	// The CLI sees this process exit and shows the log's last lines: make them say what to do.
	console.error(
		e.code === 'EADDRINUSE'
			? `port ${config.api.port} is already taken: stop what uses it, or set SUPABASE_API_PORT`
			: `the gateway could not listen on ${config.api.port}: ${e.message}`
	);
	process.exit(1);
});
server.listen(config.api.port, '127.0.0.1');

async function shutdown() {
	server.close();
	server.closeAllConnections();
	await Promise.allSettled([auth.close(), rest.close(), functions.close(), realtime.close()]);
	process.exit(0);
}
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void shutdown());

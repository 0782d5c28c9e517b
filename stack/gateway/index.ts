// The API gateway: one port in front of the platform's services, as Kong is for Supabase.
// Plain node:http on purpose: it sits on every request, so it stays small.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HttpService } from '../service-interface.ts';
import { createAuthService } from '../auth/index.ts';
import { createRestService } from '../rest/index.ts';
import { createFunctionsService } from '../functions/index.ts';
import { createRealtimeService } from '../realtime/index.ts';
import { checkApiKey, hideApiKey, refuseKey, upgradeUrlWithJwt } from './api-keys.ts';
import { answerPreflight, isPreflight, setCorsHeaders } from './cors.ts';
import { answerHealth, healthPath } from './health.ts';
import { logRequest, logUpgrade } from './request-log.ts';

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

export interface Gateway {
	/** Not listening yet: the caller picks the port and handles its errors. */
	server: Server;
	/** Closes the port, then every service (their pools, processes and sockets). */
	close(): Promise<void>;
}

/** Creates every service and the HTTP server that routes to them. */
export function createGateway(): Gateway {
	const auth = createAuthService();
	const rest = createRestService();
	const functions = createFunctionsService();
	const realtime = createRealtimeService();
	const services = { auth, rest, functions, realtime };

	const routes: Route[] = [
		{ prefix: '/auth/v1', service: auth, needsKey: true, cors: true, hideKey: false },
		{ prefix: '/rest/v1', service: rest, needsKey: true, cors: true, hideKey: true },
		{ prefix: '/functions/v1', service: functions, needsKey: false, cors: false, hideKey: false },
		// Realtime's HTTP side (e.g. /realtime/v1/api/broadcast).
		{ prefix: '/realtime/v1', service: realtime, needsKey: true, cors: true, hideKey: false }
	];

	function handle(req: IncomingMessage, res: ServerResponse) {
		const url = req.url ?? '/';
		if (url === healthPath) return void answerHealth(res, services);
		logRequest(req, res);
		const route = routes.find((r) => matches(url, r.prefix));
		if (!route) return sendJson(res, 404, { message: 'no Route matched with those values' });
		if (route.cors) {
			if (isPreflight(req)) return answerPreflight(req, res);
			setCorsHeaders(req, res);
		}
		const open = route.service === auth && openAuthPaths.some((p) => url.startsWith(p));
		if (route.needsKey && !open) {
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

	function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
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
	}

	const server = createServer({ keepAliveTimeout: 65_000 }, handle);
	server.on('upgrade', upgrade);
	return {
		server,
		async close() {
			server.close();
			server.closeAllConnections();
			await Promise.allSettled(Object.values(services).map((s) => s.close()));
		}
	};
}

// The API gateway: one port in front of the platform's services, as Kong is for Supabase.
import { createServer } from 'node:http';
import { config } from './config.ts';
import { healthPath } from './services.ts';
import { createAuthService } from './auth/index.ts';
import { createRestService } from './rest/index.ts';
import { createFunctionsService } from './functions/index.ts';
import { createRealtimeService } from './realtime/index.ts';

const auth = createAuthService();
const rest = createRestService();
const functions = createFunctionsService();
const realtime = createRealtimeService();

const routes = [
	['/auth/v1', auth],
	['/rest/v1', rest],
	['/functions/v1', functions]
] as const;

const server = createServer((req, res) => {
	const url = req.url ?? '/';
	if (url === healthPath) {
		res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
		return;
	}
	for (const [prefix, service] of routes) {
		if (url === prefix || url.startsWith(prefix + '/') || url.startsWith(prefix + '?')) {
			service.handle(req, res).catch((e) => {
				console.error(`${req.method} ${url}:`, e);
				if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
				res.end('{"message":"An unexpected error occurred"}');
			});
			return;
		}
	}
	res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"no Route matched with those values"}');
});

server.on('upgrade', (req, socket, head) => {
	if ((req.url ?? '').startsWith('/realtime/v1/')) realtime.handleUpgrade(req, socket, head);
	else socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
});

server.listen(config.api.port, '127.0.0.1');

async function shutdown() {
	server.close();
	await Promise.allSettled([auth.close(), rest.close(), functions.close(), realtime.close()]);
	process.exit(0);
}
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void shutdown());

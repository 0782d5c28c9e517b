// The Realtime server on its own port, outside the gateway: lets tests kill and restart it
// mid-stream. Usage: npx tsx stack/realtime/standalone.ts [--port N, 0 = any free] [--slot name]
// The gateway's V8 settings come first, so what runs here (and what benchmarks measure here)
// is what runs inside the gateway.
import '../gateway/heap.ts';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { config } from '../config.ts';
import { RealtimeServer } from './server.ts';

const { values } = parseArgs({
	options: {
		port: { type: 'string', default: '57400' },
		slot: { type: 'string', default: 'botflow_realtime_standalone' }
	}
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
	console.error(
		`--port ${values.port} is not a valid port: use an integer from 0 (any free port) to 65535`
	);
	process.exit(2);
}

const realtime = new RealtimeServer({ dbUrl: config.db.url, slot: values.slot! });
const http = createServer((req, res) => {
	if (req.url === '/stats') {
		// server-side share of the latency, for the benchmark; reading resets it
		const { dispatcher } = realtime;
		const body = JSON.stringify({
			...dispatcher.stats,
			...dispatcher.sendStats,
			dispatchMs: dispatcher.dispatchMs,
			connections: realtime.conns.size,
			memory: process.memoryUsage()
		});
		dispatcher.dispatchMs = [];
		res.writeHead(200, { 'content-type': 'application/json' }).end(body);
		return;
	}
	if ((req.url ?? '').includes('/api/broadcast')) {
		realtime.handle(req, res).catch((e) => {
			console.error(e);
			if (!res.headersSent) res.writeHead(500).end();
		});
		return;
	}
	res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
});
http.on('upgrade', (req, socket, head) => realtime.handleUpgrade(req, socket, head));

await realtime.start();
http.listen(port, '127.0.0.1', () =>
	console.log(
		`realtime listening on ${(http.address() as import('node:net').AddressInfo).port} (slot ${values.slot})`
	)
);

async function shutdown() {
	http.close();
	await realtime.close();
	process.exit(0);
}
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void shutdown());

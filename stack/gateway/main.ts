// The gateway process that `stack:start` launches (launcher.ts): listens on the API port and
// stops cleanly on SIGTERM. heap.ts comes first so its V8 flags apply to every service.
import './heap.ts';
import { config } from '../config.ts';
import { createGateway } from './index.ts';

const gateway = createGateway();

// A bug in one request must not take every other one down with the process.
process.on('uncaughtException', (e) => console.error('uncaught exception in the gateway:', e));
process.on('unhandledRejection', (e) => console.error('unhandled rejection in the gateway:', e));

gateway.server.on('error', (e: NodeJS.ErrnoException) => {
	// The CLI sees this process exit and shows the log's last lines: make them say what to do.
	console.error(
		e.code === 'EADDRINUSE'
			? `port ${config.api.port} is already taken: stop what uses it, or set SUPABASE_API_PORT`
			: `the gateway could not listen on ${config.api.port}: ${e.message}`
	);
	process.exit(1);
});
gateway.server.listen(config.api.port, '127.0.0.1');

async function shutdown() {
	await gateway.close();
	process.exit(0);
}
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void shutdown());

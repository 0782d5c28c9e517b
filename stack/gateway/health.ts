// The gateway's health answer, which `stack:start` polls: 200 once every service is ready.
import type { ServerResponse } from 'node:http';

export const healthPath = '/__stack/health';

let lastUnhealthy = '';

export async function answerHealth(
	res: ServerResponse,
	services: Record<string, { ready?: () => Promise<void> }>
) {
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
	res
		.writeHead(ok ? 200 : 503, { 'content-type': 'application/json; charset=utf-8' })
		.end(JSON.stringify(ok ? { ok, memory_mb } : { ok, failing, memory_mb }));
}

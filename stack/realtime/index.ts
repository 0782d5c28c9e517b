// The Realtime service behind the gateway: `/realtime/v1/websocket`. The database side (slot,
// helper schema) is set up lazily on first start, so importing this module never blocks.
import type { HttpService, UpgradeService } from '../service-interface.ts';
import { config } from '../config.ts';
import { RealtimeServer } from './server.ts';

/** One slot per database and server; REALTIME_SLOT lets a second server (tests) use its own. */
export const defaultSlot = process.env.REALTIME_SLOT ?? 'botflow_realtime';

/**
 * Upgrades under /realtime/v1/ are the WebSocket; `handle` serves the HTTP broadcast endpoint
 * (POST /realtime/v1/api/broadcast...), for a gateway that routes /realtime/v1 requests here.
 */
export function createRealtimeService(): UpgradeService & HttpService {
	const server = new RealtimeServer({ dbUrl: config.db.url, slot: defaultSlot });
	let closed = false;
	// The database may come up after the gateway: keep trying, channels work meanwhile.
	const started = (async () => {
		for (let wait = 500; !closed; wait = Math.min(wait * 2, 5000)) {
			try {
				await server.start();
				return;
			} catch (e) {
				console.error(
					`[realtime] could not start change capture (${(e as Error).message}); retrying in ${wait} ms`
				);
				await new Promise((r) => setTimeout(r, wait));
			}
		}
	})();
	return {
		handleUpgrade(req, socket, head) {
			server.handleUpgrade(req, socket, head);
		},
		handle(req, res) {
			return server.handle(req, res);
		},
		async close() {
			closed = true;
			await started;
			await server.close();
		}
	};
}

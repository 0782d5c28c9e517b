// Placeholder until the realtime service lands: refuses upgrades.
import type { UpgradeService } from '../services-api.ts';

export function createRealtimeService(): UpgradeService {
	return {
		handleUpgrade(_req, socket) {
			socket.end('HTTP/1.1 501 Not Implemented\r\n\r\n');
		},
		async close() {}
	};
}

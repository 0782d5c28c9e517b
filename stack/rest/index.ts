// Placeholder until the rest service lands: answers 501 so the gateway can route to it.
import type { HttpService } from '../services-api.ts';

export function createRestService(): HttpService {
	return {
		async handle(_req, res) {
			res.writeHead(501, { 'content-type': 'application/json' }).end('{"message":"rest is not implemented yet"}');
		},
		async close() {}
	};
}

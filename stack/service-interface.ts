// The service interface: the contract between the gateway and the services it fronts. Each
// service is created once per gateway process and owns its own database pool.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export interface HttpService {
	/** Serves one request; `req.url` still carries the full path (e.g. `/rest/v1/bots?...`). */
	handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
	close(): Promise<void>;
	/** Resolves once the service can serve; the gateway's health waits for every one. */
	ready?(): Promise<void>;
}

export interface UpgradeService {
	/** Takes over a WebSocket upgrade the gateway has already checked the apikey of. */
	handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
	close(): Promise<void>;
	ready?(): Promise<void>;
}

// What the e2e specs need to know about the running platform instance (the same settings the
// webServer hands the app), and a few direct API calls a user's bot or script would make.
import { config } from '../../stack/config.ts';

export const apiUrl = config.api.url;
export const anonKey = config.keys.anon;

export const DEMO_PASSWORD = 'password123';
export const demoUsers = {
	/** Owner of Acme. */
	alice: 'alice@botflow.test',
	/** Viewer at Acme. */
	carol: 'carol@botflow.test',
	/** Owner of Globex. */
	bob: 'bob@botflow.test'
} as const;

/** A fresh address per call, so specs can sign up again and again on the same database. */
export function uniqueEmail(tag: string): string {
	return `e2e-${tag}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}@botflow.test`;
}

/** Sends one message event to the ingest function with a bot API key; returns the HTTP status. */
export async function ingestOneEvent(apiKey: string): Promise<number> {
	const res = await fetch(`${apiUrl}/functions/v1/ingest`, {
		method: 'POST',
		headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
		body: JSON.stringify({
			events: [
				{
					type: 'message',
					conversation_id: `e2e-${Date.now()}`,
					message_id: `m-${Date.now()}-${Math.random().toString(36).slice(2)}`,
					role: 'user',
					content: 'Hello from the e2e test',
					timestamp: new Date().toISOString()
				}
			]
		})
	});
	await res.body?.cancel();
	return res.status;
}

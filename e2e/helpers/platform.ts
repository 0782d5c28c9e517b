// What the e2e specs need to know about the running platform instance (the same settings the
// webServer hands the app), and a few direct API calls a user's bot or script would make.
import { createClient } from '@supabase/supabase-js';
import { WebSocket } from 'ws';
import type { Database } from '../../src/lib/database.types.ts';
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

/** Sends one message event to the ingest function with a bot API key, as a bot would. */
export async function ingestOneEvent(
	apiKey: string
): Promise<{ status: number; accepted: number | null }> {
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
	const body = (await res.json().catch(() => null)) as { accepted?: number } | null;
	return { status: res.status, accepted: body?.accepted ?? null };
}

/** A supabase-js client signed in as a demo user: what a user's own script could do with REST. */
export async function signedInClient(email: string, password = DEMO_PASSWORD) {
	const client = createClient<Database>(apiUrl, anonKey, {
		auth: { persistSession: false, autoRefreshToken: false },
		// Node 20 has no global WebSocket; supabase-js wants one even when Realtime is unused.
		realtime: { transport: WebSocket as never }
	});
	const { error } = await client.auth.signInWithPassword({ email, password });
	if (error) throw new Error(`sign-in as ${email} failed: ${error.message}`);
	return client;
}

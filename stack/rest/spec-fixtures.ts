// Shared setup for the REST specs: a superuser connection for fixtures, and clients that
// carry a given JWT the way a signed-in browser does.
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import { config } from '../config.ts';
import { adminSql } from '../testing.ts';

export const admin = adminSql();

/** Runs fixture DDL; the service's schema cache follows through `notify pgrst`. */
export async function ddl(text: string): Promise<void> {
	await admin.unsafe(text);
	await admin.unsafe(`notify pgrst, 'reload schema'`);
	// Give the notification a moment to reach the service before the first request.
	await new Promise((r) => setTimeout(r, 150));
}

/** A client whose requests carry `token` as the bearer, with the anon key as apikey. */
export function clientWithToken(token: string): SupabaseClient {
	return createClient(config.api.url, config.keys.anon, {
		auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
		// Node 20 has no global WebSocket, which realtime-js wants when a client is created.
		realtime: { transport: WebSocket as unknown as typeof globalThis.WebSocket },
		global: { headers: { Authorization: `Bearer ${token}` } }
	});
}

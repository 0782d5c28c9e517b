// Helpers for integration tests: official clients pointed at the running local platform.
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import postgres from 'postgres';
import WebSocket from 'ws';
import { config } from './config.ts';

// Node 20 has no global WebSocket, which realtime-js needs as soon as a client is created.
const noSession = {
	auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
	realtime: { transport: WebSocket as unknown as typeof globalThis.WebSocket }
};

export function anonClient(): SupabaseClient {
	return createClient(config.api.url, config.keys.anon, noSession);
}

export function serviceClient(): SupabaseClient {
	return createClient(config.api.url, config.keys.serviceRole, noSession);
}

/** A direct superuser connection, for arranging fixtures the API must not be able to make. */
export function adminSql(options: postgres.Options<Record<string, postgres.PostgresType>> = {}) {
	return postgres(config.db.url, { max: 2, onnotice: () => {}, ...options });
}

let counter = 0;
/** A unique address per call, so reruns never collide with users of an earlier run. */
export function uniqueEmail(prefix = 'user'): string {
	return `${prefix}-${Date.now().toString(36)}-${process.pid}-${counter++}@example.test`;
}

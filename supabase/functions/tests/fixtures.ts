// Fixtures for `deno test` against a running platform (local stack, `supabase start` or a
// hosted project): the URL and keys come from env, defaulting to the CLI's local values.
import postgres from 'postgres';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';

// One waiting helper for every test layer (plain TypeScript, no runtime imports).
export { until } from '../../../stack/polling.ts';

export const env = {
	url: Deno.env.get('SUPABASE_URL') ?? 'http://127.0.0.1:54321',
	anonKey:
		Deno.env.get('SUPABASE_ANON_KEY') ??
		'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0',
	serviceKey:
		Deno.env.get('SUPABASE_SERVICE_ROLE_KEY') ??
		'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU',
	dbUrl:
		Deno.env.get('SUPABASE_DB_URL') ?? 'postgresql://postgres:postgres@127.0.0.1:54322/postgres'
};

export const functionUrl = (name: string) => `${env.url}/functions/v1/${name}`;

/** Superuser connection, only for arranging what the API must not allow (e.g. rate settings). */
export const adminSql = postgres(env.dbUrl, { max: 4, onnotice: () => {} });

const noSession = { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false };

export function anonClient(): SupabaseClient {
	return createClient(env.url, env.anonKey, { auth: noSession });
}

/** Deno.test without the leak checks: the shared pool and HTTP keep-alive outlive one test. */
export function test(name: string, fn: () => Promise<void>) {
	Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });
}

export type Tenant = { client: SupabaseClient; userId: string; organizationId: string };

/** A new user through the real sign-up, with the personal organization sign-up creates. */
export async function signUp(label = 'user'): Promise<Tenant> {
	const client = anonClient();
	const email = `${label}-${crypto.randomUUID()}@example.test`;
	const { data, error } = await client.auth.signUp({ email, password: 'correct-horse-42' });
	if (error || !data.user || !data.session) throw new Error(`sign-up failed: ${error?.message}`);
	const { data: org, error: orgError } = await client
		.from('organizations')
		.select('id')
		.eq('is_personal', true)
		.single();
	if (orgError) throw new Error(`personal organization not found: ${orgError.message}`);
	return { client, userId: data.user.id, organizationId: org.id };
}

export type Bot = { id: string; name: string; key: string; keyId: string };

/** A bot and an API key, made by the tenant's owner through REST and RPC as the app does. */
export async function createBot(tenant: Tenant, name = 'Support bot'): Promise<Bot> {
	const { data: bot, error } = await tenant.client
		.from('bots')
		.insert({ organization_id: tenant.organizationId, name })
		.select('id, name')
		.single();
	if (error) throw new Error(`bot insert failed: ${error.message}`);
	const { data: keys, error: keyError } = await tenant.client.rpc('create_bot_api_key', {
		p_bot_id: bot.id,
		p_name: 'tests'
	});
	if (keyError) throw new Error(`create_bot_api_key failed: ${keyError.message}`);
	const key = Array.isArray(keys) ? keys[0] : keys;
	return { id: bot.id, name: bot.name, key: key.key, keyId: key.id };
}

/** POSTs a batch the way a bot's HTTP client would. */
export function ingest(
	key: string | null,
	body: unknown,
	init: RequestInit = {}
): Promise<Response> {
	const headers = new Headers(init.headers);
	if (key !== null) headers.set('Authorization', `Bearer ${key}`);
	headers.set('Content-Type', 'application/json');
	return fetch(functionUrl('ingest'), {
		method: 'POST',
		body: typeof body === 'string' || body instanceof ReadableStream ? body : JSON.stringify(body),
		...init,
		headers
	});
}

let seq = 0;
/** A unique id, so reruns against the same database never collide. */
export const uid = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}-${seq++}`;

export const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();

export function message(conversationId: string, fields: Record<string, unknown> = {}) {
	return {
		type: 'message',
		conversation_id: conversationId,
		message_id: uid('msg'),
		role: 'user',
		content: 'Where is my order?',
		timestamp: minutesAgo(10),
		...fields
	};
}

/** RFC 4180 parser (quoted fields, doubled quotes, CRLF) to read exports back. */
export function parseCsv(text: string): string[][] {
	const rows: string[][] = [];
	let row: string[] = [];
	let field = '';
	let quoted = false;
	for (let i = 0; i < text.length; i++) {
		const ch = text[i];
		if (quoted) {
			if (ch === '"' && text[i + 1] === '"') {
				field += '"';
				i++;
			} else if (ch === '"') quoted = false;
			else field += ch;
		} else if (ch === '"') quoted = true;
		else if (ch === ',') {
			row.push(field);
			field = '';
		} else if (ch === '\r' && text[i + 1] === '\n') {
			row.push(field);
			rows.push(row);
			row = [];
			field = '';
			i++;
		} else if (ch === '\n') throw new Error(`bare LF outside quotes at offset ${i}`);
		else field += ch;
	}
	if (field !== '' || row.length > 0) throw new Error('last record does not end with CRLF');
	return rows;
}

// Helpers for tests and benchmarks of the platform and the product (stack/, integration/,
// scripts/bench/): official clients pointed at the running local platform, tokens, waiting.
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import postgres from 'postgres';
import WebSocket from 'ws';
import { request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import { config } from './config.ts';
import { signLegacy } from './jwt.ts';

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

/** An access token for a signed-in user, with the claims GoTrue issues (plus `extra`). */
export function userToken(
	sub: string,
	expiresIn = 3600,
	extra: Record<string, unknown> = {}
): Promise<string> {
	const now = Math.floor(Date.now() / 1000);
	return signLegacy({
		sub,
		role: 'authenticated',
		aud: 'authenticated',
		iat: now,
		exp: now + expiresIn,
		email: `${sub.slice(0, 8)}@example.test`,
		app_metadata: { provider: 'email' },
		user_metadata: {},
		is_anonymous: false,
		...extra
	});
}

export { percentile, until } from './polling.ts';

let counter = 0;
/** A unique address per call, so reruns never collide with users of an earlier run. */
export function uniqueEmail(prefix = 'user'): string {
	return `${prefix}-${Date.now().toString(36)}-${process.pid}-${counter++}@example.test`;
}

/** A new user, signed up and signed in; `client` carries the user's session. */
export async function signUpAndSignIn(
	options: { password?: string; data?: Record<string, unknown> } = {}
) {
	const email = uniqueEmail();
	const password = options.password ?? 'correct-horse-battery';
	const client = anonClient();
	const { data, error } = await client.auth.signUp({
		email,
		password,
		options: { data: options.data }
	});
	if (error || !data.session || !data.user) throw new Error(`sign up failed: ${error?.message}`);
	return { client, email, password, user: data.user, session: data.session };
}

/** A spare loopback address per call, so per-address limits one test hits never reach another. */
export function freshAddress() {
	const n = () => 1 + Math.floor(Math.random() * 250);
	return `127.${n()}.${n()}.${n()}`;
}

/**
 * An anon client whose requests leave from the given loopback address (127.x.y.z), so a test
 * can act as a distinct client address (e.g. for per-address rate limits).
 */
export function anonClientFrom(localAddress: string): SupabaseClient {
	return createClient(config.api.url, config.keys.anon, {
		...noSession,
		global: { fetch: fetchFrom(localAddress) }
	});
}

function fetchFrom(localAddress: string): typeof fetch {
	return async (input, init) => {
		const request = new Request(input, init);
		const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
		return new Promise<Response>((resolve, reject) => {
			const req = httpRequest(
				request.url,
				{ method: request.method, headers: Object.fromEntries(request.headers), localAddress },
				(res) => {
					const headers = new Headers();
					for (const [k, v] of Object.entries(res.headers)) {
						for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v])
							headers.append(k, one);
					}
					const status = res.statusCode ?? 500;
					const noBody = status === 204 || status === 304 || request.method === 'HEAD';
					resolve(
						new Response(noBody ? null : (Readable.toWeb(res) as ReadableStream), {
							status,
							headers
						})
					);
				}
			);
			req.on('error', reject);
			req.end(body);
		});
	};
}

// The `apikey` check Kong does in front of a Supabase project. Four keys are valid: the legacy
// anon / service_role JWTs and the newer opaque sb_publishable_ / sb_secret_ keys. The opaque
// keys are swapped for the matching legacy JWT before a request reaches a service, so every
// service only ever sees JWTs (as hosted Supabase's gateway does for its upstreams).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { config } from '../config.ts';

export type KeyRole = 'anon' | 'service_role';

interface KnownKey {
	role: KeyRole;
	/** The legacy JWT that stands for this key downstream. */
	jwt: string;
	opaque: boolean;
}

const known = new Map<string, KnownKey>([
	[config.keys.anon, { role: 'anon', jwt: config.keys.anon, opaque: false }],
	[config.keys.serviceRole, { role: 'service_role', jwt: config.keys.serviceRole, opaque: false }],
	[config.keys.publishable, { role: 'anon', jwt: config.keys.anon, opaque: true }],
	[config.keys.secret, { role: 'service_role', jwt: config.keys.serviceRole, opaque: true }]
]);

export function lookupKey(key: string | undefined): KnownKey | undefined {
	return key ? known.get(key) : undefined;
}

/** Kong's answers, word for word, so clients that match on them behave as on hosted. */
export const kongErrors = {
	missing: {
		message: 'No API key found in request',
		hint: 'No `apikey` request header or url param was found.'
	},
	invalid: {
		message: 'Invalid API key',
		hint: 'Double check your Supabase `anon` or `service_role` API key.'
	}
};

function queryApiKey(url: string): string | undefined {
	const q = url.indexOf('?');
	if (q < 0) return undefined;
	return new URLSearchParams(url.slice(q + 1)).get('apikey') ?? undefined;
}

export type KeyCheck =
	{ ok: true; key: KnownKey } | { ok: false; body: { message: string; hint: string } };

/** Checks the header (or, as Kong allows, the `apikey` query parameter). */
export function checkApiKey(req: IncomingMessage): KeyCheck {
	const header = req.headers.apikey;
	const raw = (Array.isArray(header) ? header[0] : header) ?? queryApiKey(req.url ?? '');
	if (!raw) return { ok: false, body: kongErrors.missing };
	const key = lookupKey(raw);
	if (!key) return { ok: false, body: kongErrors.invalid };
	if (key.opaque) {
		// supabase-js sends the opaque key as the bearer too when there is no session.
		const auth = req.headers.authorization;
		if (!auth || auth === `Bearer ${raw}`) req.headers.authorization = `Bearer ${key.jwt}`;
		if (req.headers.apikey) req.headers.apikey = key.jwt;
	}
	return { ok: true, key };
}

/**
 * Kong's `hide_credentials` for REST: the key is not passed on, so PostgREST never reads an
 * `apikey` query parameter as a column filter.
 */
export function hideApiKey(req: IncomingMessage) {
	delete req.headers.apikey;
	const url = req.url ?? '';
	const q = url.indexOf('?');
	if (q < 0 || !url.includes('apikey=', q)) return;
	// Drop only that parameter, leaving every other one byte for byte as the client sent it.
	const rest = url
		.slice(q + 1)
		.split('&')
		.filter((part) => part.split('=')[0] !== 'apikey')
		.join('&');
	req.url = rest ? `${url.slice(0, q)}?${rest}` : url.slice(0, q);
}

export function refuseKey(res: ServerResponse, body: { message: string; hint: string }) {
	res
		.writeHead(401, { 'content-type': 'application/json; charset=utf-8' })
		.end(JSON.stringify(body));
}

/** Replaces an opaque key in a WebSocket URL's query with its JWT, for the realtime service. */
export function upgradeUrlWithJwt(url: string, key: KnownKey): string {
	if (!key.opaque) return url;
	const q = url.indexOf('?');
	const params = new URLSearchParams(url.slice(q + 1));
	params.set('apikey', key.jwt);
	return `${url.slice(0, q)}?${params}`;
}

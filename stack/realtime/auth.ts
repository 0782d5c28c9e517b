// Channel tokens, checked as hosted Realtime checks them, with its error wording (realtime-js
// surfaces these strings to users in CHANNEL_ERROR and `system` events).
import { decodeJwt } from 'jose';
import { JwtError, verifyJwt, type Claims } from '../jwt.ts';
import type { Channel } from './channel.ts';

export type TokenResult =
	| { ok: true; claims: Claims & { role: string; exp: number } }
	| { ok: false; code: string; message: string };

const FAR_FUTURE = 4102444800; // 2100-01-01: the opaque sb_ keys do not expire

/** The claims an opaque API key stands for, or null if it is not one. */
export function opaqueKeyClaims(key: string): TokenResult | null {
	if (key.startsWith('sb_publishable_'))
		return { ok: true, claims: { role: 'anon', exp: FAR_FUTURE } };
	if (key.startsWith('sb_secret_'))
		return { ok: true, claims: { role: 'service_role', exp: FAR_FUTURE } };
	return null;
}

const cache = new Map<string, TokenResult>();

export async function checkToken(token: string): Promise<TokenResult> {
	const opaque = opaqueKeyClaims(token);
	if (opaque) return opaque;
	const hit = cache.get(token);
	if (hit && (!hit.ok || hit.claims.exp * 1000 > Date.now())) return hit;
	const result = await verify(token);
	if (cache.size > 50_000) cache.clear();
	// Expired results are recomputed so the "N seconds ago" stays true.
	if (result.ok || result.code !== 'InvalidJWTToken') cache.set(token, result);
	return result;
}

/**
 * Who joins a channel: its own token if it sent one, else the socket's apikey (a legacy JWT or
 * an opaque key); neither is refused with hosted Realtime's wording.
 */
export async function checkJoin(token: string | null, apikey: string | null): Promise<TokenResult> {
	if (token) return checkToken(token);
	if (apikey) return opaqueKeyClaims(apikey) ?? (await checkToken(apikey));
	return {
		ok: false,
		code: 'InvalidJWTToken',
		message: 'Fields `role` and `exp` are required in JWT'
	};
}

/** Calls `expire` with hosted Realtime's wording once the channel's token has expired. */
export function armExpiry(ch: Channel, expire: (message: string) => void) {
	if (ch.expiryTimer) clearTimeout(ch.expiryTimer);
	const ms = ch.claims.exp * 1000 - Date.now();
	// setTimeout caps at ~24.8 days; re-arm rather than overflow.
	ch.expiryTimer = setTimeout(
		() => {
			if (!ch.open) return;
			if (ch.claims.exp * 1000 > Date.now()) return armExpiry(ch, expire);
			const ago = Math.max(0, Math.floor(Date.now() / 1000) - ch.claims.exp);
			expire(`Token has expired ${ago} seconds ago`);
		},
		Math.min(Math.max(ms, 0), 2 ** 31 - 1)
	);
	ch.expiryTimer.unref();
}

async function verify(token: string): Promise<TokenResult> {
	let claims: Claims;
	try {
		claims = await verifyJwt(token);
	} catch (e) {
		if (e instanceof JwtError && e.expired) {
			let ago = 0;
			try {
				ago = Math.max(0, Math.floor(Date.now() / 1000) - Number(decodeJwt(token).exp));
			} catch {
				// the verifier already said expired; keep 0
			}
			return {
				ok: false,
				code: 'InvalidJWTToken',
				message: `Token has expired ${ago} seconds ago`
			};
		}
		if (e instanceof JwtError && e.message.includes('malformed')) {
			return { ok: false, code: 'MalformedJWT', message: 'The token provided is not a valid JWT' };
		}
		return { ok: false, code: 'JwtSignatureError', message: 'Failed to validate JWT signature' };
	}
	if (typeof claims.role !== 'string' || typeof claims.exp !== 'number') {
		return {
			ok: false,
			code: 'InvalidJWTToken',
			message: 'Fields `role` and `exp` are required in JWT'
		};
	}
	return { ok: true, claims: claims as Claims & { role: string; exp: number } };
}

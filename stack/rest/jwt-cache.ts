// The caller's role and claims from the bearer JWT (none means `anon`), as PostgREST reads
// them. Verified tokens are cached until they expire: supabase-js sends the same one for an
// hour, and verifying it on every request cost more than the query.
import type { IncomingMessage } from 'node:http';
import { JwtError, verifyJwt } from '../jwt.ts';
import { ApiError } from './errors.ts';

export interface Auth {
	role: string;
	/** The claims as JSON, for `request.jwt.claims`. */
	claims: string;
}

const anon: Auth = { role: 'anon', claims: '{"role":"anon"}' };
const maxCached = 10_000;

export function createAuthenticator(): (req: IncomingMessage) => Promise<Auth> {
	const cache = new Map<string, { auth: Auth; exp: number }>();
	return async function authenticate(req) {
		const header = req.headers.authorization;
		const m = header ? /^Bearer\s+(.*)$/i.exec(header) : null;
		if (!m) return { ...anon };
		const token = m[1].trim();
		const hit = cache.get(token);
		if (hit && hit.exp > Date.now() / 1000) return hit.auth;
		try {
			const claims = await verifyJwt(token);
			const auth = {
				role: typeof claims.role === 'string' && claims.role ? claims.role : 'anon',
				claims: JSON.stringify(claims)
			};
			if (cache.size > maxCached) cache.clear();
			cache.set(token, { auth, exp: claims.exp ?? Infinity });
			return auth;
		} catch (e) {
			if (!(e instanceof JwtError)) throw e;
			const code = e.expired ? 'PGRST303' : 'PGRST301';
			throw new ApiError(401, code, e.message, null, null, {
				'www-authenticate': `Bearer error="invalid_token", error_description="${e.message}"`
			});
		}
	};
}

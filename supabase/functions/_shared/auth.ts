import { authUser, bearer } from './clients.ts';
import { HttpError } from './errors.ts';

export type Caller = { authorization: string; claims: Record<string, unknown> };

function decodePayload(token: string): Record<string, unknown> {
	const part = token.split('.')[1] ?? '';
	const b64 = part.replaceAll('-', '+').replaceAll('_', '/');
	return JSON.parse(atob(b64.padEnd(Math.ceil(b64.length / 4) * 4, '=')));
}

/**
 * The signed-in user behind a request. Auth itself validates the token (signature, expiry,
 * session not logged out); only then are its claims trusted for RLS.
 */
export async function requireUser(req: Request): Promise<Caller> {
	const token = bearer(req);
	const unauthorized = new HttpError(
		401,
		'unauthorized',
		'Sign in first: send the user access token as "Authorization: Bearer <jwt>".'
	);
	if (!token) throw unauthorized;
	const authorization = `Bearer ${token}`;
	const user = await authUser(token);
	if (!user) throw unauthorized;
	let claims: Record<string, unknown>;
	try {
		claims = decodePayload(token);
	} catch {
		throw unauthorized;
	}
	if (claims.role !== 'authenticated' || claims.sub !== user.id) throw unauthorized;
	return { authorization, claims };
}

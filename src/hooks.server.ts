import '$lib/server/node-websocket';
import { createServerClient } from '@supabase/ssr';
import { redirect, type Handle } from '@sveltejs/kit';
import { sequence } from '@sveltejs/kit/hooks';
import type { Database } from '$lib/database.types';
import { signInUrlFor } from '$lib/redirect';
import { supabaseEnv } from '$lib/supabase-env';

/** A Supabase client per request, acting as the signed-in user (cookies carry the session). */
const supabase: Handle = async ({ event, resolve }) => {
	const { url, anonKey } = supabaseEnv();
	event.locals.supabase = createServerClient<Database>(url, anonKey, {
		cookies: {
			getAll: () => event.cookies.getAll(),
			setAll: (cookiesToSet) => {
				for (const { name, value, options } of cookiesToSet) {
					event.cookies.set(name, value, { ...options, path: '/' });
				}
			}
		}
	});

	// getSession() only reads the cookie; getClaims() verifies the JWT (JWKS, or the Auth server
	// for symmetric keys), so nothing on the server trusts an unverified token.
	event.locals.safeGetSession = async () => {
		const { data, error } = await event.locals.supabase.auth.getClaims();
		if (error || !data) return { session: null, user: null };
		const {
			data: { session }
		} = await event.locals.supabase.auth.getSession();
		if (!session) return { session: null, user: null };
		// The user comes from the verified claims, never from the unverified cookie. Only the
		// tokens are handed on: reading the cookie's `user` (as serialising the whole session
		// for the page would) is what auth-js warns about on the server.
		const { access_token, refresh_token, expires_in, expires_at, token_type } = session;
		const { sub, email } = data.claims;
		return {
			session: { access_token, refresh_token, expires_in, expires_at, token_type },
			user: { id: sub, email: typeof email === 'string' ? email : '' }
		};
	};

	return resolve(event, {
		filterSerializedResponseHeaders: (name) =>
			name === 'content-range' || name === 'x-supabase-api-version'
	});
};

/** Pages of the (app) group need a user; signed-in users skip the sign-in pages. */
const authGuard: Handle = async ({ event, resolve }) => {
	const { session, user } = await event.locals.safeGetSession();
	event.locals.session = session;
	event.locals.user = user;

	const routeId = event.route.id ?? '';
	if (!session && routeId.startsWith('/(app)')) {
		redirect(303, signInUrlFor(event.url));
	}
	if (session && (routeId === '/(auth)/sign-in' || routeId === '/(auth)/sign-up')) {
		redirect(303, '/');
	}
	return resolve(event);
};

export const handle: Handle = sequence(supabase, authGuard);

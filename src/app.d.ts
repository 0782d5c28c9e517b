import type { Session, SupabaseClient } from '@supabase/supabase-js';
import type { Database } from '$lib/database.types';

// See https://svelte.dev/docs/kit/types#app.d.ts
declare global {
	namespace App {
		interface Error {
			message: string;
			/** What the user can do about it (shown under the message). */
			hint?: string;
		}
		/**
		 * The session's tokens, without the cookie's unverified copy of the user: the user comes
		 * from the verified claims (SessionUser), and the page only needs the tokens.
		 */
		type SessionTokens = Pick<
			Session,
			'access_token' | 'refresh_token' | 'expires_in' | 'expires_at' | 'token_type'
		>;
		/** The signed-in user, from the verified JWT claims. */
		interface SessionUser {
			id: string;
			email: string;
		}
		interface Locals {
			supabase: SupabaseClient<Database>;
			safeGetSession: () => Promise<{ session: SessionTokens | null; user: SessionUser | null }>;
			session: SessionTokens | null;
			user: SessionUser | null;
		}
		interface PageData {
			session: SessionTokens | null;
		}
		// interface PageState {}
		// interface Platform {}
	}
}

export {};

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
		/** The signed-in user, from the verified JWT claims. */
		interface SessionUser {
			id: string;
			email: string;
		}
		interface Locals {
			supabase: SupabaseClient<Database>;
			safeGetSession: () => Promise<{ session: Session | null; user: SessionUser | null }>;
			session: Session | null;
			user: SessionUser | null;
		}
		interface PageData {
			session: Session | null;
		}
		// interface PageState {}
		// interface Platform {}
	}
}

export {};

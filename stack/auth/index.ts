// The Auth service (GoTrue-compatible) behind /auth/v1.
import type { HttpService } from '../service-interface.ts';
import { handleAuth } from './routes.ts';
import { sql } from './store.ts';

export function createAuthService(): HttpService & { ready(): Promise<void> } {
	return {
		handle: handleAuth,
		/** Health: the auth tables must be reachable as supabase_auth_admin. */
		async ready() {
			await sql`select 1 from auth.users limit 1`;
		},
		async close() {
			await sql.end({ timeout: 2 });
		}
	};
}

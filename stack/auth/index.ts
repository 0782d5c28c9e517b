// The Auth service (GoTrue-compatible) behind /auth/v1.
import type { HttpService } from '../services-api.ts';
import { handleAuth } from './routes.ts';
import { sql } from './store.ts';

export function createAuthService(): HttpService {
	return {
		handle: handleAuth,
		async close() {
			await sql.end({ timeout: 2 });
		}
	};
}

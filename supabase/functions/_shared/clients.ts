// Clients built from the env every Supabase Edge Function receives, hosted or local.
import postgres from 'postgres';

function env(name: string): string {
	const value = Deno.env.get(name);
	if (!value) throw new Error(`${name} is not set: the functions host must provide it`);
	return value;
}

let pool: postgres.Sql | undefined;

/**
 * One small pool per isolate, reused across requests. `prepare: false` keeps it working behind
 * Supavisor in transaction mode, where named prepared statements do not survive.
 */
export function db(): postgres.Sql {
	pool ??= postgres(env('SUPABASE_DB_URL'), {
		max: Number(Deno.env.get('DB_POOL_SIZE') ?? 4),
		prepare: false,
		idle_timeout: 30,
		onnotice: () => {}
	});
	return pool;
}

/**
 * One connection of its own, for a long streaming query (an export's pool holds these). Ending
 * it is the reliable way to stop that query: Postgres rolls back and frees everything at once.
 */
export function dedicatedDb(applicationName: string): postgres.Sql {
	return postgres(env('SUPABASE_DB_URL'), {
		max: 1,
		prepare: false,
		onnotice: () => {},
		// Kept between downloads, closed after a minute without one (reopened on demand).
		idle_timeout: 60,
		// Named, so pg_stat_activity shows whose connection it is.
		connection: { application_name: applicationName }
	});
}

/**
 * The user Auth reports for an access token, or null when Auth refuses it. A plain call to
 * GET /auth/v1/user, so the function does not load a whole client library for one request.
 */
export async function authUser(token: string): Promise<{ id: string } | null> {
	const res = await fetch(`${env('SUPABASE_URL')}/auth/v1/user`, {
		headers: { apikey: env('SUPABASE_ANON_KEY'), Authorization: `Bearer ${token}` }
	});
	if (!res.ok) {
		await res.body?.cancel();
		return null;
	}
	const user = (await res.json()) as { id?: unknown };
	return typeof user.id === 'string' ? { id: user.id } : null;
}

/** The bearer token of a request, or null when there is none. */
export function bearer(req: Request): string | null {
	const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.get('Authorization') ?? '');
	return match ? match[1] : null;
}

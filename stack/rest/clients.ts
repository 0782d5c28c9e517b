// The REST service's two ways into the database, both logged in as `authenticator` as PostgREST
// is: postgres.js for the schema cache and its reload notifications, and the wire pool that
// runs requests (one round trip each, see pg-wire.ts).
import { connect } from 'node:net';
import postgres from 'postgres';
import { config } from '../config.ts';
import { WirePool } from './pg-wire.ts';

/** The role PostgREST logs in as; stack/db/bootstrap.sql creates it as `supabase start` does. */
export const authenticator = { user: 'authenticator', password: 'postgres' };

/** Connections requests share; a request holds one for its whole batch or transaction. */
const requestConnections = 8;

/** The exposed schema first, then `[api] extra_search_path`. */
export function searchPathFor(schema: string): string {
	return [schema, ...config.api.extraSearchPath.filter((s) => s !== schema)].join(', ');
}

/** What a request on the first exposed schema runs with; set once per connection. */
export const defaultSearchPath = searchPathFor(config.api.schemas[0]);

/**
 * A TCP socket to the local database with Nagle's algorithm off: requests are small writes
 * waiting on a reply, and Nagle's delay halved throughput in the benchmark.
 */
export function noDelaySocket() {
	const socket = connect(config.db.port, '127.0.0.1');
	socket.setNoDelay(true);
	return socket;
}

/** postgres.js takes a socket factory (`socket`), which its typings leave out. */
export const noDelayOption = { socket: noDelaySocket } as postgres.Options<Record<string, never>>;

/** Loads the schema cache and listens for `notify pgrst`. */
export function catalogClient(): postgres.Sql {
	return postgres({
		host: '127.0.0.1',
		port: config.db.port,
		...noDelayOption,
		database: config.db.name,
		username: authenticator.user,
		password: authenticator.password,
		max: 2,
		idle_timeout: 60,
		onnotice: () => {},
		connection: { application_name: 'stack-rest', search_path: defaultSearchPath }
	});
}

export function requestPool(): WirePool {
	return new WirePool(
		{
			host: '127.0.0.1',
			port: config.db.port,
			user: authenticator.user,
			password: authenticator.password,
			database: config.db.name,
			params: { application_name: 'stack-rest', search_path: defaultSearchPath }
		},
		requestConnections
	);
}

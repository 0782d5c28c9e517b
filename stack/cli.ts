// `npm run stack:<command>`: start, stop, status and reset the local platform, the way
// `supabase start|stop|status|db reset` do for a Docker-based one.
import { config } from './config.ts';
import { StackError } from './process.ts';
import {
	applyBootstrap,
	applyMigrations,
	isRunning,
	resetDatabase,
	startDatabase,
	stopDatabase
} from './db/cluster.ts';
import { startServices, stopServices, servicesRunning } from './gateway/launcher.ts';

function status() {
	return {
		'API URL': config.api.url,
		'REST URL': `${config.api.url}/rest/v1`,
		'Auth URL': `${config.api.url}/auth/v1`,
		'Functions URL': `${config.api.url}/functions/v1`,
		'Realtime URL': `${config.api.url.replace(/^http/, 'ws')}/realtime/v1`,
		'DB URL': config.db.url,
		'JWT secret': config.auth.jwtSecret,
		'anon key': config.keys.anon,
		'service_role key': config.keys.serviceRole,
		'Publishable key': config.keys.publishable,
		'Secret key': config.keys.secret
	};
}

function printStatus(json: boolean) {
	const running = { database: isRunning(), api: servicesRunning() };
	if (json) {
		console.log(JSON.stringify({ running, ...status() }, null, 2));
		return;
	}
	const state = (up: boolean) => (up ? 'running' : 'stopped');
	console.log(`database: ${state(running.database)}, api gateway: ${state(running.api)}\n`);
	for (const [k, v] of Object.entries(status())) console.log(`${k.padStart(18)}: ${v}`);
}

async function start(options: { services: boolean }) {
	const db = await startDatabase();
	try {
		applyBootstrap();
		applyMigrations();
		if (options.services) await startServices();
	} catch (e) {
		// Leave nothing half-started: a failed start stops what this call started.
		if (options.services) stopServices();
		if (db.started) stopDatabase();
		throw e;
	}
}

async function main() {
	const [command, ...rest] = process.argv.slice(2);
	const json = rest.includes('--json');
	const services = !rest.includes('--db-only');
	switch (command) {
		case 'start':
			await start({ services });
			printStatus(json);
			break;
		case 'stop': {
			const stoppedServices = stopServices();
			const stoppedDb = stopDatabase();
			console.log(
				stoppedServices || stoppedDb
					? 'Stopped the local platform.'
					: 'The local platform was not running.'
			);
			break;
		}
		case 'status':
			printStatus(json);
			if (!isRunning()) process.exitCode = 1;
			break;
		case 'reset': {
			const wasServing = servicesRunning();
			stopServices();
			await startDatabase();
			resetDatabase();
			applyBootstrap();
			applyMigrations();
			if (wasServing || services) await startServices();
			console.log('Reset the database from migrations and seed.');
			break;
		}
		default:
			throw new StackError(`unknown command "${command ?? ''}": use start, stop, status or reset`);
	}
}

main().catch((e) => {
	if (e instanceof StackError) {
		console.error(`stack: ${e.message}`);
	} else {
		console.error(e);
	}
	process.exit(1);
});

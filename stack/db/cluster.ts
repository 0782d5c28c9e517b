// The project's own Postgres 15 cluster: created under .stack/db, run as the `postgres`
// user (Postgres refuses root), with pg_cron preloaded and logical WAL for Realtime.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { config, projectRoot, stateDir, supabaseDir, workdir } from '../config.ts';
import { StackError, portInUse, run } from '../process.ts';

const { dataDir, pgBin, port } = config.db;
const socketDir = join(stateDir, 'run');
const logFile = join(stateDir, 'db.log');
const bootstrapFile = join(projectRoot, 'stack', 'db', 'bootstrap.sql');
const isRoot = process.getuid?.() === 0;

/** Runs a Postgres binary as the `postgres` user when we are root. */
function pg(bin: string, args: string[], opts: { allowFail?: boolean } = {}) {
	const cmd = join(pgBin, bin);
	return isRoot
		? run('runuser', ['-u', 'postgres', '--', cmd, ...args], opts)
		: run(cmd, args, opts);
}

/** Fails with the command to run when a system package the cluster needs is missing. */
function checkInstalled() {
	const needs: [string, string][] = [
		[join(pgBin, 'postgres'), 'postgresql-15'],
		['/usr/lib/postgresql/15/lib/pg_cron.so', 'postgresql-15-cron'],
		['/usr/share/postgresql/15/extension/pgtap.control', 'postgresql-15-pgtap']
	];
	const missing = needs.filter(([file]) => !existsSync(file)).map(([, pkg]) => pkg);
	if (missing.length > 0) {
		throw new StackError(
			`missing system package(s) ${missing.join(', ')}: run \`npm run setup\` as root (or apt-get install -y ${missing.join(' ')})`
		);
	}
}

function ensureStateDirs() {
	for (const dir of [stateDir, socketDir]) mkdirSync(dir, { recursive: true });
	if (isRoot) {
		run('chown', ['postgres:postgres', socketDir]);
		// The postgres user must reach the data folder through every parent directory.
		const probe = spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-w', socketDir]);
		if (probe.status !== 0) {
			throw new StackError(
				`the postgres user cannot write ${socketDir}: give it access to the project folder (chmod o+x on each parent)`
			);
		}
	}
}

function initCluster() {
	if (existsSync(join(dataDir, 'PG_VERSION'))) return false;
	mkdirSync(dataDir, { recursive: true });
	if (isRoot) run('chown', ['postgres:postgres', dataDir]);
	chmodSync(dataDir, 0o700);
	const pwFile = join(socketDir, 'pwfile');
	writeFileSync(pwFile, 'postgres\n');
	if (isRoot) run('chown', ['postgres:postgres', pwFile]);
	pg('initdb', [
		'-D',
		dataDir,
		'-U',
		'postgres',
		`--pwfile=${pwFile}`,
		'--encoding=UTF8',
		'--locale=C.UTF-8',
		'--auth-local=trust',
		'--auth-host=scram-sha-256'
	]);
	rmSync(pwFile);
	const conf = [
		`listen_addresses = '127.0.0.1'`,
		`unix_socket_directories = '${socketDir}'`,
		`max_connections = 300`,
		`shared_buffers = '512MB'`,
		`work_mem = '16MB'`,
		`maintenance_work_mem = '256MB'`,
		`shared_preload_libraries = 'pg_cron'`,
		`cron.database_name = 'postgres'`,
		`cron.timezone = 'UTC'`,
		`wal_level = logical`,
		`max_replication_slots = 20`,
		`max_wal_senders = 20`,
		`max_slot_wal_keep_size = '2GB'`,
		// A bulk load or a benchmark phase writes half a gigabyte of WAL in seconds: at the default
		// 1GB Postgres checkpoints every few seconds (and logs that they occur too frequently),
		// and every checkpoint makes the next writes log whole pages again.
		`max_wal_size = '4GB'`,
		`timezone = 'UTC'`,
		`log_timezone = 'UTC'`,
		`log_min_messages = warning`,
		`log_min_error_statement = panic`,
		// Tests reset the database often; losing the last commits in an OS crash is fine here.
		`synchronous_commit = off`
	];
	writeFileSync(join(dataDir, 'postgresql.auto.conf'), conf.join('\n') + '\n');
	if (isRoot) run('chown', ['postgres:postgres', join(dataDir, 'postgresql.auto.conf')]);
	return true;
}

export function isRunning(): boolean {
	if (!existsSync(join(dataDir, 'PG_VERSION'))) return false;
	return pg('pg_ctl', ['status', '-D', dataDir], { allowFail: true }).status === 0;
}

export async function startDatabase(): Promise<{ created: boolean; started: boolean }> {
	checkInstalled();
	ensureStateDirs();
	if (isRunning()) return { created: false, started: false };
	if (await portInUse(port)) {
		throw new StackError(
			`port ${port} is already taken by another process: stop it, or set SUPABASE_DB_PORT to a free port`
		);
	}
	const created = initCluster();
	writeFileSync(logFile, '');
	if (isRoot) run('chown', ['postgres:postgres', logFile]);
	const result = pg(
		'pg_ctl',
		['start', '-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', `-p ${port}`],
		{
			allowFail: true
		}
	);
	if (result.status !== 0) {
		pg('pg_ctl', ['stop', '-D', dataDir, '-m', 'immediate'], { allowFail: true });
		const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join(' | ');
		throw new StackError(
			`the database did not start (${tail || result.stderr.trim()}); see ${logFile}`
		);
	}
	return { created, started: true };
}

export function stopDatabase(): boolean {
	if (!isRunning()) return false;
	pg('pg_ctl', ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '60']);
	return true;
}

/** psql as the postgres superuser over TCP, stopping at the first error. */
export function psql(
	args: string[],
	opts: { allowFail?: boolean; input?: string; dbUrl?: string } = {}
) {
	const { dbUrl = config.db.url, ...rest } = opts;
	return run('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', dbUrl, ...args], {
		...rest,
		env: { PGCONNECT_TIMEOUT: '5' }
	});
}

export function applyBootstrap() {
	psql(['-f', bootstrapFile]);
}

/** Migrations and seed through the real Supabase CLI, exactly as against a hosted project. */
export function applyMigrations() {
	const cli = join(projectRoot, 'node_modules', '.bin', 'supabase');
	const result = run(
		cli,
		[
			'db',
			'push',
			'--db-url',
			`${config.db.url}?sslmode=disable`,
			'--include-seed',
			'--yes',
			'--workdir',
			workdir
		],
		{ allowFail: true, cwd: workdir }
	);
	if (result.status !== 0) {
		const out = result.stderr + result.stdout;
		// The last step the CLI announced is the one that failed: a migration, or the seed after them.
		const step = /Applying migration (\S+)\.\.\.|Seeding data from (\S+)\.\.\./g;
		let failing: string | undefined;
		for (const m of out.matchAll(step)) {
			failing = m[1] ? join(supabaseDir, 'migrations', m[1]) : join(workdir, m[2]);
		}
		const error =
			out.split('\n').find((l) => l.startsWith('ERROR:')) ??
			out.trim().split('\n').slice(-2).join(' | ');
		const where = failing ?? join(supabaseDir, 'migrations');
		const what = failing?.endsWith('seed.sql') ? 'the seed failed' : 'a migration failed';
		throw new StackError(`${what}, fix ${where}: ${error.replace(/^ERROR: /, '')}`);
	}
	return result.stdout + result.stderr;
}

/** Drops every schema the app and platform made, then rebuilds from bootstrap + migrations. */
export function resetDatabase() {
	// A fresh database is the honest reset: recreate `postgres` from template0 while
	// connected to `template1`, so pg_cron and extensions start clean.
	const onTemplate = (query: string, allowFail = false) =>
		psql(['-c', query], { dbUrl: config.db.url.replace(/\/[^/]*$/, '/template1'), allowFail });
	const name = config.db.name;
	// Realtime's walsender holds its slot active; stopped first, the slot can be dropped, and a
	// database with slots cannot be dropped.
	onTemplate(
		`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${name}' and pid <> pg_backend_pid()`
	);
	const slots = onTemplate(
		`select slot_name from pg_replication_slots where database = '${name}' and not active`
	).stdout;
	for (const slot of slots.split('\n').filter(Boolean)) {
		onTemplate(`select pg_drop_replication_slot('${slot}')`, true);
	}
	onTemplate(`drop database if exists "${name}" with (force)`);
	onTemplate(`create database "${name}" template template0`);
}

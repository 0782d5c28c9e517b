// The platform's lifecycle commands, run as a user would run them, on a throwaway instance
// with its own folder and ports so the platform the other tests use is left alone.
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../config.ts';

const stateDir = mkdtempSync(join(projectRoot, '.stack-spec-'));
chmodSync(stateDir, 0o755); // mkdtemp makes it private; the postgres user must enter it
const dbPort = 54400 + (process.pid % 50);
const apiPort = dbPort + 100;
const env = {
	STACK_STATE_DIR: stateDir,
	SUPABASE_DB_PORT: String(dbPort),
	SUPABASE_API_PORT: String(apiPort)
};

function stack(command: string, extraEnv: Record<string, string> = {}, ...args: string[]) {
	const r = spawnSync(
		process.execPath,
		['--import', 'tsx', join(projectRoot, 'stack', 'cli.ts'), command, ...args],
		{
			cwd: projectRoot,
			encoding: 'utf8',
			env: { ...process.env, ...env, ...extraEnv }
		}
	);
	return { code: r.status, stdout: r.stdout, stderr: r.stderr.trim() };
}

/** Postgres or gateway processes that belong to a given state folder. */
function processesOf(folder: string): string[] {
	const ps = spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' }).stdout;
	return ps.split('\n').filter((line) => line.includes(folder) && !line.includes('ps -eo'));
}

function sql(query: string) {
	return spawnSync(
		'psql',
		['-X', '-At', '-d', `postgresql://postgres:postgres@127.0.0.1:${dbPort}/postgres`, '-c', query],
		{
			encoding: 'utf8'
		}
	);
}

afterAll(() => {
	stack('stop');
	rmSync(stateDir, { recursive: true, force: true });
});

// Each case starts a real cluster; on a loaded 2-core machine that can take a while.
describe('stack lifecycle', { timeout: 180_000 }, () => {
	it('starts twice, reports its URLs and keys, and stops twice leaving no process', () => {
		const first = stack('start');
		expect(first.code, first.stderr).toBe(0);
		const second = stack('start');
		expect(second.code, second.stderr).toBe(0);

		const status = stack('status', {}, '--json');
		expect(status.code).toBe(0);
		const parsed = JSON.parse(status.stdout);
		expect(parsed.running).toEqual({ database: true, api: true });
		expect(parsed['DB URL']).toBe(`postgresql://postgres:postgres@127.0.0.1:${dbPort}/postgres`);
		expect(parsed['API URL']).toBe(`http://127.0.0.1:${apiPort}`);
		expect(parsed['anon key']).toMatch(/^eyJ/);
		expect(
			sql('select count(*) > 0 from supabase_migrations.schema_migrations').stdout.trim()
		).toBe('t');

		expect(stack('stop').stdout).toContain('Stopped');
		expect(stack('stop').stdout).toContain('was not running');
		expect(processesOf(stateDir)).toEqual([]);
		expect(stack('status').code).toBe(1);
	});

	it('reset drops what is not in the migrations and rebuilds from them', () => {
		expect(stack('start', {}, '--db-only').code).toBe(0);
		expect(sql('create table public.scratch_left_behind (id int)').status).toBe(0);
		const reset = stack('reset', {}, '--db-only');
		expect(reset.code, reset.stderr).toBe(0);
		expect(sql(`select to_regclass('public.scratch_left_behind') is null`).stdout.trim()).toBe('t');
		expect(
			sql('select count(*) > 0 from supabase_migrations.schema_migrations').stdout.trim()
		).toBe('t');
		expect(
			sql(`select count(*) from pg_publication where pubname = 'supabase_realtime'`).stdout.trim()
		).toBe('1');
		stack('stop');
	});

	it('refuses a database port that is already taken, with one line saying what to do', async () => {
		const blocker: Server = createServer();
		await new Promise<void>((r) => blocker.listen(dbPort, '127.0.0.1', r));
		try {
			const r = stack('start');
			expect(r.code).toBe(1);
			expect(r.stderr.split('\n')).toHaveLength(1);
			expect(r.stderr).toContain(`port ${dbPort} is already taken`);
			expect(r.stderr).toContain('SUPABASE_DB_PORT');
			expect(processesOf(stateDir)).toEqual([]);
		} finally {
			blocker.close();
		}
	});

	it('names the missing system package and the command that installs it', () => {
		const r = stack('start', { PG_BIN: '/nonexistent/postgresql/bin' });
		expect(r.code).toBe(1);
		expect(r.stderr.split('\n')).toHaveLength(1);
		expect(r.stderr).toContain('postgresql-15');
		expect(r.stderr).toContain('npm run setup');
	});

	it('stops at a failed migration, names it, and leaves nothing running', () => {
		const workdir = mkdtempSync(join(tmpdir(), 'stack-broken-'));
		mkdirSync(join(workdir, 'supabase'), { recursive: true });
		cpSync(join(projectRoot, 'supabase', 'config.toml'), join(workdir, 'supabase', 'config.toml'));
		cpSync(join(projectRoot, 'supabase', 'migrations'), join(workdir, 'supabase', 'migrations'), {
			recursive: true
		});
		writeFileSync(
			join(workdir, 'supabase', 'migrations', '29991231000000_broken.sql'),
			'create tabel oops ();\n'
		);
		try {
			const r = stack('start', { SUPABASE_WORKDIR: workdir });
			expect(r.code).toBe(1);
			expect(r.stderr.split('\n')).toHaveLength(1);
			expect(r.stderr).toContain('a migration failed');
			expect(r.stderr).toContain('29991231000000_broken.sql');
			expect(r.stderr).toContain('syntax error at or near "tabel"');
			expect(processesOf(stateDir)).toEqual([]);
		} finally {
			rmSync(workdir, { recursive: true, force: true });
		}
	});
});

// `npm run stack:start` from the gateway's side: one command prints what `supabase status`
// prints, and a taken API port fails the start with one line saying what to do. Runs on a
// throwaway instance (own folder and ports) so the platform other tests use is left alone.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../config.ts';

const stateDir = mkdtempSync(join(projectRoot, '.stack-spec-gateway-'));
chmodSync(stateDir, 0o755); // the postgres user must enter it
const dbPort = 54600 + (process.pid % 50);
const apiPort = dbPort + 100;
// Each test creates a cluster and applies every migration: minutes, not seconds, on a busy machine.
const startTimeout = 180_000;
const env = {
	STACK_STATE_DIR: stateDir,
	SUPABASE_DB_PORT: String(dbPort),
	SUPABASE_API_PORT: String(apiPort)
};

function stack(...args: string[]) {
	const r = spawnSync(
		process.execPath,
		['--import', 'tsx', join(projectRoot, 'stack', 'cli.ts'), ...args],
		{ cwd: projectRoot, encoding: 'utf8', env: { ...process.env, ...env } }
	);
	return { code: r.status, stdout: r.stdout, stderr: r.stderr.trim() };
}

function processesOf(folder: string): string[] {
	const ps = spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' }).stdout;
	return ps.split('\n').filter((line) => line.includes(folder) && !line.includes('ps -eo'));
}

afterAll(() => {
	stack('stop');
	rmSync(stateDir, { recursive: true, force: true });
});

describe('stack:start and the gateway', () => {
	it(
		'refuses an API port that is already taken, with one line, leaving nothing running',
		async () => {
			const blocker: Server = createServer();
			await new Promise<void>((r) => blocker.listen(apiPort, '127.0.0.1', r));
			try {
				const r = stack('start');
				expect(r.code).toBe(1);
				expect(r.stderr.split('\n')).toHaveLength(1);
				expect(r.stderr).toContain(`port ${apiPort}`);
				expect(r.stderr).toContain('SUPABASE_API_PORT');
				expect(processesOf(stateDir)).toEqual([]);
			} finally {
				await new Promise((r) => blocker.close(r));
			}
		},
		startTimeout
	);

	it(
		'starts everything with one command and prints the URLs and keys `supabase status` shows',
		async () => {
			const r = stack('start');
			expect(r.code, r.stderr).toBe(0);
			for (const label of ['API URL', 'DB URL', 'JWT secret', 'anon key', 'service_role key']) {
				expect(r.stdout).toContain(label);
			}
			expect(r.stdout).toContain(`http://127.0.0.1:${apiPort}`);
			const health = await fetch(`http://127.0.0.1:${apiPort}/auth/v1/health`, {
				headers: { apikey: /anon key: (\S+)/.exec(r.stdout)![1] }
			});
			expect(health.status).toBe(200);
			expect(stack('stop').code).toBe(0);
			expect(processesOf(stateDir)).toEqual([]);
		},
		startTimeout
	);
});

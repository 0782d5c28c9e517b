// Launches and stops the gateway process (gateway/main.ts: auth, rest, realtime and functions
// behind one port), detached from the CLI, with a pid file so `stack:stop` leaves nothing behind.
import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { config, projectRoot, stateDir } from '../config.ts';
import { StackError, portInUse } from '../process.ts';
import { healthPath } from './health.ts';

const pidFile = join(stateDir, 'api.pid');
const logFile = join(stateDir, 'api.log');

function readPid(): number | null {
	if (!existsSync(pidFile)) return null;
	const pid = Number(readFileSync(pidFile, 'utf8'));
	return Number.isInteger(pid) && pid > 0 ? pid : null;
}

function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}

export function servicesRunning(): boolean {
	const pid = readPid();
	return pid !== null && alive(pid);
}

async function healthy(): Promise<boolean> {
	try {
		const res = await fetch(`${config.api.url}${healthPath}`, {
			signal: AbortSignal.timeout(1000)
		});
		return res.ok;
	} catch {
		return false;
	}
}

export async function startServices(): Promise<void> {
	if (servicesRunning()) return;
	if (await portInUse(config.api.port)) {
		throw new StackError(
			`port ${config.api.port} is already taken by another process: stop it, or set SUPABASE_API_PORT to a free port`
		);
	}
	const out = openSync(logFile, 'w');
	const child = spawn(
		process.execPath,
		['--import', 'tsx', join(projectRoot, 'stack', 'gateway', 'main.ts')],
		{
			cwd: projectRoot,
			detached: true,
			stdio: ['ignore', out, out],
			env: process.env
		}
	);
	child.unref();
	writeFileSync(pidFile, String(child.pid));
	const deadline = Date.now() + 30_000;
	while (Date.now() < deadline) {
		if (await healthy()) return;
		if (!alive(child.pid!)) break;
		await new Promise((r) => setTimeout(r, 150));
	}
	stopServices();
	const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join(' | ');
	throw new StackError(
		`the API gateway did not become healthy (${tail || 'no output'}); see ${logFile}`
	);
}

/** Stops the gateway and everything it spawned (its process group). */
export function stopServices(): boolean {
	const pid = readPid();
	rmSync(pidFile, { force: true });
	if (pid === null || !alive(pid)) return false;
	try {
		process.kill(-pid, 'SIGTERM');
	} catch {
		process.kill(pid, 'SIGTERM');
	}
	const deadline = Date.now() + 5000;
	while (alive(pid) && Date.now() < deadline) {
		Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
	}
	if (alive(pid)) {
		try {
			process.kill(-pid, 'SIGKILL');
		} catch {
			process.kill(pid, 'SIGKILL');
		}
	}
	return true;
}

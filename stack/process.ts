// Small process helpers shared by the platform's commands.
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

/** An error the user can act on: the CLI prints its message as one line, no stack. */
export class StackError extends Error {}

export interface RunResult {
	status: number;
	stdout: string;
	stderr: string;
}

export function run(
	cmd: string,
	args: string[],
	opts: { allowFail?: boolean; input?: string; cwd?: string; env?: Record<string, string> } = {}
): RunResult {
	const r = spawnSync(cmd, args, {
		encoding: 'utf8',
		input: opts.input,
		cwd: opts.cwd,
		env: { ...process.env, ...opts.env },
		maxBuffer: 64 * 1024 * 1024
	});
	if (r.error) throw new StackError(`could not run ${cmd}: ${r.error.message}`);
	const result = { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
	if (result.status !== 0 && !opts.allowFail) {
		const why = (result.stderr || result.stdout).trim().split('\n').slice(-3).join(' | ');
		throw new StackError(`${cmd} ${args[0] ?? ''} failed: ${why}`);
	}
	return result;
}

/** True when something already listens on 127.0.0.1:port. */
export function portInUse(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const server = createServer();
		server.once('error', () => resolve(true));
		server.once('listening', () => server.close(() => resolve(false)));
		server.listen(port, '127.0.0.1');
	});
}

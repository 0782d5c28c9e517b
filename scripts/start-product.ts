// `npm start`: the local platform, the dashboard and live demo traffic, until Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { config, projectRoot } from '../stack/config.ts';

const children: ChildProcess[] = [];
const env = {
	...process.env,
	PUBLIC_SUPABASE_URL: config.api.url,
	PUBLIC_SUPABASE_ANON_KEY: config.keys.anon
};

function run(cmd: string, args: string[]): ChildProcess {
	const child = spawn(cmd, args, { cwd: projectRoot, env, stdio: 'inherit' });
	children.push(child);
	return child;
}

function stopAll(code: number) {
	for (const child of children) child.kill('SIGTERM');
	const stop = spawn(process.execPath, ['--import', 'tsx', 'stack/cli.ts', 'stop'], {
		cwd: projectRoot,
		stdio: 'inherit'
	});
	stop.on('close', () => process.exit(code));
}

/** Boots the ingest function once, so a function that cannot start is reported in one line. */
async function checkIngest() {
	try {
		const res = await fetch(`${config.api.url}/functions/v1/ingest`, {
			method: 'OPTIONS',
			headers: { apikey: config.keys.anon }
		});
		if (res.ok) return;
		const body = (await res.json().catch(() => ({}))) as { message?: string };
		console.error(
			`npm start: the ingest function cannot serve (${res.status}): ${body.message ?? res.statusText}`
		);
	} catch (e) {
		console.error(`npm start: the functions host is unreachable: ${(e as Error).message}`);
	}
}

const start = run(process.execPath, ['--import', 'tsx', 'stack/cli.ts', 'start']);
start.on('close', async (code) => {
	if (code !== 0) process.exit(code ?? 1);
	await checkIngest();
	run(join(projectRoot, 'node_modules', '.bin', 'vite'), ['dev', '--host', '127.0.0.1']);
	const traffic = join(projectRoot, 'scripts', 'demo-traffic.ts');
	if (existsSync(traffic)) run(process.execPath, ['--import', 'tsx', traffic]);
	console.log('\nDashboard: http://127.0.0.1:5173  (Ctrl-C stops everything)\n');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stopAll(0));

// `npm start`: the product as a user gets it. The local platform (with its seeded history), the
// dashboard's production build (rebuilt only when its sources changed) and live traffic from the
// simulator, until Ctrl-C. It stops what it started; a platform that was already running stays.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { config, projectRoot } from '../stack/config.ts';

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
const origin = process.env.ORIGIN ?? `http://${host}:${port}`;
const buildDir = join(projectRoot, 'build');
const stampFile = join(buildDir, '.source-hash');
/** What the production build is made of: any change here means a rebuild. */
const buildInputs = [
	'src',
	'static',
	'svelte.config.js',
	'vite.config.ts',
	'tsconfig.json',
	'package.json',
	'package-lock.json'
];

const children = new Map<string, ChildProcess>();
let stopping = false;
let startedPlatform = false;

const tsx = (script: string, args: string[] = []) => [
	'--import',
	'tsx',
	join(projectRoot, script),
	...args
];

/** A hash of the build's sources: contents, not mtimes, so a fresh clone or checkout agrees. */
function sourceHash(root = projectRoot): string {
	const hash = createHash('sha256');
	const add = (path: string) => {
		if (!existsSync(path)) return;
		if (statSync(path).isDirectory()) {
			for (const name of readdirSync(path).sort()) add(join(path, name));
			return;
		}
		hash
			.update(`${relative(root, path)}\0`)
			.update(readFileSync(path))
			.update('\0');
	};
	for (const input of buildInputs) add(join(root, input));
	return hash.digest('hex');
}

/** Runs a command to its end (stop() ends it like the others); quiet keeps its output for later. */
function runToEnd(
	name: string,
	cmd: string,
	args: string[],
	quiet: boolean
): Promise<{ code: number | null; output: string }> {
	const child = spawn(cmd, args, {
		cwd: projectRoot,
		stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit'
	});
	children.set(name, child);
	let output = '';
	child.stdout?.on('data', (c) => (output += c));
	child.stderr?.on('data', (c) => (output += c));
	return new Promise((resolve) => {
		child.on('exit', (code) => {
			children.delete(name);
			resolve({ code, output });
		});
	});
}

async function buildIfChanged() {
	const hash = sourceHash();
	const built = existsSync(join(buildDir, 'index.js')) && existsSync(stampFile);
	if (built && readFileSync(stampFile, 'utf8').trim() === hash) {
		console.log('npm start: the production build is up to date');
		return;
	}
	console.log('npm start: building the dashboard (vite build), once per change of its sources...');
	const t0 = Date.now();
	// The build's own chatter (warnings of dependencies, timings) is shown only when it fails.
	const vite = join(projectRoot, 'node_modules', '.bin', 'vite');
	const { code, output } = await runToEnd('build', vite, ['build'], true);
	if (stopping) return;
	if (code !== 0) {
		console.error(output.trim().split('\n').slice(-40).join('\n'));
		throw new Error('the dashboard does not build (the end of its output is above)');
	}
	console.log(`npm start: built in ${Math.round((Date.now() - t0) / 1000)} s`);
	writeFileSync(stampFile, `${hash}\n`);
}

async function startPlatform() {
	if (platformRunning()) {
		console.log(`npm start: using the local platform already running at ${config.api.url}`);
		return;
	}
	startedPlatform = true;
	const { code } = await runToEnd(
		'platform',
		process.execPath,
		tsx('stack/cli.ts', ['start']),
		false
	);
	if (code !== 0 && !stopping) throw new Error('the local platform did not start (see above)');
}

function platformRunning(): boolean {
	const status = spawnSync(process.execPath, tsx('stack/cli.ts', ['status', '--json']), {
		cwd: projectRoot,
		encoding: 'utf8'
	});
	try {
		const running = (JSON.parse(status.stdout) as { running: { database: boolean; api: boolean } })
			.running;
		return running.database && running.api;
	} catch {
		return false;
	}
}

function portFree(p: number): Promise<boolean> {
	return new Promise((resolve) => {
		const probe = createServer()
			.once('error', () => resolve(false))
			.once('listening', () => probe.close(() => resolve(true)))
			.listen(p, host);
	});
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

/** Children get their own process group: Ctrl-C reaches them once, through stop(). */
function run(name: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
	const child = spawn(process.execPath, args, {
		cwd: projectRoot,
		env: { ...process.env, ...env },
		stdio: 'inherit',
		detached: true
	});
	children.set(name, child);
	child.on('exit', (code, signal) => {
		children.delete(name);
		if (stopping) return;
		console.error(`npm start: ${name} exited (${signal ?? code})`);
		if (name === 'dashboard') void stop(1);
	});
	return child;
}

async function waitForDashboard(timeoutMs = 30_000) {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline && children.has('dashboard')) {
		try {
			const res = await fetch(origin, { redirect: 'manual' });
			if (res.status < 500) return;
		} catch {
			// not listening yet
		}
		await new Promise((r) => setTimeout(r, 200));
	}
	throw new Error(`the dashboard did not answer at ${origin} within ${timeoutMs / 1000} s`);
}

async function stop(code: number) {
	if (stopping) return;
	stopping = true;
	const exits = [...children.values()].map(
		(child) =>
			new Promise<void>((resolve) => {
				child.once('exit', () => resolve());
				child.kill('SIGTERM');
				// A child that ignores SIGTERM for 10 s is killed.
				setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
			})
	);
	await Promise.all(exits);
	if (startedPlatform)
		spawnSync(process.execPath, tsx('stack/cli.ts', ['stop']), { stdio: 'inherit' });
	process.exit(code);
}

async function main() {
	for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stop(0));
	if (!(await portFree(port))) {
		throw new Error(
			`port ${port} is taken by another process: stop it, or set PORT to a free port`
		);
	}
	// The build does not need the platform: both at once save the shorter one's time.
	await Promise.all([startPlatform().then(checkIngest), buildIfChanged()]);
	if (stopping) return;
	const publicEnv = {
		PUBLIC_SUPABASE_URL: config.api.url,
		PUBLIC_SUPABASE_ANON_KEY: config.keys.anon
	};
	run('dashboard', [join(buildDir, 'index.js')], {
		...publicEnv,
		PORT: String(port),
		HOST: host,
		ORIGIN: origin
	});
	await waitForDashboard();
	run('simulator', tsx('scripts/simulator/cli.ts'));
	console.log(
		`\nDashboard: ${origin}  (sign in as alice@botflow.test / password123)\nCtrl-C stops everything npm start started.\n`
	);
}

main().catch((e: unknown) => {
	console.error(`npm start: ${e instanceof Error ? e.message : String(e)}`);
	void stop(1);
});

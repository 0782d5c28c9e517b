// `npm test`: starts the local platform if it is not running, runs every test layer (pgTAP,
// vitest, deno test, Playwright), stops what it started, and exits non-zero on any failure.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { config, projectRoot } from '../stack/config.ts';
import { denoTrustEnv, offlineDenoFlags } from '../stack/functions/deno-env.ts';

interface LayerResult {
	name: string;
	passed: number;
	failed: number;
	ok: boolean;
	seconds: number;
}

/** Runs a command with inherited output, teeing stdout so counts can be read from it. */
function exec(cmd: string, args: string[], env: Record<string, string> = {}, cwd = projectRoot) {
	return new Promise<{ code: number; output: string }>((resolve) => {
		const child = spawn(cmd, args, {
			cwd,
			env: { ...process.env, ...env },
			stdio: ['ignore', 'pipe', 'inherit']
		});
		let output = '';
		child.stdout.on('data', (chunk: Buffer) => {
			output += chunk.toString();
			process.stdout.write(chunk);
		});
		child.on('close', (code) => resolve({ code: code ?? 1, output }));
	});
}

const bin = (name: string) => join(projectRoot, 'node_modules', '.bin', name);
const platformEnv = {
	SUPABASE_URL: config.api.url,
	SUPABASE_ANON_KEY: config.keys.anon,
	SUPABASE_SERVICE_ROLE_KEY: config.keys.serviceRole,
	SUPABASE_DB_URL: config.db.url
};

async function pgTap(): Promise<Omit<LayerResult, 'name' | 'seconds'>> {
	const { code, output } = await exec(process.execPath, ['--import', 'tsx', 'scripts/test-db.ts']);
	const total = Number(/Tests=(\d+)/.exec(output)?.[1] ?? 0);
	const failed = [...output.matchAll(/Failed (\d+)\/\d+ subtests/g)].reduce(
		(n, m) => n + Number(m[1]),
		0
	);
	return {
		passed: total - failed,
		failed: code === 0 ? failed : Math.max(failed, 1),
		ok: code === 0
	};
}

async function dbTypes(): Promise<Omit<LayerResult, 'name' | 'seconds'>> {
	const { code } = await exec(process.execPath, [
		'--import',
		'tsx',
		'scripts/db-types.ts',
		'--check'
	]);
	return { passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1, ok: code === 0 };
}

async function vitest(): Promise<Omit<LayerResult, 'name' | 'seconds'>> {
	const report = join(mkdtempSync(join(tmpdir(), 'vitest-')), 'report.json');
	const { code } = await exec(
		bin('vitest'),
		['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`],
		platformEnv
	);
	const json = existsSync(report)
		? JSON.parse(readFileSync(report, 'utf8'))
		: { numPassedTests: 0, numFailedTests: 1 };
	return {
		passed: json.numPassedTests,
		failed: json.numFailedTests + (code !== 0 && json.numFailedTests === 0 ? 1 : 0),
		ok: code === 0
	};
}

async function denoTest(): Promise<Omit<LayerResult, 'name' | 'seconds'>> {
	const dir = join(projectRoot, 'supabase', 'functions');
	if (!existsSync(join(dir, 'tests'))) return { passed: 0, failed: 0, ok: true };
	const { code, output } = await exec(
		bin('deno'),
		['test', '--allow-all', ...offlineDenoFlags, 'tests/'],
		{ ...platformEnv, ...denoTrustEnv(), NO_COLOR: '1' },
		dir
	);
	const m = /(\d+) passed[^|]*\| (\d+) failed/.exec(output);
	const failed = Number(m?.[2] ?? (code === 0 ? 0 : 1));
	return {
		passed: Number(m?.[1] ?? 0),
		failed: code !== 0 && failed === 0 ? 1 : failed,
		ok: code === 0
	};
}

async function playwright(): Promise<Omit<LayerResult, 'name' | 'seconds'>> {
	const report = join(mkdtempSync(join(tmpdir(), 'playwright-')), 'report.json');
	const { code } = await exec(bin('playwright'), ['test', '--reporter=list,json'], {
		...platformEnv,
		PLAYWRIGHT_JSON_OUTPUT_NAME: report
	});
	const stats = existsSync(report) ? JSON.parse(readFileSync(report, 'utf8')).stats : null;
	const passed = stats ? stats.expected : 0;
	const failed = stats ? stats.unexpected : 1;
	return { passed, failed: code !== 0 && failed === 0 ? 1 : failed, ok: code === 0 };
}

async function main() {
	const status = await exec(process.execPath, [
		'--import',
		'tsx',
		'stack/cli.ts',
		'status',
		'--json'
	]);
	const wasRunning = status.code === 0 && JSON.parse(status.output).running.api === true;
	if (!wasRunning) {
		const started = await exec(process.execPath, ['--import', 'tsx', 'stack/cli.ts', 'start']);
		if (started.code !== 0) process.exit(1);
	}
	const results: LayerResult[] = [];
	const layers: [string, () => Promise<Omit<LayerResult, 'name' | 'seconds'>>][] = [
		['pgTAP (supabase/tests)', pgTap],
		['generated types (src/lib and supabase/functions/_shared database.types.ts)', dbTypes],
		['vitest (units + platform)', vitest],
		['deno test (Edge Functions)', denoTest],
		['Playwright (e2e)', playwright]
	];
	try {
		for (const [name, layer] of layers) {
			console.log(`\n=== ${name} ===`);
			const t0 = performance.now();
			results.push({ name, ...(await layer()), seconds: (performance.now() - t0) / 1000 });
		}
	} finally {
		if (!wasRunning) await exec(process.execPath, ['--import', 'tsx', 'stack/cli.ts', 'stop']);
	}
	console.log('\n=== summary ===');
	for (const r of results) {
		console.log(
			`${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.passed} passed, ${r.failed} failed (${r.seconds.toFixed(1)} s)`
		);
	}
	const passed = results.reduce((n, r) => n + r.passed, 0);
	const failed = results.reduce((n, r) => n + r.failed, 0);
	console.log(`${passed} passed, ${failed} failed`);
	process.exit(results.every((r) => r.ok) ? 0 : 1);
}

void main();

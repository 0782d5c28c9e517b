// After setup, a function boots and serves with no network at all: its dependencies come from
// supabase/functions/node_modules (installed by `npm run setup`), never from a download.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { supabaseDir } from '../config.ts';
import { BootError, FunctionWorker, type FunctionSpec } from './worker.ts';

// A proxy nobody listens on and an empty Deno cache: any download would fail.
const unreachable = 'http://127.0.0.1:9';
const noNetwork = () => ({
	HTTPS_PROXY: unreachable,
	HTTP_PROXY: unreachable,
	https_proxy: unreachable,
	http_proxy: unreachable,
	DENO_DIR: mkdtempSync(join(tmpdir(), 'empty-deno-dir-'))
});

const started: FunctionWorker[] = [];
function boot(spec: FunctionSpec) {
	const worker = new FunctionWorker(spec, () => {}, noNetwork());
	started.push(worker);
	return worker;
}
afterEach(() => {
	for (const worker of started.splice(0)) worker.stop();
});

describe('functions without a network', () => {
	it('boots the deployed ingest function from installed dependencies and answers', async () => {
		const functionsDir = join(supabaseDir, 'functions');
		const worker = boot({
			name: 'ingest',
			dir: join(functionsDir, 'ingest'),
			entry: join(functionsDir, 'ingest', 'index.ts'),
			denoConfig: join(functionsDir, 'deno.json')
		});
		const port = await worker.ready;
		const res = await fetch(`http://127.0.0.1:${port}/ingest`, { method: 'OPTIONS' });
		expect(res.status).toBe(200);
		expect(res.headers.get('access-control-allow-methods')).toContain('POST');
	});

	it('refuses to boot a function whose dependency is not installed, naming the fix', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'fn-missing-dep-'));
		mkdirSync(join(dir, 'needs-pad'));
		writeFileSync(
			join(dir, 'deno.json'),
			JSON.stringify({ nodeModulesDir: 'auto', imports: { 'left-pad': 'npm:left-pad@1.3.0' } })
		);
		const entry = join(dir, 'needs-pad', 'index.ts');
		writeFileSync(
			entry,
			"import pad from 'left-pad';\nDeno.serve(() => new Response(pad('x', 3)));\n"
		);
		const worker = boot({
			name: 'needs-pad',
			dir: join(dir, 'needs-pad'),
			entry,
			denoConfig: join(dir, 'deno.json')
		});
		const error = await worker.ready.catch((e: unknown) => e);
		expect(error).toBeInstanceOf(BootError);
		expect((error as Error).message).toMatch(/needs-pad cannot start: .*run `npm run setup`/);
	});
});

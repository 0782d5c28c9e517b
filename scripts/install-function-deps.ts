// Setup step: installs the Edge Functions' npm dependencies into supabase/functions/node_modules,
// frozen to deno.lock, so a function never downloads anything when it boots or serves.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot, supabaseDir } from '../stack/config.ts';
import { denoTrustEnv } from '../stack/functions/deno-env.ts';

const functionsDir = join(supabaseDir, 'functions');
const deno = join(projectRoot, 'node_modules', '.bin', 'deno');

const result = spawnSync(deno, ['install', '--frozen', '--quiet'], {
	cwd: functionsDir,
	env: { ...process.env, ...denoTrustEnv(), DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
	encoding: 'utf8'
});
if (result.status !== 0) {
	const output = `${result.stderr ?? ''}${result.stdout ?? ''}`;
	const firstLine = output.split('\n').find((l) => l.trim()) ?? String(result.error ?? 'no output');
	if (/frozen|lockfile|out of date/i.test(output)) {
		console.error(
			'setup: supabase/functions/deno.lock does not match deno.json: run `cd supabase/functions && ../../node_modules/.bin/deno install` to update the lock, then commit it'
		);
	} else {
		console.error(`setup: installing the Edge Functions' dependencies failed: ${firstLine.trim()}`);
	}
	process.exit(1);
}

// No secret in client code: the SvelteKit client bundle, built with every secret present in the
// environment (so a stray import would inline it), contains neither the service-role key, the
// secret API key, the JWT secret nor any `sb_secret_` key; and only server-only modules under
// src/lib/server mention the service-role key at all.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { config, projectRoot } from '../stack/config.ts';

const run = promisify(execFile);
const secrets = {
	'service-role key': config.keys.serviceRole,
	'secret API key': config.keys.secret,
	'JWT secret': config.auth.jwtSecret
};
let workdir: string;
let clientFiles: { path: string; text: string }[] = [];

async function filesUnder(dir: string): Promise<string[]> {
	const out: string[] = [];
	for (const entry of await readdir(dir, { withFileTypes: true })) {
		const path = join(dir, entry.name);
		if (entry.isDirectory()) out.push(...(await filesUnder(path)));
		else out.push(path);
	}
	return out;
}

async function exists(path: string) {
	return stat(path).then(
		() => true,
		() => false
	);
}

beforeAll(async () => {
	// A private copy of the app, so the shared .svelte-kit and build folders are left alone.
	workdir = await mkdtemp(join(tmpdir(), 'botflow-client-build-'));
	for (const name of [
		'src',
		'static',
		'svelte.config.js',
		'vite.config.ts',
		'tsconfig.json',
		'package.json'
	]) {
		if (await exists(join(projectRoot, name))) {
			await cp(join(projectRoot, name), join(workdir, name), { recursive: true });
		}
	}
	await symlink(join(projectRoot, 'node_modules'), join(workdir, 'node_modules'), 'dir');
	await run(
		process.execPath,
		[join(projectRoot, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'error'],
		{
			cwd: workdir,
			// A hang guard only: on a busy 2-core machine the growing app takes minutes to build.
			timeout: 300_000,
			maxBuffer: 16 * 1024 * 1024,
			env: {
				...process.env,
				// Every name a developer might reach for, public and private alike.
				PUBLIC_SUPABASE_URL: config.api.url,
				PUBLIC_SUPABASE_ANON_KEY: config.keys.anon,
				PUBLIC_SUPABASE_PUBLISHABLE_KEY: config.keys.publishable,
				SUPABASE_SERVICE_ROLE_KEY: config.keys.serviceRole,
				SUPABASE_SECRET_KEY: config.keys.secret,
				SUPABASE_JWT_SECRET: config.auth.jwtSecret
			}
		}
	);
	const clientDir = join(workdir, '.svelte-kit/output/client');
	if (!(await exists(clientDir))) throw new Error(`vite build produced no ${clientDir}`);
	clientFiles = await Promise.all(
		(await filesUnder(clientDir)).map(async (path) => ({
			path: relative(workdir, path),
			text: await readFile(path, 'latin1')
		}))
	);
}, 310_000);

afterAll(async () => {
	if (workdir) await rm(workdir, { recursive: true, force: true });
});

describe('client bundle', () => {
	it('was built with JavaScript to inspect', () => {
		expect(clientFiles.some((f) => f.path.endsWith('.js'))).toBe(true);
	});

	it.each(Object.entries(secrets))('contains no %s', (_name, secret) => {
		const found = clientFiles.filter((f) => f.text.includes(secret)).map((f) => f.path);
		expect(found).toEqual([]);
	});

	// A key is the prefix followed by its body; supabase-js itself names the bare prefix (to tell
	// key kinds apart), which is no secret.
	it('contains no sb_secret_ key', () => {
		const key = /sb_secret_[A-Za-z0-9_-]{16,}/;
		const found = clientFiles.filter((f) => key.test(f.text)).map((f) => f.path);
		expect(found).toEqual([]);
	});
});

describe('app sources', () => {
	it('mention the service-role key only under src/lib/server', async () => {
		const pattern = new RegExp(
			[
				'service_role',
				'service-role',
				'serviceRole',
				'SERVICE_ROLE',
				'SUPABASE_SECRET_KEY',
				'sb_secret_',
				config.keys.serviceRole,
				config.auth.jwtSecret
			]
				.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
				.join('|')
		);
		const offenders: string[] = [];
		for (const path of await filesUnder(join(projectRoot, 'src'))) {
			const rel = relative(projectRoot, path);
			if (rel.startsWith(join('src', 'lib', 'server'))) continue;
			if (pattern.test(await readFile(path, 'utf8'))) offenders.push(rel);
		}
		expect(offenders, 'move service-role use into src/lib/server').toEqual([]);
	});
});

// Edge Functions (/functions/v1) through supabase-js's functions.invoke, served by real Deno
// from the fixtures in ./fixtures (names starting with `fixture-`, never deployed).
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FunctionsHttpError } from '@supabase/supabase-js';
import { anonClient, serviceClient, signUpAndSignIn } from '../testing.ts';
import { config } from '../config.ts';

async function errorBody(error: unknown) {
	expect(error).toBeInstanceOf(FunctionsHttpError);
	const response = (error as FunctionsHttpError).context as Response;
	return { status: response.status, body: await response.json() };
}

describe('invoking functions', () => {
	it('passes method, sub-path, query, body and the hosted env vars to the function', async () => {
		const { data, error } = await anonClient().functions.invoke('fixture-echo/sub/path?x=1', {
			body: { hello: 'world' }
		});
		expect(error).toBeNull();
		expect(data).toMatchObject({
			method: 'POST',
			path: '/fixture-echo/sub/path',
			query: '?x=1',
			authorization: true,
			body: '{"hello":"world"}',
			env: { url: config.api.url, anonKey: true, serviceRoleKey: true, dbUrl: true }
		});
	});

	it('accepts a signed-in user JWT and the service role key where verify_jwt is on', async () => {
		const { client } = await signUpAndSignIn();
		expect((await client.functions.invoke('fixture-echo', { method: 'GET' })).error).toBeNull();
		expect(
			(await serviceClient().functions.invoke('fixture-echo', { method: 'GET' })).error
		).toBeNull();
	});

	it('refuses a call without a valid JWT when verify_jwt is on', async () => {
		const bad = await anonClient().functions.invoke('fixture-echo', {
			headers: { Authorization: 'Bearer not-a-jwt' }
		});
		expect(await errorBody(bad.error)).toEqual({
			status: 401,
			body: { code: 'UNAUTHORIZED_INVALID_JWT_FORMAT', message: 'Invalid JWT' }
		});
		// Without any Authorization header (supabase-js always sends one, so plain fetch here).
		const res = await fetch(`${config.api.url}/functions/v1/fixture-echo`, { method: 'POST' });
		expect(res.status).toBe(401);
		expect((await res.json()).code).toBe('UNAUTHORIZED_NO_AUTH_HEADER');
	});

	it('serves a verify_jwt = false function without a JWT', async () => {
		const { data, error } = await anonClient().functions.invoke('fixture-public', {
			headers: { Authorization: 'Bearer not-a-jwt' }
		});
		expect(error).toBeNull();
		expect(data).toEqual({ public: true, authorization: true });
		const res = await fetch(`${config.api.url}/functions/v1/fixture-public`);
		expect(await res.json()).toEqual({ public: true, authorization: false });
	});

	it('answers 404 for a function that does not exist', async () => {
		const { error } = await anonClient().functions.invoke('no-such-function');
		const { status, body } = await errorBody(error);
		expect(status).toBe(404);
		expect(body.code).toBe('NOT_FOUND');
	});

	it('keeps a function warm between calls', async () => {
		const first = await anonClient().functions.invoke('fixture-echo', { method: 'GET' });
		const second = await anonClient().functions.invoke('fixture-echo', { method: 'GET' });
		expect(second.data.pid).toBe(first.data.pid);
	});
});

describe('development reload', () => {
	it('runs the new code after a function file changes', async () => {
		const name = `fixture-tmp-${Date.now()}`;
		const dir = join(import.meta.dirname, 'fixtures', name);
		const write = (version: number) =>
			writeFileSync(
				join(dir, 'index.ts'),
				`Deno.serve(() => Response.json({ version: ${version} }));\n`
			);
		mkdirSync(dir, { recursive: true });
		try {
			write(1);
			const first = await anonClient().functions.invoke(name, { method: 'GET' });
			expect(first.data).toEqual({ version: 1 });
			write(2);
			// The watcher stops the old process as soon as it sees the change; poll until then.
			let seen: unknown;
			for (let i = 0; i < 50 && (seen as { version?: number })?.version !== 2; i++) {
				await new Promise((r) => setTimeout(r, 100));
				seen = (await anonClient().functions.invoke(name, { method: 'GET' })).data;
			}
			expect(seen).toEqual({ version: 2 });
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});
});

describe('streaming', () => {
	it('streams a 20 MB response: the first bytes arrive before the function has produced the rest', async () => {
		const id = crypto.randomUUID();
		const { data, error } = await anonClient().functions.invoke(`fixture-stream?mb=20&id=${id}`, {
			method: 'GET'
		});
		expect(error).toBeNull();
		const reader = (data as Response).body!.getReader();
		let bytes = 0;
		const first = await reader.read();
		bytes += first.value!.length;
		// The function holds everything after its first chunk until this second call arrives;
		// a gateway that buffered the response would never have let us get here.
		const released = await anonClient().functions.invoke(`fixture-stream?release=${id}`, {
			method: 'GET'
		});
		expect(released.data).toEqual({ released: true });
		for (;;) {
			const { done, value } = await reader.read();
			if (done) break;
			bytes += value.length;
		}
		expect(bytes).toBe(20 * 1024 * 1024);
	});

	it('streams a 20 MB request body to the function intact', async () => {
		const payload = Buffer.alloc(20 * 1024 * 1024);
		for (let i = 0; i < payload.length; i += 4096) payload.writeUInt32LE(i, i);
		const { data, error } = await anonClient().functions.invoke('fixture-upload', {
			body: new Blob([payload])
		});
		expect(error).toBeNull();
		expect(data.bytes).toBe(payload.length);
		expect(data.chunks).toBeGreaterThan(1);
		expect(data.sha256).toBe(createHash('sha256').update(payload).digest('hex'));
	});
});

describe('failures', () => {
	it('answers 500 with a clear body when a function throws, and keeps serving', async () => {
		const { error } = await anonClient().functions.invoke('fixture-throw');
		const { status, body } = await errorBody(error);
		expect(status).toBe(500);
		expect(body.code).toBe('FUNCTION_ERROR');
		expect(body.message).toContain('fixture failure on purpose');
		expect(
			(await anonClient().functions.invoke('fixture-echo', { method: 'GET' })).error
		).toBeNull();
		const again = await anonClient().functions.invoke('fixture-throw');
		expect((await errorBody(again.error)).status).toBe(500);
	});

	it('answers 503 BOOT_ERROR naming the cause when a function cannot start', async () => {
		const { error } = await anonClient().functions.invoke('fixture-boot-error');
		const { status, body } = await errorBody(error);
		expect(status).toBe(503);
		expect(body.code).toBe('BOOT_ERROR');
		expect(body.message).toContain('fixture broken at import on purpose');
	});

	it('answers 500 when a function process exits mid-request, and starts a fresh one next call', async () => {
		const before = await anonClient().functions.invoke('fixture-crash', { method: 'GET' });
		expect(before.error).toBeNull();
		const crash = await anonClient().functions.invoke('fixture-crash?crash=1', { method: 'GET' });
		const { status, body } = await errorBody(crash.error);
		expect(status).toBe(500);
		expect(body.code).toBe('WORKER_ERROR');
		const after = await anonClient().functions.invoke('fixture-crash', { method: 'GET' });
		expect(after.error).toBeNull();
		expect(after.data.pid).not.toBe(before.data.pid);
		expect(
			(await anonClient().functions.invoke('fixture-echo', { method: 'GET' })).error
		).toBeNull();
	});
});

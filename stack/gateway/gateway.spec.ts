// The gateway in front of every service: apikey check as Kong answers it, CORS, request logs.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import { config, stateDir } from '../config.ts';
import { adminSql, uniqueEmail } from '../testing.ts';

const invalidKey = {
	message: 'Invalid API key',
	hint: 'Double check your Supabase `anon` or `service_role` API key.'
};

function clientWithKey(key: string) {
	return createClient(config.api.url, key, {
		auth: { persistSession: false, autoRefreshToken: false },
		realtime: { transport: WebSocket as never }
	});
}

describe('apikey', () => {
	it('answers a wrong apikey with 401 as Kong does, on auth and rest', async () => {
		const wrong = clientWithKey('eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.wrong-signature');
		const auth = await wrong.auth.signInWithPassword({
			email: uniqueEmail(),
			password: 'whatever'
		});
		expect(auth.error?.status).toBe(401);
		expect(auth.error?.message).toBe('Invalid API key');

		const rest = await wrong.from('anything').select();
		expect(rest.status).toBe(401);
		expect(rest.error).toMatchObject(invalidKey);
	});

	it('answers a request without apikey with 401 and says what is missing', async () => {
		const res = await fetch(`${config.api.url}/rest/v1/anything`);
		expect(res.status).toBe(401);
		expect(await res.json()).toEqual({
			message: 'No API key found in request',
			hint: 'No `apikey` request header or url param was found.'
		});
	});

	it('accepts the publishable key and the secret key as well as the legacy JWT keys', async () => {
		const signUp = await clientWithKey(config.keys.publishable).auth.signUp({
			email: uniqueEmail(),
			password: 'long-enough-password'
		});
		expect(signUp.error).toBeNull();
		expect(signUp.data.session?.access_token).toBeTruthy();

		const admin = await clientWithKey(config.keys.secret).auth.admin.listUsers({
			page: 1,
			perPage: 1
		});
		expect(admin.error).toBeNull();
	});

	it('accepts the key as an `apikey` query parameter (as WebSockets send it)', async () => {
		const res = await fetch(`${config.api.url}/auth/v1/health?apikey=${config.keys.anon}`);
		expect(res.status).toBe(200);
	});

	it('does not pass an `apikey` query parameter on to REST, where it would read as a filter', async () => {
		const table = `stack_gateway_probe_${process.pid}`;
		const sql = adminSql();
		await sql.unsafe(
			// Granted explicitly: the project revokes anon's default grants on new tables.
			`create table public.${table} (id int primary key); insert into public.${table} values (1); grant select on public.${table} to anon;`
		);
		try {
			const anon = clientWithKey(config.keys.anon);
			// REST reloads its schema cache on DDL; wait until it serves the new table.
			for (let i = 0; i < 50 && (await anon.from(table).select('id')).error; i++) {
				await new Promise((r) => setTimeout(r, 100));
			}
			const res = await fetch(
				`${config.api.url}/rest/v1/${table}?apikey=${config.keys.anon}&select=id`
			);
			expect(res.status).toBe(200);
			expect(await res.json()).toEqual([{ id: 1 }]);
		} finally {
			await sql.unsafe(`drop table public.${table}`);
			await sql.end();
		}
	});

	it('lets Realtime clients connect with the publishable key', async () => {
		const client = clientWithKey(config.keys.publishable);
		const channel = client.channel(`gateway-probe-${process.pid}`);
		const status = await new Promise<string>((resolve) => {
			channel.subscribe((s) => {
				if (s !== 'CLOSED') resolve(s);
			});
		});
		await client.removeAllChannels();
		expect(status).toBe('SUBSCRIBED');
	});

	it('refuses a WebSocket upgrade with a wrong apikey before it reaches Realtime', async () => {
		const ws = new WebSocket(
			`${config.api.url.replace('http', 'ws')}/realtime/v1/websocket?apikey=wrong&vsn=1.0.0`
		);
		const status = await new Promise<number>((resolve) => {
			ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
			ws.on('open', () => resolve(101));
			ws.on('error', () => resolve(-1));
		});
		ws.terminate();
		expect(status).toBe(401);
	});

	it('answers unknown paths with 404 as Kong does', async () => {
		const res = await fetch(`${config.api.url}/nothing/here`, {
			headers: { apikey: config.keys.anon }
		});
		expect(res.status).toBe(404);
		expect((await res.json()).message).toBe('no Route matched with those values');
	});
});

describe('CORS', () => {
	it('answers a browser preflight itself, without an apikey', async () => {
		const res = await fetch(`${config.api.url}/rest/v1/bots?select=*`, {
			method: 'OPTIONS',
			headers: {
				origin: 'http://localhost:5173',
				'access-control-request-method': 'PATCH',
				'access-control-request-headers': 'authorization,apikey,content-type,prefer,x-client-info'
			}
		});
		expect(res.status).toBe(200);
		expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
		expect(res.headers.get('access-control-allow-credentials')).toBe('true');
		expect(res.headers.get('access-control-allow-methods')).toContain('PATCH');
		expect(res.headers.get('access-control-allow-headers')).toBe(
			'authorization,apikey,content-type,prefer,x-client-info'
		);
		expect(res.headers.get('access-control-max-age')).toBe('3600');
	});

	it('marks actual responses, errors included, as readable by the calling origin', async () => {
		const ok = await fetch(`${config.api.url}/auth/v1/settings`, {
			headers: { apikey: config.keys.anon, origin: 'https://app.example.test' }
		});
		expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example.test');
		const refused = await fetch(`${config.api.url}/auth/v1/settings`, {
			headers: { apikey: 'wrong', origin: 'https://app.example.test' }
		});
		expect(refused.status).toBe(401);
		expect(refused.headers.get('access-control-allow-origin')).toBe('https://app.example.test');
	});
});

describe('request log', () => {
	it('writes one line per request with method, path, status and duration, never the query', async () => {
		const marker = `log-probe-${Date.now()}`;
		await clientWithKey(config.keys.anon).auth.signInWithPassword({
			email: uniqueEmail(),
			password: 'x'
		});
		await fetch(`${config.api.url}/auth/v1/${marker}?apikey=${config.keys.anon}`);
		// The gateway writes the line when the response has closed, just after the client has it.
		const readLog = () => readFileSync(join(stateDir, 'api.log'), 'utf8');
		await expect.poll(() => readLog().includes(marker), { timeout: 5000 }).toBe(true);
		const log = readLog();
		const line = log.split('\n').find((l) => l.includes(marker));
		expect(line).toMatch(new RegExp(`GET /auth/v1/${marker} 404 \\d+\\.\\dms$`));
		expect(log).toMatch(/POST \/auth\/v1\/token 400 \d+\.\dms/);
		expect(log).not.toContain(config.keys.anon);
	});
});

// Auth (/auth/v1) through supabase-js at its edges: admin users with the service role,
// failed sign-in rate limits, bad input and discovery endpoints (sign-up, sessions and the
// signed-in user: auth.spec.ts).
import { afterAll, describe, expect, it } from 'vitest';
import { createClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import { config } from '../config.ts';
import {
	adminSql,
	anonClient,
	anonClientFrom,
	freshAddress,
	serviceClient,
	signUpAndSignIn,
	uniqueEmail
} from '../testing.ts';

const sql = adminSql();
afterAll(() => sql.end());

describe('admin users (service role)', () => {
	it('creates, lists, reads and deletes users', async () => {
		const admin = serviceClient().auth.admin;
		const email = uniqueEmail('admin');
		const created = await admin.createUser({
			email,
			password: 'made-by-admin',
			email_confirm: true,
			user_metadata: { source: 'admin' },
			app_metadata: { tier: 'gold' }
		});
		expect(created.error).toBeNull();
		const id = created.data.user!.id;
		expect(created.data.user?.app_metadata).toMatchObject({ provider: 'email', tier: 'gold' });

		const signIn = await anonClientFrom(freshAddress()).auth.signInWithPassword({
			email,
			password: 'made-by-admin'
		});
		expect(signIn.error).toBeNull();

		const dup = await admin.createUser({ email, password: 'whatever-else' });
		expect(dup.error?.code).toBe('email_exists');

		const got = await admin.getUserById(id);
		expect(got.data.user?.user_metadata.source).toBe('admin');

		const list = await admin.listUsers({ page: 1, perPage: 1000 });
		expect(list.error).toBeNull();
		expect(list.data.users.some((u) => u.id === id)).toBe(true);
		expect((list.data as { total?: number }).total).toBeGreaterThanOrEqual(1);

		const updated = await admin.updateUserById(id, { user_metadata: { source: 'changed' } });
		expect(updated.data.user?.user_metadata.source).toBe('changed');

		expect((await admin.deleteUser(id)).error).toBeNull();
		const gone = await admin.getUserById(id);
		expect(gone.error?.status).toBe(404);
		expect(gone.error?.code).toBe('user_not_found');
	});

	it('refuses the admin API to anyone but the service role', async () => {
		const anon = await anonClient().auth.admin.listUsers();
		expect(anon.error?.status).toBe(403);
		expect(anon.error?.code).toBe('not_admin');
		const { session } = await signUpAndSignIn();
		const asUser = createClient(config.api.url, config.keys.anon, {
			auth: { persistSession: false },
			realtime: { transport: WebSocket as never },
			global: { headers: { Authorization: `Bearer ${session.access_token}` } }
		});
		expect((await asUser.auth.admin.listUsers()).error?.code).toBe('not_admin');
	});

	it('works with the secret key as well as the legacy service_role key', async () => {
		const client = createClient(config.api.url, config.keys.secret, {
			auth: { persistSession: false },
			realtime: { transport: WebSocket as never }
		});
		const { data, error } = await client.auth.admin.listUsers({ page: 1, perPage: 1 });
		expect(error).toBeNull();
		expect(data.users.length).toBe(1);
	});
});

describe('failed sign-in rate limits', () => {
	it('limits failed sign-ins per email, even with the right password afterwards', async () => {
		const { email, password } = await signUpAndSignIn();
		const client = anonClientFrom(freshAddress());
		for (let i = 0; i < 10; i++) {
			const { error } = await client.auth.signInWithPassword({ email, password: `wrong-${i}` });
			expect(error?.code).toBe('invalid_credentials');
		}
		const limited = await anonClientFrom(freshAddress()).auth.signInWithPassword({
			email,
			password
		});
		expect(limited.error?.status).toBe(429);
		expect(limited.error?.code).toBe('over_request_rate_limit');
	});

	it('limits failed sign-ins per client address across emails', async () => {
		const { email, password } = await signUpAndSignIn();
		const client = anonClientFrom(freshAddress());
		const limit = Number(config.toml.auth?.rate_limit?.sign_in_sign_ups ?? 30);
		for (let i = 0; i < limit; i++) {
			const { error } = await client.auth.signInWithPassword({
				email: uniqueEmail('guess'),
				password: 'guess'
			});
			expect(error?.code).toBe('invalid_credentials');
		}
		const limited = await client.auth.signInWithPassword({ email, password });
		expect(limited.error?.code).toBe('over_request_rate_limit');
		// Another address is not affected.
		expect(
			(await anonClientFrom(freshAddress()).auth.signInWithPassword({ email, password })).error
		).toBeNull();
	});
});

describe('bad input', () => {
	const url = `${config.api.url}/auth/v1/signup`;
	const headers = { apikey: config.keys.anon, 'content-type': 'application/json' };

	it('answers malformed JSON with bad_json and keeps serving', async () => {
		const res = await fetch(url, { method: 'POST', headers, body: '{"email": ' });
		expect(res.status).toBe(400);
		expect((await res.json()).error_code).toBe('bad_json');
		expect((await signUpAndSignIn()).session).toBeTruthy();
	});

	it('refuses an oversized body with 413 and keeps serving', async () => {
		const body = JSON.stringify({ email: uniqueEmail(), password: 'x'.repeat(2 * 1024 * 1024) });
		const res = await fetch(url, { method: 'POST', headers, body });
		expect(res.status).toBe(413);
		expect((await res.json()).error_code).toBe('request_too_large');
		expect((await signUpAndSignIn()).session).toBeTruthy();
	});

	it('answers SQL-looking input as plain data', async () => {
		const email = `x'); drop table auth.users; --${Date.now()}@example.test`;
		const { error } = await anonClient().auth.signInWithPassword({
			email,
			password: "' or 1=1 --"
		});
		expect(error?.code).toBe('invalid_credentials');
		const [{ count }] = await sql`select count(*)::int as count from auth.users`;
		expect(count).toBeGreaterThan(0);
	});
});

describe('discovery endpoints', () => {
	const headers = { apikey: config.keys.anon };

	it('serves settings and health as GoTrue does', async () => {
		const settings = await (await fetch(`${config.api.url}/auth/v1/settings`, { headers })).json();
		expect(settings).toMatchObject({
			disable_signup: false,
			mailer_autoconfirm: true,
			external: { email: true }
		});
		const health = await (await fetch(`${config.api.url}/auth/v1/health`, { headers })).json();
		expect(health.name).toBe('GoTrue');
	});

	it('publishes the ES256 signing key as JWKS', async () => {
		const res = await fetch(`${config.api.url}/auth/v1/.well-known/jwks.json`);
		expect(res.status).toBe(200);
		const { keys } = await res.json();
		expect(keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
		expect(keys[0]).not.toHaveProperty('d');
	});
});

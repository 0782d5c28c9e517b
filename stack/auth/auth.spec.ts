// Auth (/auth/v1) driven through supabase-js and @supabase/ssr, as an app would use it: sign-up,
// sign-in, sessions, the signed-in user (admin users, limits, bad input: admin-and-limits.spec.ts).
import { afterAll, describe, expect, it } from 'vitest';
import { createClient, AuthWeakPasswordError, type Session } from '@supabase/supabase-js';
import { createServerClient } from '@supabase/ssr';
import WebSocket from 'ws';
import { config } from '../config.ts';
import { signLegacy } from '../jwt.ts';
import {
	adminSql,
	anonClient,
	anonClientFrom,
	freshAddress,
	signUpAndSignIn,
	uniqueEmail
} from '../testing.ts';

const sql = adminSql();
afterAll(() => sql.end());

async function signInAgain(email: string, password: string): Promise<Session> {
	const { data, error } = await anonClient().auth.signInWithPassword({ email, password });
	if (error) throw error;
	return data.session;
}

describe('sign up and sign in', () => {
	it('signs a new user up, confirmed at once, with a session carrying GoTrue claims', async () => {
		const { client, user, session, email } = await signUpAndSignIn({
			data: { display_name: 'Ada' }
		});
		expect(user.email).toBe(email);
		expect(user.email_confirmed_at).toBeTruthy();
		expect(user.user_metadata.display_name).toBe('Ada');
		expect(user.app_metadata).toMatchObject({ provider: 'email', providers: ['email'] });
		expect(user.identities?.[0]).toMatchObject({ provider: 'email', user_id: user.id });
		expect(session.token_type).toBe('bearer');

		const { data, error } = await client.auth.getClaims();
		expect(error).toBeNull();
		expect(data!.header.alg).toBe('ES256');
		expect(data!.claims).toMatchObject({
			sub: user.id,
			role: 'authenticated',
			aud: 'authenticated',
			email,
			iss: `${config.api.url}/auth/v1`,
			aal: 'aal1',
			is_anonymous: false,
			app_metadata: { provider: 'email' },
			user_metadata: { display_name: 'Ada' }
		});
		expect(data!.claims.session_id).toBeTruthy();
		expect(data!.claims.amr?.[0]).toMatchObject({ method: 'password' });
		expect(data!.claims.exp - data!.claims.iat).toBe(config.auth.jwtExpiry);
	});

	it('verifies access tokens locally against the published JWKS, without asking the server', async () => {
		const { session } = await signUpAndSignIn();
		const seen: string[] = [];
		const client = createClient(config.api.url, config.keys.anon, {
			// Its own storage key: supabase-js caches JWKS per key across clients.
			auth: {
				persistSession: false,
				autoRefreshToken: false,
				storageKey: `jwks-probe-${Date.now()}`
			},
			realtime: { transport: WebSocket as never },
			global: { fetch: (input, init) => (seen.push(String(input)), fetch(input, init)) }
		});
		const { data, error } = await client.auth.getClaims(session.access_token);
		expect(error).toBeNull();
		expect(data!.claims.sub).toBeTruthy();
		expect(seen.some((u) => u.endsWith('/auth/v1/.well-known/jwks.json'))).toBe(true);
		expect(seen.some((u) => u.includes('/auth/v1/user'))).toBe(false);
	});

	it('signs in with the right password and refuses a wrong one with invalid_credentials', async () => {
		const { email, password, user } = await signUpAndSignIn();
		const client = anonClientFrom(freshAddress());
		const ok = await client.auth.signInWithPassword({ email, password });
		expect(ok.error).toBeNull();
		expect(ok.data.user?.id).toBe(user.id);

		const wrong = await client.auth.signInWithPassword({ email, password: 'not-the-password' });
		expect(wrong.error?.status).toBe(400);
		expect(wrong.error?.code).toBe('invalid_credentials');
		expect(wrong.error?.message).toBe('Invalid login credentials');

		const unknown = await client.auth.signInWithPassword({ email: uniqueEmail(), password });
		expect(unknown.error?.code).toBe('invalid_credentials');
	});

	it('rejects a weak password, an existing user and an invalid email with GoTrue codes', async () => {
		const weak = await anonClient().auth.signUp({ email: uniqueEmail(), password: '123' });
		expect(weak.error).toBeInstanceOf(AuthWeakPasswordError);
		expect(weak.error?.code).toBe('weak_password');
		expect(weak.error?.status).toBe(422);
		expect((weak.error as AuthWeakPasswordError).reasons).toEqual(['length']);

		const { email } = await signUpAndSignIn();
		const again = await anonClient().auth.signUp({ email, password: 'another-password' });
		expect(again.error?.code).toBe('user_already_exists');
		expect(again.error?.status).toBe(422);

		const invalid = await anonClient().auth.signUp({
			email: 'not-an-email',
			password: 'long-enough'
		});
		expect(invalid.error?.code).toBe('email_address_invalid');
		expect(invalid.error?.status).toBe(400);
	});

	it('refuses anonymous sign-ins while config.toml leaves them disabled', async () => {
		const { error } = await anonClient().auth.signInAnonymously();
		expect(error?.code).toBe('anonymous_provider_disabled');
		expect(error?.status).toBe(422);
	});

	it('runs app triggers on auth.users, as hosted projects rely on', async () => {
		await sql.unsafe(`
			create schema if not exists stack_auth_probe;
			create table if not exists stack_auth_probe.new_users (id uuid primary key, email text);
			create or replace function stack_auth_probe.on_new_user() returns trigger
			language plpgsql security definer set search_path = '' as $$
			begin
				insert into stack_auth_probe.new_users (id, email) values (new.id, new.email);
				return new;
			end $$;
			drop trigger if exists stack_auth_probe_new_user on auth.users;
			create trigger stack_auth_probe_new_user after insert on auth.users
				for each row execute function stack_auth_probe.on_new_user();
		`);
		try {
			const { user, email } = await signUpAndSignIn();
			const rows = await sql`select email from stack_auth_probe.new_users where id = ${user.id}`;
			expect(rows[0]?.email).toBe(email);
		} finally {
			await sql.unsafe(`
				drop trigger if exists stack_auth_probe_new_user on auth.users;
				drop schema stack_auth_probe cascade;
			`);
		}
	});
});

describe('sessions', () => {
	it('rotates refresh tokens on refresh', async () => {
		const { client, session } = await signUpAndSignIn();
		const { data, error } = await client.auth.refreshSession();
		expect(error).toBeNull();
		expect(data.session?.refresh_token).not.toBe(session.refresh_token);
		expect(data.session?.user.id).toBe(session.user.id);
		const again = await client.auth.refreshSession();
		expect(again.error).toBeNull();
		expect(again.data.session?.refresh_token).not.toBe(data.session?.refresh_token);
	});

	it('hands a concurrent refresh the same new token within the reuse interval', async () => {
		const { session } = await signUpAndSignIn();
		const first = await anonClient().auth.refreshSession({ refresh_token: session.refresh_token });
		const second = await anonClient().auth.refreshSession({ refresh_token: session.refresh_token });
		expect(first.error).toBeNull();
		expect(second.error).toBeNull();
		expect(second.data.session?.refresh_token).toBe(first.data.session?.refresh_token);
	});

	it('revokes the whole session family when an old refresh token is reused', async () => {
		const { session } = await signUpAndSignIn();
		const a = session.refresh_token;
		const b = (await anonClient().auth.refreshSession({ refresh_token: a })).data.session!
			.refresh_token;
		const c = (await anonClient().auth.refreshSession({ refresh_token: b })).data.session!
			.refresh_token;

		const reuse = await anonClient().auth.refreshSession({ refresh_token: a });
		expect(reuse.error?.code).toBe('refresh_token_already_used');
		expect(reuse.data.session).toBeNull();

		const latest = await anonClient().auth.refreshSession({ refresh_token: c });
		expect(latest.error?.code).toBe('refresh_token_already_used');
	});

	it('refuses an unknown refresh token', async () => {
		const { error } = await anonClient().auth.refreshSession({ refresh_token: 'no-such-token' });
		expect(error?.code).toBe('refresh_token_not_found');
	});

	it('signs out locally, other sessions, or everywhere', async () => {
		const { email, password } = await signUpAndSignIn();
		const sessions = await Promise.all([1, 2, 3].map(() => signInAgain(email, password)));
		const alive = async (s: Session) => !(await anonClient().auth.getUser(s.access_token)).error;
		const clientWith = async (s: Session) => {
			const c = anonClient();
			await c.auth.setSession({ access_token: s.access_token, refresh_token: s.refresh_token });
			return c;
		};
		const [s1, s2, s3] = sessions;

		expect((await (await clientWith(s1)).auth.signOut({ scope: 'local' })).error).toBeNull();
		expect([await alive(s1), await alive(s2), await alive(s3)]).toEqual([false, true, true]);

		const c2 = await clientWith(s2);
		const s2now = (await c2.auth.getSession()).data.session!;
		expect((await c2.auth.signOut({ scope: 'others' })).error).toBeNull();
		expect([await alive(s2now), await alive(s3)]).toEqual([true, false]);

		const stale = await anonClient().auth.getUser(s3.access_token);
		expect(stale.error?.name).toBe('AuthSessionMissingError');

		const s4 = await signInAgain(email, password);
		expect((await (await clientWith(s2now)).auth.signOut()).error).toBeNull();
		expect([await alive(s2now), await alive(s4)]).toEqual([false, false]);
		expect(
			(await anonClient().auth.refreshSession({ refresh_token: s4.refresh_token })).error
		).not.toBeNull();
	});

	it('answers a bad or expired token on /user with bad_jwt', async () => {
		const garbage = await anonClient().auth.getUser('not-a-jwt');
		expect(garbage.error?.status).toBe(403);
		expect(garbage.error?.code).toBe('bad_jwt');
		const now = Math.floor(Date.now() / 1000);
		const expired = await signLegacy({
			sub: crypto.randomUUID(),
			role: 'authenticated',
			iat: now - 7200,
			exp: now - 3600
		});
		const result = await anonClient().auth.getUser(expired);
		expect(result.error?.code).toBe('bad_jwt');
		expect(result.error?.message).toContain('expired');
	});
});

describe('the signed-in user', () => {
	it('reads the user and updates metadata, removing keys set to null', async () => {
		const { client, user } = await signUpAndSignIn({ data: { theme: 'dark', plan: 'free' } });
		const got = await client.auth.getUser();
		expect(got.data.user?.id).toBe(user.id);

		const updated = await client.auth.updateUser({ data: { plan: 'pro', theme: null } });
		expect(updated.error).toBeNull();
		expect(updated.data.user?.user_metadata.plan).toBe('pro');
		expect(updated.data.user?.user_metadata).not.toHaveProperty('theme');

		// A refreshed token carries the new metadata.
		const refreshed = await client.auth.refreshSession();
		const claims = (await client.auth.getClaims(refreshed.data.session!.access_token)).data!.claims;
		expect(claims.user_metadata?.plan).toBe('pro');
	});

	it('changes the password: the new one signs in, the old one no longer does', async () => {
		const { client, email, password } = await signUpAndSignIn();
		const same = await client.auth.updateUser({ password });
		expect(same.error?.code).toBe('same_password');
		const weak = await client.auth.updateUser({ password: 'abc' });
		expect(weak.error?.code).toBe('weak_password');

		expect((await client.auth.updateUser({ password: 'a-brand-new-secret' })).error).toBeNull();
		const address = anonClientFrom(freshAddress());
		expect(
			(await address.auth.signInWithPassword({ email, password: 'a-brand-new-secret' })).error
		).toBeNull();
		const old = await address.auth.signInWithPassword({ email, password });
		expect(old.error?.code).toBe('invalid_credentials');
	});

	it('keeps a cookie-based session with @supabase/ssr on the server side', async () => {
		const { email, password, user } = await signUpAndSignIn();
		const jar = new Map<string, string>();
		const server = () =>
			createServerClient(config.api.url, config.keys.anon, {
				cookies: {
					getAll: () => [...jar].map(([name, value]) => ({ name, value })),
					setAll: (list) => {
						for (const { name, value } of list) {
							if (value) jar.set(name, value);
							else jar.delete(name);
						}
					}
				},
				realtime: { transport: WebSocket as never }
			});

		const signIn = await server().auth.signInWithPassword({ email, password });
		expect(signIn.error).toBeNull();
		expect([...jar.keys()].some((k) => k.startsWith('sb-') && k.includes('auth-token'))).toBe(true);

		// A later request: a fresh server client that only has the cookies.
		const next = server();
		const got = await next.auth.getUser();
		expect(got.data.user?.id).toBe(user.id);
		const claims = await next.auth.getClaims();
		expect(claims.data?.claims.sub).toBe(user.id);

		expect((await next.auth.signOut()).error).toBeNull();
		expect((await server().auth.getUser()).data.user).toBeNull();
	});
});

// Channel tokens through @supabase/supabase-js: a refreshed access_token keeps a channel
// alive, expiry closes it with hosted Realtime's error and stops delivery, and joins or
// refreshes with a bad token are refused with hosted's reasons.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RealtimeChannel } from '@supabase/supabase-js';
import { adminSql, until, userToken } from '../testing.ts';
import { signLegacy } from '../jwt.ts';
import {
	changeMarker,
	createFixtures,
	dropFixtures,
	member,
	newOrg,
	realtimeClient,
	sleep,
	subscribed,
	type TestClient,
	type Vsn
} from './spec-helpers.ts';

type Row = { id: number; org_id: number; label: string | null };

const sql = adminSql();
const clients: TestClient[] = [];

beforeAll(async () => {
	await createFixtures(sql);
});

afterAll(async () => {
	await Promise.allSettled(clients.map((c) => c.close()));
	await dropFixtures(sql);
	await sql.end();
});

async function client(vsn: Vsn, token: string) {
	const c = await realtimeClient(vsn, token);
	clients.push(c);
	return c;
}

const marker = (ch: RealtimeChannel) => changeMarker(sql, ch);

describe('access tokens', () => {
	it('keeps delivering past the first expiry after a fresh access_token', async () => {
		const org = newOrg();
		const user = await member(sql, org);
		const c = await client('2.0.0', await userToken(user, 3));
		const got: string[] = [];
		await subscribed(
			c.supabase
				.channel('refresh')
				.on<Row>(
					'postgres_changes',
					{ event: 'INSERT', schema: 'public', table: 'rt_items', filter: `org_id=eq.${org}` },
					(p) => got.push((p.new as Row).label!)
				)
		);
		c.token = await userToken(user, 3600);
		await c.refresh();
		await sleep(3500);
		await sql`insert into public.rt_items (org_id, label) values (${org}, 'after first expiry')`;
		await until(() => got.includes('after first expiry'), 'a row after the first token expired');
		expect(got).toEqual(['after first expiry']);
	});

	it('closes the channel with the hosted error when the token expires, and stops delivery', async () => {
		const org = newOrg();
		const user = await member(sql, org);
		const c = await client('1.0.0', await userToken(user, 2));
		const got: string[] = [];
		const system: { status: string; message: string }[] = [];
		const statuses: string[] = [];
		const ch = c.supabase
			.channel('expiry')
			.on<Row>(
				'postgres_changes',
				{ event: 'INSERT', schema: 'public', table: 'rt_items', filter: `org_id=eq.${org}` },
				(p) => got.push((p.new as Row).label!)
			)
			.on('system', {}, (p) => system.push(p));
		await new Promise<void>((resolve) =>
			ch.subscribe((s) => (statuses.push(s), s === 'SUBSCRIBED' && resolve()))
		);
		await until(() => statuses.includes('CLOSED'), 'the channel to close at expiry', 6000);
		expect(
			system.some(
				(s) => s.status === 'error' && /^Token has expired \d+ seconds ago$/.test(s.message)
			)
		).toBe(true);
		// The closed channel's socket stays open: a second channel on it, with a fresh token,
		// carries the marker.
		c.token = await userToken(user);
		await c.refresh();
		const other = c.supabase.channel('expiry-marker');
		const later = marker(other);
		await subscribed(other);
		await sql`insert into public.rt_items (org_id, label) values (${org}, 'too late')`;
		await later.commit();
		await until(later.arrived, 'a change committed after the late row, on the same socket');
		expect(got).toEqual([]);
	});

	it('refuses joins with an expired, forged or malformed token with the hosted reasons', async () => {
		const now = Math.floor(Date.now() / 1000);
		const expired = await userToken('00000000-0000-0000-0000-000000000000', -100);
		const [h, p] = (await signLegacy({ role: 'authenticated', exp: now + 60 })).split('.');
		const forged = `${h}.${p}.${Buffer.from('not the signature').toString('base64url')}`;
		const cases: [string, RegExp][] = [
			[expired, /^InvalidJWTToken: Token has expired \d+ seconds ago$/],
			[forged, /^JwtSignatureError: Failed to validate JWT signature$/],
			['not-a-jwt', /^MalformedJWT: The token provided is not a valid JWT$/],
			[
				await signLegacy({ sub: 'x', exp: now + 60 }),
				/^InvalidJWTToken: Fields `role` and `exp` are required in JWT$/
			]
		];
		for (const [token, reason] of cases) {
			const c = await client('2.0.0', token);
			const err = await subscribed(c.supabase.channel('refused')).then(
				() => null,
				(e: Error) => e
			);
			expect(err?.message).toMatch(reason);
		}
	});

	it('closes the channel with the hosted error when a refreshed token is invalid', async () => {
		const user = await member(sql, newOrg());
		const c = await client('2.0.0', await userToken(user));
		const system: { status: string; message: string }[] = [];
		const statuses: string[] = [];
		const ch = c.supabase.channel('bad-refresh').on('system', {}, (p) => system.push(p));
		await new Promise<void>((resolve) =>
			ch.subscribe((s) => (statuses.push(s), s === 'SUBSCRIBED' && resolve()))
		);
		c.token = 'not-a-jwt';
		await c.refresh();
		await until(() => statuses.includes('CLOSED'), 'the channel to close');
		expect(system).toContainEqual(
			expect.objectContaining({ status: 'error', message: 'The token provided is not a valid JWT' })
		);
	});
});

// The REST service's wire client on its own, against the running database: what a batch does
// when one statement fails, large results, a connection that dies under queued batches, and a
// pool whose connections are all taken.
import { afterAll, describe, expect, it } from 'vitest';
import { config } from '../config.ts';
import { adminSql } from '../testing.ts';
import {
	DbError,
	WireConnection,
	WireConnectionError,
	WirePool,
	type WireOptions
} from './pg-wire.ts';

const options: WireOptions = {
	host: '127.0.0.1',
	port: config.db.port,
	user: 'authenticator',
	password: 'postgres',
	database: config.db.name,
	params: { application_name: 'pg-wire-spec' }
};
const admin = adminSql();
const opened: WireConnection[] = [];
function connection() {
	const c = new WireConnection(options);
	opened.push(c);
	return c;
}

afterAll(async () => {
	for (const c of opened) c.close();
	await admin.end();
});

describe('the wire client', () => {
	it('logs in with SCRAM and refuses a wrong password with the server reason', async () => {
		const c = connection();
		expect(await c.run([{ text: 'select current_user::text', params: [] }])).toEqual([
			[['authenticator']]
		]);
		const wrong = new WireConnection({ ...options, password: 'not-the-password' });
		const refused = await wrong.run([{ text: 'select 1', params: [] }]).catch((e: Error) => e);
		expect(refused).toBeInstanceOf(WireConnectionError);
		expect((refused as Error).message).toMatch(/password authentication failed/);
		expect(wrong.closed).toBe(true);
	});

	it('rejects a batch whose middle statement fails, undoes the batch, and stays usable', async () => {
		const c = connection();
		const failed = await c
			.run([
				{ text: `select set_config('app.mark', 'set', false)`, params: [] },
				{ text: 'select 1 / $1::int', params: ['0'] },
				{ text: 'select 2', params: [] }
			])
			.catch((e: Error) => e);
		expect(failed).toBeInstanceOf(DbError);
		expect((failed as DbError).code).toBe('22012');
		// One Sync, one implicit transaction: the setting made before the error is gone too.
		const after = await c.run([
			{ text: `select coalesce(current_setting('app.mark', true), '')`, params: [] }
		]);
		expect(after).toEqual([[['']]]);
		expect(c.closed).toBe(false);
	});

	it('returns each statement its own rows, with parameters bound and nulls kept', async () => {
		const c = connection();
		const results = await c.run([
			{ text: 'select $1::text as a, $2::text as b', params: ['x', null] },
			{ text: 'select g::text from generate_series(1, 3) g', params: [] }
		]);
		expect(results).toEqual([[['x', null]], [['1'], ['2'], ['3']]]);
	});

	it('reassembles results far larger than one socket read', async () => {
		const c = connection();
		// ~3 MB in one value and 40,000 rows: many TCP chunks, messages cut at any byte.
		const [[[big]], rows] = await c.run([
			{ text: `select repeat('ab', 1500000) || 'é'`, params: [] },
			{ text: `select g::text, repeat('z', g % 50) from generate_series(1, 40000) g`, params: [] }
		]);
		expect(big!.length).toBe(3_000_001);
		expect(big!.endsWith('abé')).toBe(true);
		expect(rows).toHaveLength(40_000);
		expect(rows[39_999]).toEqual(['40000', 'z'.repeat(0)]);
		expect(rows[12_344]).toEqual(['12345', 'z'.repeat(45)]);
	});

	it('rejects every queued batch when the connection is lost, and refuses new ones', async () => {
		const c = connection();
		const [[[pid]]] = await c.run([{ text: 'select pg_backend_pid()::text', params: [] }]);
		const slow = c.run([{ text: 'select pg_sleep(30)', params: [] }]);
		const queued = c.run([{ text: 'select 1', params: [] }]);
		const outcomes = Promise.allSettled([slow, queued]);
		await admin`select pg_terminate_backend(${Number(pid)})`;
		const [first, second] = await outcomes;
		for (const outcome of [first, second]) {
			expect(outcome.status).toBe('rejected');
			// The server's own FATAL (57P01) or the closed socket: either way the caller is told.
			const reason = (outcome as PromiseRejectedResult).reason;
			expect(reason instanceof WireConnectionError || reason instanceof DbError).toBe(true);
		}
		await expect.poll(() => c.closed).toBe(true);
		await expect(c.run([{ text: 'select 1', params: [] }])).rejects.toBeInstanceOf(
			WireConnectionError
		);
	});
});

describe('the pool', () => {
	it('makes a caller wait for a busy connection and hands it over on release', async () => {
		const pool = new WirePool(options, 1);
		try {
			const first = await pool.acquire();
			let handed: WireConnection | null = null;
			const waiting = pool.acquire().then((c) => (handed = c));
			// A full round trip on the held connection: the waiter is still waiting after it.
			await first.run([{ text: 'select 1', params: [] }]);
			expect(handed).toBeNull();
			pool.release(first);
			expect(await waiting).toBe(first);
			pool.release(first);
		} finally {
			await pool.end();
		}
	});

	it('replaces a connection that died while held, for the next caller', async () => {
		const pool = new WirePool(options, 1);
		try {
			const first = await pool.acquire();
			const waiting = pool.acquire();
			first.close();
			pool.release(first);
			const next = await waiting;
			expect(next).not.toBe(first);
			expect(await next.run([{ text: 'select 1::text', params: [] }])).toEqual([[['1']]]);
			pool.release(next);
		} finally {
			await pool.end();
		}
	});
});

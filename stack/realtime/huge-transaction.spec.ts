// A transaction far larger than one dispatch chunk (2,000 changes): it reaches subscribers in
// commit order, whole, RLS deciding per subscriber; the slot is confirmed only once its last
// chunk went out, so a server killed mid-transaction delivers it again after the restart, and
// a stream dropped mid-transaction resumes where it was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RealtimeChannel } from '@supabase/supabase-js';
import { adminSql, until, userToken } from '../testing.ts';
import {
	changeMarker,
	createFixtures,
	dropFixtures,
	dropSlot,
	member,
	newOrg,
	realtimeClient,
	startStandalone,
	subscribed,
	type TestClient
} from './spec-helpers.ts';

const ROWS = 50_000;
/** rows for the confirmation and restart tests: fewer, but each ~2 KB (see `bigLabel`) */
const WIDE_ROWS = 40_000;

const sql = adminSql();
const slot = `realtime_huge_${process.pid}`;
let port = 0;
let server: { kill(): void } | null = null;
const clients: TestClient[] = [];

async function startServer() {
	const started = await startStandalone(port, slot);
	port = started.port;
	server = started;
}

beforeAll(async () => {
	await createFixtures(sql);
	await startServer();
});

afterAll(async () => {
	await Promise.allSettled(clients.map((c) => c.close()));
	server?.kill();
	await dropSlot(sql, slot);
	await dropFixtures(sql);
	await sql.end();
});

/** A subscriber of rt_items INSERTs on the standalone server, recording `n` in arrival order. */
async function subscriber(user: string, name: string) {
	const c = await realtimeClient('2.0.0', await userToken(user), `http://127.0.0.1:${port}`);
	clients.push(c);
	const got: number[] = [];
	const ch = c.supabase
		.channel(name)
		.on<{ n: number }>(
			'postgres_changes',
			{ event: 'INSERT', schema: 'public', table: 'rt_items' },
			(p) => got.push(p.new.n)
		);
	return { got, ch };
}

/**
 * Commits `rows` rows in one transaction (`org(g)` picks each row's organization); returns the
 * WAL position right after the commit, which the transaction's end cannot pass.
 */
async function commitHuge(rows: number, orgs: [number, number], labelSql: string) {
	await sql.unsafe(
		`insert into public.rt_items (org_id, n, label)
		select case when g % 2 = 0 then $1::int else $2::int end, g, ${labelSql}
		from generate_series(1, $3::int) g`,
		[orgs[0], orgs[1], rows]
	);
	const [{ lsn }] = await sql`select pg_current_wal_lsn()::text as lsn`;
	return lsn as string;
}

/** Whether the server's slot has confirmed the position `lsn`. */
async function confirmedPast(lsn: string) {
	const [s] = await sql`
		select confirmed_flush_lsn >= ${lsn}::pg_lsn as past from pg_replication_slots
		where slot_name = ${slot}`;
	return s.past as boolean;
}

/** ~2 KB per row (TOAST compresses it in the WAL): fewer rows fit in the sockets' buffers. */
const bigLabel = `repeat(md5(g::text), 62)`;

const increasing = (xs: number[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]);

describe('a transaction spanning many chunks', () => {
	it('reaches each subscriber in commit order and whole, and only the rows RLS lets it see', async () => {
		const [orgA, orgB, orgC] = [newOrg(), newOrg(), newOrg()];
		const alice = await subscriber(await member(sql, orgA), 'huge-a');
		const bob = await subscriber(await member(sql, orgB), 'huge-b');
		const carol = await subscriber(await member(sql, orgC), 'huge-c');
		const done = changeMarker(sql, carol.ch);
		await Promise.all([alice.ch, bob.ch, carol.ch].map((ch: RealtimeChannel) => subscribed(ch)));

		await commitHuge(ROWS, [orgA, orgB], `'row ' || g`);
		await done.commit();
		const half = ROWS / 2;
		await until(() => alice.got.length >= half && bob.got.length >= half, 'every row', 90_000);
		// committed after the transaction: once it reached carol, nothing more was coming to her
		await until(done.arrived, 'the marker after the transaction', 30_000);

		const evens = Array.from({ length: half }, (_, i) => 2 * (i + 1));
		expect(alice.got).toEqual(evens);
		expect(bob.got).toEqual(evens.map((n) => n - 1));
		expect(carol.got).toEqual([]);
	}, 120_000);

	it('confirms the slot position once the last chunk went out', async () => {
		const org = newOrg();
		const alice = await subscriber(await member(sql, org), 'huge-confirm');
		await subscribed(alice.ch);
		const end = await commitHuge(WIDE_ROWS, [org, org], bigLabel);

		// Not confirmed before the end is what the restart test below proves: a server killed
		// mid-transaction delivers it again from its first row. Sampling the slot at the first
		// row here raced the server on a quiet machine (it may have handed on every chunk by then).
		await until(() => alice.got.length >= WIDE_ROWS, 'every row', 90_000);
		// confirmed with the final chunk (status updates go out at once, keepalives every second)
		const deadline = Date.now() + 10_000;
		while (!(await confirmedPast(end)) && Date.now() < deadline)
			await new Promise((r) => setTimeout(r, 50));
		expect(await confirmedPast(end)).toBe(true);
		expect(alice.got.length).toBe(WIDE_ROWS);
		expect(increasing(alice.got)).toBe(true);
	}, 150_000);

	it('resumes after the last row it sent when the database drops the stream mid-transaction', async () => {
		const org = newOrg();
		const alice = await subscriber(await member(sql, org), 'huge-walsender');
		await subscribed(alice.ch);
		await commitHuge(WIDE_ROWS, [org, org], bigLabel);

		await until(() => alice.got.length > 0, 'the first row', 60_000);
		await sql`select pg_terminate_backend(active_pid) from pg_replication_slots
			where slot_name = ${slot} and active`;
		await until(() => alice.got.length >= WIDE_ROWS, 'every row', 120_000);
		// the slot replays the transaction from its start; the rows already sent are skipped
		expect(alice.got).toEqual(Array.from({ length: WIDE_ROWS }, (_, i) => i + 1));
	}, 150_000);

	it('delivers the whole transaction again when the server is killed in the middle of it', async () => {
		const org = newOrg();
		const alice = await subscriber(await member(sql, org), 'huge-restart');
		await subscribed(alice.ch);
		await commitHuge(WIDE_ROWS, [org, org], bigLabel);

		await until(() => alice.got.length > 0, 'the first row', 60_000);
		server?.kill();
		const beforeKill = alice.got.length;
		await startServer();
		await until(
			() => new Set(alice.got).size >= WIDE_ROWS,
			'every row, after the restart',
			120_000
		);

		// nothing lost; the delivery cut short and the redelivery are each in commit order
		expect(beforeKill).toBeLessThan(WIDE_ROWS);
		expect(new Set(alice.got).size).toBe(WIDE_ROWS);
		const restartAt = alice.got.findIndex((n, i) => i > 0 && n <= alice.got[i - 1]);
		expect(restartAt).toBeGreaterThan(0);
		expect(increasing(alice.got.slice(0, restartAt))).toBe(true);
		expect(alice.got.slice(restartAt)).toEqual(Array.from({ length: WIDE_ROWS }, (_, i) => i + 1));
	}, 180_000);
});

// Durability: the realtime server killed mid-stream and restarted, and the database dropping
// the replication connection. Clients rejoin by themselves and nothing committed is lost.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../config.ts';
import { adminSql } from '../testing.ts';
import {
	createFixtures,
	dropFixtures,
	realtimeClient,
	subscribed,
	until,
	userToken,
	type TestClient
} from './spec-helpers.ts';

const sql = adminSql();
const port = Number(process.env.REALTIME_TEST_PORT ?? 57431);
const slot = `realtime_spec_${process.pid}`;
const clients: TestClient[] = [];
let server: ChildProcess | null = null;

/** The standalone server on its own port and slot, so killing it leaves the gateway alone. */
async function startServer() {
	const child = spawn(
		process.execPath,
		[
			'--import',
			'tsx',
			join(projectRoot, 'stack/realtime/standalone.ts'),
			'--port',
			String(port),
			'--slot',
			slot
		],
		{
			cwd: projectRoot,
			env: process.env,
			stdio: ['ignore', 'pipe', 'inherit']
		}
	);
	server = child;
	await new Promise<void>((resolve, reject) => {
		child.stdout!.on('data', (d: Buffer) => d.toString().includes('listening') && resolve());
		child.once('exit', (code) => reject(new Error(`standalone realtime exited with ${code}`)));
	});
}

function kill() {
	server?.kill('SIGKILL');
	server = null;
}

beforeAll(async () => {
	await createFixtures(sql);
	await startServer();
});

afterAll(async () => {
	await Promise.allSettled(clients.map((c) => c.close()));
	kill();
	// a test slot left behind would pin WAL forever: wait for its walsender to go, then drop it
	for (let i = 0; i < 50; i++) {
		const [s] = await sql`select active from pg_replication_slots where slot_name = ${slot}`;
		if (!s) break;
		if (!s.active) {
			await sql`select pg_drop_replication_slot(${slot})`;
			break;
		}
		await new Promise((r) => setTimeout(r, 100));
	}
	await dropFixtures(sql);
	await sql.end();
});

describe('recovery', () => {
	it('delivers rows committed while the server was down once clients have rejoined', async () => {
		const c = await realtimeClient(
			'2.0.0',
			await userToken(crypto.randomUUID()),
			`http://127.0.0.1:${port}`
		);
		clients.push(c);
		const got: string[] = [];
		const statuses: string[] = [];
		const ch = c.supabase
			.channel('restart')
			.on<{ label: string }>(
				'postgres_changes',
				{ event: 'INSERT', schema: 'public', table: 'rt_open' },
				(p) => got.push(p.new.label)
			);
		await new Promise<void>((resolve) =>
			ch.subscribe((s) => (statuses.push(s), s === 'SUBSCRIBED' && resolve()))
		);
		await sql`insert into public.rt_open (label) values ('before')`;
		await until(() => got.includes('before'), 'the row before the crash');
		kill();
		await sql`insert into public.rt_open (label) values ('while down 1')`;
		await sql`insert into public.rt_open (label) values ('while down 2')`;
		await startServer();
		await until(
			() => got.includes('while down 2'),
			'the rows committed while the server was down',
			25_000
		);
		await sql`insert into public.rt_open (label) values ('after')`;
		await until(() => got.includes('after'), 'a row after the restart');
		expect(got).toEqual(['before', 'while down 1', 'while down 2', 'after']);
	}, 40_000);

	it('resumes from its slot when the database drops the replication connection', async () => {
		const c = await realtimeClient(
			'1.0.0',
			await userToken(crypto.randomUUID()),
			`http://127.0.0.1:${port}`
		);
		clients.push(c);
		const got: string[] = [];
		await subscribed(
			c.supabase
				.channel('walsender')
				.on<{ label: string }>(
					'postgres_changes',
					{ event: 'INSERT', schema: 'public', table: 'rt_open' },
					(p) => got.push(p.new.label)
				)
		);
		await sql`select pg_terminate_backend(active_pid) from pg_replication_slots where slot_name = ${slot} and active`;
		await sql`insert into public.rt_open (label) values ('during reconnect')`;
		await until(
			() => got.includes('during reconnect'),
			'the row committed while the stream reconnected',
			15_000
		);
		expect(got).toEqual(['during reconnect']);
	}, 30_000);
});

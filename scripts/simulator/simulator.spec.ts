// The simulator against the running platform: its summary must agree with the database, i.e.
// every accepted event is a stored row (a conversation, a message, an end or a handoff).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../stack/config.ts';
import { adminSql } from '../../stack/testing.ts';
import type { Summary } from './stats.ts';

const sql = adminSql();
afterAll(() => sql.end());

interface Run {
	summary: Promise<Summary>;
	/** Resolves with the run id once the simulator has started talking. */
	started: Promise<string>;
	kill: (signal: NodeJS.Signals) => void;
}

function simulate(args: string[]): Run {
	const child = spawn(
		process.execPath,
		['--import', 'tsx', join(projectRoot, 'scripts/simulator/cli.ts'), '--json', ...args],
		{ cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] }
	);
	let stdout = '';
	let stderr = '';
	child.stdout.on('data', (c) => (stdout += c));
	const started = new Promise<string>((resolve) => {
		child.stderr.on('data', (c) => {
			stderr += c;
			const id = /run ([a-z0-9]+)/.exec(stderr)?.[1];
			if (id) resolve(id);
		});
	});
	const summary = new Promise<Summary>((resolve, reject) => {
		child.on('exit', (code) => {
			if (code !== 0) reject(new Error(`simulate exited ${code}: ${stderr}`));
			else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Summary);
		});
	});
	return { summary, started, kill: (s) => child.kill(s) };
}

/** What the database holds for a run, counted by the run's conversation ids. */
async function stored(runId: string) {
	const [row] = await sql<
		{ conversations: number; messages: number; ended: number; handed_off: number }[]
	>`
		select count(*)::int conversations,
			count(c.ended_at)::int ended,
			count(c.handed_off_at)::int handed_off,
			(select count(*)::int from public.messages m
				where m.conversation_id = any (array_agg(c.id))) messages
		from public.conversations c
		where c.external_id like ${`sim-${runId}-%`}`;
	return row;
}

function expectAgreement(summary: Summary, rows: Awaited<ReturnType<typeof stored>>) {
	expect(summary.rejected).toBe(0);
	expect(summary.sent).toBe(summary.accepted + summary.duplicate + summary.rejected);
	expect(rows).toEqual({
		conversations: summary.acceptedByType.conversation_started,
		messages: summary.acceptedByType.message,
		ended: summary.acceptedByType.conversation_ended,
		handed_off: summary.acceptedByType.conversation_handed_off
	});
	const total = rows.conversations + rows.messages + rows.ended + rows.handed_off;
	expect(total).toBe(summary.accepted);
}

// Each test runs the real command; a busy machine makes it slow, never wrong.
describe('npm run simulate', { timeout: 90_000 }, () => {
	it('live for a bounded time: events accepted = rows stored', async () => {
		const run = simulate(['--seed', '7', '--rate', '20', '--duration', '6s']);
		const summary = await run.summary;
		expect(summary.accepted).toBeGreaterThan(50);
		expect(summary.unsent).toBe(0);
		expectAgreement(summary, await stored(summary.runId));
	});

	it('stops cleanly on SIGTERM with a summary that agrees with the database', async () => {
		// At this rate the warm-up alone is several full batches per bot, so requests are in
		// flight when the signal comes: the summary must wait for their answers.
		const run = simulate(['--seed', '8', '--rate', '200', '--bots', '2']);
		const runId = await run.started;
		// Stop once traffic is flowing, i.e. the database holds some of this run.
		for (let rows = 0; rows === 0;) {
			await new Promise((r) => setTimeout(r, 100));
			rows = (await stored(runId)).messages;
		}
		run.kill('SIGTERM');
		const summary = await run.summary;
		expect(summary.runId).toBe(runId);
		expectAgreement(summary, await stored(runId));
		const [bots] = await sql<{ n: number }[]>`
			select count(distinct bot_id)::int n from public.conversations
			where external_id like ${`sim-${runId}-%`}`;
		expect(bots.n).toBe(2);
	});

	it('waits out ingest 429s (Retry-After) and resends: nothing lost, nothing counted twice', async () => {
		// One request a second for this bot, far below what the run sends.
		await sql`insert into private.ingest_rate_limits (bot_id)
			select id from public.bots where name = 'Acme Support' on conflict do nothing`;
		await sql`
			update private.ingest_rate_limits r
			set requests_per_second = ${1}, request_burst = ${1}
			from public.bots b where b.id = r.bot_id and b.name = 'Acme Support'`;
		try {
			const summary = await simulate([
				'--seed',
				'10',
				'--bots',
				'support',
				'--rate',
				'20',
				'--duration',
				'5s'
			]).summary;
			expect(summary.throttled).toBeGreaterThan(0);
			expectAgreement(summary, await stored(summary.runId));
		} finally {
			await sql`
				update private.ingest_rate_limits r
				set requests_per_second = default, request_burst = default
				from public.bots b where b.id = r.bot_id and b.name = 'Acme Support'`;
		}
	});

	it('--backfill writes past days through ingest, spread over those days', async () => {
		const summary = await simulate(['--seed', '9', '--backfill', '2', '--per-hour', '4']).summary;
		expect(summary.accepted).toBeGreaterThan(500);
		expectAgreement(summary, await stored(summary.runId));
		const [span] = await sql<{ hours: number; oldest_days: number }[]>`
			select count(distinct date_trunc('hour', started_at))::int hours,
				extract(epoch from now() - min(started_at))::float / 86400 oldest_days
			from public.conversations where external_id like ${`sim-${summary.runId}-%`}`;
		expect(span.hours).toBeGreaterThan(40);
		expect(span.oldest_days).toBeGreaterThan(1.9);
		expect(span.oldest_days).toBeLessThanOrEqual(2.01);
	});
});

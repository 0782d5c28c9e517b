// Shared by the ingest and export benchmarks: a signed-in user with an organization, and bots
// with an API key and no rate limit.
import { createHash, randomUUID } from 'node:crypto';
import { createClient } from '@supabase/supabase-js';
import type postgres from 'postgres';
import WebSocket from 'ws';
import { config } from '../../stack/config.ts';
import { until } from '../../stack/polling.ts';

export type Sql = postgres.Sql;

export const round = (n: number, digits = 0) => Number(n.toFixed(digits));
export const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

/** The benchmark user `bench-<label>@example.test`, signed up on first use, signed in. */
export async function benchUser(label: string) {
	const email = `bench-${label}@example.test`;
	const password = 'bench-password-42';
	const client = createClient(config.api.url, config.keys.anon, {
		auth: { persistSession: false, autoRefreshToken: false },
		// Node 20 has no global WebSocket, which realtime-js wants as soon as a client exists.
		realtime: { transport: WebSocket as unknown as typeof globalThis.WebSocket }
	});
	let auth = await client.auth.signInWithPassword({ email, password });
	if (auth.error) {
		const signUp = await client.auth.signUp({ email, password });
		if (signUp.error) throw new Error(`bench sign-up failed: ${signUp.error.message}`);
		auth = await client.auth.signInWithPassword({ email, password });
		if (auth.error) throw new Error(`bench sign-in failed: ${auth.error.message}`);
	}
	return { client, token: auth.data.session!.access_token, userId: auth.data.user!.id };
}

/** A user with a bot in their personal organization; the user signs in for the export. */
export async function fixture(sql: Sql, label: string) {
	const { client, token, userId } = await benchUser(label);
	const [org] = await sql`select organization_id as id from public.organization_members
		where user_id = ${userId} and role = 'owner' order by created_at limit 1`;
	return { client, token, userId, organizationId: org.id as string };
}

export async function newBot(sql: Sql, organizationId: string, name: string) {
	const key = `bf_live_${randomUUID().replaceAll('-', '')}${randomUUID().replaceAll('-', '')}`;
	const [bot] =
		await sql`insert into public.bots (organization_id, name) values (${organizationId}, ${name}) returning id`;
	await sql`insert into public.bot_api_keys (bot_id, name, key_prefix, key_hash)
		values (${bot.id}, 'bench', ${key.slice(0, 14)}, ${createHash('sha256').update(key).digest()})`;
	// The bench measures throughput, not the default rate limit.
	await sql`insert into private.ingest_rate_limits
			(bot_id, request_burst, requests_per_second, event_burst, events_per_second)
		values (${bot.id}, 1000000, 1000000, 1000000000, 1000000000)`;
	return { id: bot.id as string, key };
}

/**
 * Waits until Realtime's replication slot has decoded the WAL written so far (less than 1 MB
 * behind) and returns the wait in seconds. Every timed phase starts from there: on two cores,
 * decoding the previous phase's rows (a million-row transaction, or the last COPY) beside a
 * rollup, a read or an ingest run would measure both at once.
 */
export async function realtimeCaughtUp(sql: Sql): Promise<number> {
	const start = process.hrtime.bigint();
	const lag = async () =>
		Number(
			(
				await sql`select coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)), 0)::bigint as lag
					from pg_replication_slots where slot_type = 'logical'`
			)[0].lag
		);
	await until(
		async () => (await lag()) < 1_000_000,
		'Realtime to decode the WAL so far',
		600_000,
		200
	);
	return round(seconds(start), 1);
}

// What change capture needs from the database before it streams: its slot, and two settings
// that bound the slot's cost and the commit-to-client latency.
import type postgres from 'postgres';

/** Creates the slot if missing, or recreates it when Postgres invalidated it. */
export async function ensureSlot(sql: postgres.Sql, slot: string, log: (msg: string) => void) {
	const [s] = await sql`select wal_status from pg_replication_slots where slot_name = ${slot}`;
	if (s?.wal_status === 'lost') {
		log(
			`replication slot ${slot} was invalidated (lagged past max_slot_wal_keep_size); recreating it`
		);
		await sql`select pg_drop_replication_slot(${slot})`;
	} else if (s) return;
	try {
		await sql`select pg_create_logical_replication_slot(${slot}, 'pgoutput')`;
	} catch (e) {
		if ((e as { code?: string }).code !== '42710') throw e; // created concurrently
	}
}

/** Sets, when looser, the WAL settings change capture relies on. */
export async function tuneForCapture(sql: postgres.Sql) {
	// Bound how much WAL a slot may pin if this server stays down (hosted caps it as well).
	const [{ setting }] =
		await sql`select setting from pg_settings where name = 'max_slot_wal_keep_size'`;
	if (setting === '-1') {
		await sql.unsafe(`alter system set max_slot_wal_keep_size = '2GB'`);
		await sql.unsafe(`select pg_reload_conf()`);
	}
	// With synchronous_commit off, logical decoding sees a commit only once the WAL writer
	// flushes it (every wal_writer_delay, 200 ms by default): that delay would dominate
	// commit-to-client latency, so flush at least every 10 ms (the writer sleeps when idle).
	const [{ setting: writerDelay }] =
		await sql`select setting from pg_settings where name = 'wal_writer_delay'`;
	if (Number(writerDelay) > 10) {
		await sql.unsafe(`alter system set wal_writer_delay = '10ms'`);
		await sql.unsafe(`select pg_reload_conf()`);
	}
}

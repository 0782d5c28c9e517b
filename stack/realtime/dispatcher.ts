// From committed transactions to frames: match each change against the subscriptions of its
// table (event + filter, in memory), check RLS once per (table, batch) for all identities
// involved, then send. Batches form by themselves: whatever committed while the previous batch
// was being checked goes in the next one, so load raises batch size rather than latency.
import {
	ReplicationStream,
	lsnFromString,
	type Change,
	type RelationInfo,
	type Transaction
} from './replication.ts';
import { VisibilityChecker, ensureHelpers } from './rls.ts';
import { matches } from './filters.ts';
import { toJsonValue } from './values.ts';
import type { Socket } from 'node:net';
import type { Binding, Channel, Connection, RealtimeServer } from './server.ts';

/** The TCP socket under a `ws` connection (not public API, hence optional). */
const socketOf = (c: Connection) => (c.ws as unknown as { _socket?: Socket })._socket;

interface TableMeta {
	at: number;
	rls: boolean;
	primaryKey: string[];
}

interface Prepared {
	change: Change;
	commitTs: string;
	schema: string;
	table: string;
	types: Map<string, string>;
	record: Record<string, unknown> | null;
	old: Record<string, unknown> | null;
	/** channel -> ids of its bindings that match */
	targets: Map<Channel, number[]>;
	/** channel -> columns it asked for (`select`), null for all */
	selects: Map<Channel, Set<string> | null>;
	/** the row as committed, in Postgres text form, for the RLS check */
	committed: Record<string, string | null> | null;
}

const MAX_BATCH_CHANGES = 5000;
const PAUSE_AT_QUEUED = 50_000;
const MAX_INFLIGHT = 1;
/** A batch whose dispatch fails (database away) is retried this often before being dropped. */
const MAX_ATTEMPTS = 60;
const RETRY_MS = 500;
/** Longest pause between batches that lets the next one grow (see `cooldownUntil`). */
const MAX_COOLDOWN_MS = 50;
/** Checks quicker than this (few identities) cost too little to be worth delaying the next batch. */
const MIN_COOLDOWN_RLS_MS = 20;
/** How long changes committed before a restart wait for their subscribers to rejoin. */
const REJOIN_GRACE_MS = 1500;
const BACKLOG_MAX_HOLD_MS = 20_000;

export class Dispatcher {
	private replication: ReplicationStream;
	private checker: VisibilityChecker;
	private byTable = new Map<string, Set<Binding>>();
	private wildcard = new Set<Binding>();
	private queue: Transaction[] = [];
	private queuedChanges = 0;
	private scheduled = false;
	/**
	 * An RLS check costs the same for one row as for fifty, per identity. After a batch whose
	 * check took T ms, the next one starts T ms later (capped): under load batches grow
	 * instead of the database running the identity loop back to back.
	 */
	private cooldownUntil = 0;
	private lastRlsMs = 0;
	/** failed dispatch attempts of the batch at the head of the queue */
	private attempt = 0;
	private inflight = 0;
	private sendChain: Promise<void> = Promise.resolve();
	private lastQueued = 0n;
	private typeNames = new Map<number, string>();
	private tableMeta = new Map<number, TableMeta>();
	private holdBelow: bigint | null = null;
	private holdTimer: NodeJS.Timeout | null = null;
	private graceArmed = false;
	private closed = false;
	/** counters for the benchmark and logs */
	stats = { transactions: 0, changes: 0, frames: 0, rlsQueries: 0 };
	/** per transaction: ms from its arrival off the slot until its frames were handed to sockets */
	dispatchMs: number[] = [];

	constructor(private readonly server: RealtimeServer) {
		const o = server.o;
		this.replication = new ReplicationStream({
			dbUrl: o.dbUrl,
			slot: o.slot,
			publication: o.publication,
			onTransaction: (tx) => this.enqueue(tx),
			// Backlog from before a restart is kept whole until subscribers have rejoined.
			wants: (schema, table, finalLsn) =>
				(this.holdBelow !== null && finalLsn <= this.holdBelow) ||
				this.candidates(schema, table).length > 0,
			beforeReconnect: () => this.ensureSlot(),
			log: o.log
		});
		this.checker = new VisibilityChecker(server.sql);
	}

	async start() {
		const sql = this.server.sql;
		await ensureHelpers(sql);
		await this.ensureSlot();
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
		const types = await sql`select oid::int as oid, typname from pg_type`;
		for (const t of types) this.typeNames.set(t.oid, t.typname);
		// Changes already in the slot were committed while no server ran: hold them until their
		// subscribers have had a chance to rejoin, instead of delivering them to nobody.
		const [{ lsn }] = await sql`select pg_current_wal_lsn()::text as lsn`;
		const [slot] =
			await sql`select confirmed_flush_lsn::text as c from pg_replication_slots where slot_name = ${this.server.o.slot}`;
		if (slot?.c && lsnFromString(slot.c) < lsnFromString(lsn)) {
			this.holdBelow = lsnFromString(lsn);
			this.holdTimer = setTimeout(() => this.release(), BACKLOG_MAX_HOLD_MS);
			this.holdTimer.unref();
		}
		await this.replication.start();
	}

	private async ensureSlot() {
		const sql = this.server.sql;
		const slot = this.server.o.slot;
		const [s] = await sql`select wal_status from pg_replication_slots where slot_name = ${slot}`;
		if (s?.wal_status === 'lost') {
			this.server.o.log(
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

	private release() {
		if (this.holdBelow === null) return;
		this.holdBelow = null;
		if (this.holdTimer) clearTimeout(this.holdTimer);
		this.schedule();
	}

	addBinding(b: Binding) {
		if (this.holdBelow !== null && !this.graceArmed) {
			// first subscriber after a restart: give the others a moment to rejoin too
			this.graceArmed = true;
			if (this.holdTimer) clearTimeout(this.holdTimer);
			this.holdTimer = setTimeout(() => this.release(), REJOIN_GRACE_MS);
			this.holdTimer.unref();
		}
		if (b.table === null || b.schema === '*') this.wildcard.add(b);
		else {
			const key = `${b.schema}.${b.table}`;
			let set = this.byTable.get(key);
			if (!set) this.byTable.set(key, (set = new Set()));
			set.add(b);
		}
	}

	removeBinding(b: Binding) {
		this.wildcard.delete(b);
		const key = `${b.schema}.${b.table}`;
		const set = this.byTable.get(key);
		set?.delete(b);
		if (set?.size === 0) this.byTable.delete(key);
	}

	private enqueue(tx: Transaction): boolean {
		// after a reconnect the slot replays what we had received but not yet confirmed
		if (tx.endLsn <= this.lastQueued) return false;
		this.lastQueued = tx.endLsn;
		this.queue.push(tx);
		this.queuedChanges += tx.changes.length;
		if (this.queuedChanges > PAUSE_AT_QUEUED) this.replication.pause();
		this.schedule();
		return true;
	}

	private schedule() {
		if (this.scheduled || this.closed) return;
		this.scheduled = true;
		const run = () => {
			this.scheduled = false;
			this.pump();
		};
		const wait = this.cooldownUntil - performance.now();
		if (wait > 1) setTimeout(run, wait);
		else setImmediate(run);
	}

	private held() {
		return (
			this.holdBelow !== null && this.queue.length > 0 && this.queue[0].endLsn <= this.holdBelow
		);
	}

	/**
	 * Two batches may be in flight: while one is being sent, the next one's RLS check already
	 * runs in the database. Sends and confirmations stay in commit order through `sendChain`.
	 */
	private pump() {
		while (this.queue.length > 0 && !this.closed && this.inflight < MAX_INFLIGHT && !this.held()) {
			const batch: Transaction[] = [];
			let n = 0;
			while (
				this.queue.length > 0 &&
				(n === 0 || n + this.queue[0].changes.length <= MAX_BATCH_CHANGES) &&
				!this.held()
			) {
				const tx = this.queue.shift()!;
				n += tx.changes.length;
				batch.push(tx);
			}
			this.queuedChanges -= n;
			if (this.queuedChanges < PAUSE_AT_QUEUED / 2) this.replication.resume();
			this.inflight++;
			const ready = this.prepare(batch).catch((e) => {
				if (this.attempt >= MAX_ATTEMPTS) {
					this.server.o.log(`dispatch of ${n} changes failed: ${(e as Error).stack}`);
					return [] as Prepared[];
				}
				this.server.o.log(`dispatch of ${n} changes failed (${(e as Error).message}); will retry`);
				return null;
			});
			this.sendChain = this.sendChain.then(async () => {
				const prepared = await ready;
				if (prepared === null) {
					// not confirmed: back to the front of the queue, tried again shortly
					this.attempt++;
					this.queue.unshift(...batch);
					this.queuedChanges += n;
					this.cooldownUntil = performance.now() + RETRY_MS;
					this.inflight--;
					this.schedule();
					return;
				}
				this.attempt = 0;
				try {
					this.sendBatch(prepared);
				} catch (e) {
					this.server.o.log(`sending ${n} changes failed: ${(e as Error).stack}`);
				}
				const done = performance.now();
				if (this.dispatchMs.length < 100_000)
					for (const tx of batch) this.dispatchMs.push(done - tx.receivedAt);
				this.replication.confirm(batch[batch.length - 1].endLsn, batch.length);
				this.cooldownUntil =
					this.lastRlsMs > MIN_COOLDOWN_RLS_MS
						? done + Math.min(this.lastRlsMs, MAX_COOLDOWN_MS)
						: 0;
				this.lastRlsMs = 0;
				this.inflight--;
				this.schedule();
			});
		}
	}

	/** RLS flag and primary key, by table oid (a dropped and recreated table is another). */
	private async meta(relation: RelationInfo): Promise<TableMeta> {
		const m = this.tableMeta.get(relation.oid);
		if (m && Date.now() - m.at < 2000) return m;
		const [row] = await this.server.sql`
			select c.relrowsecurity as rls,
				array(select a.attname::text from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
					where i.indrelid = c.oid and i.indisprimary order by array_position(i.indkey, a.attnum)) as pk
			from pg_class c where c.oid = ${relation.oid}`;
		// A table dropped since: assume RLS (safest) and take the key the WAL flagged.
		const fresh = {
			at: Date.now(),
			rls: row?.rls ?? true,
			primaryKey: (row?.pk as string[]) ?? relation.columns.filter((c) => c.key).map((c) => c.name)
		};
		if (this.tableMeta.size > 10_000) this.tableMeta.clear();
		this.tableMeta.set(relation.oid, fresh);
		return fresh;
	}

	private async typesFor(change: Change): Promise<Map<string, string>> {
		const missing = change.relation.columns
			.filter((c) => !this.typeNames.has(c.typeOid))
			.map((c) => c.typeOid);
		if (missing.length > 0) {
			const rows = await this.server
				.sql`select oid::int as oid, typname from pg_type where oid = any(${missing}::oid[])`;
			for (const r of rows) this.typeNames.set(r.oid, r.typname);
		}
		return new Map(
			change.relation.columns.map((c) => [c.name, this.typeNames.get(c.typeOid) ?? 'text'])
		);
	}

	private candidates(schema: string, table: string): Binding[] {
		const out: Binding[] = [];
		const set = this.byTable.get(`${schema}.${table}`);
		if (set) for (const b of set) out.push(b);
		for (const b of this.wildcard)
			if ((b.schema === '*' || b.schema === schema) && (b.table === null || b.table === table))
				out.push(b);
		return out;
	}

	private async prepare(batch: Transaction[]): Promise<Prepared[]> {
		const prepared: Prepared[] = [];
		const now = Date.now();
		for (const tx of batch) {
			this.stats.transactions++;
			const commitTs = tx.commitTime.toISOString();
			for (const change of tx.changes) {
				this.stats.changes++;
				const { schema, table } = change.relation;
				const cands = this.candidates(schema, table);
				if (cands.length === 0) continue;
				const types = await this.typesFor(change);
				const meta = await this.meta(change.relation);
				const cols = change.relation.columns;
				const toRecord = (tuple: (string | null | undefined)[] | null, only?: Set<string>) => {
					if (!tuple) return null;
					const r: Record<string, unknown> = {};
					for (let i = 0; i < cols.length; i++) {
						if (tuple[i] === undefined || (only && !only.has(cols[i].name))) continue;
						r[cols[i].name] = toJsonValue(tuple[i] as string | null, types.get(cols[i].name)!);
					}
					return r;
				};
				const record = change.kind === 'DELETE' ? null : toRecord(change.newTuple);
				let old: Record<string, unknown> | null = null;
				const pk = new Set(meta.primaryKey);
				// A 'K' old tuple holds the replica identity key; its other columns are empty, not null.
				const identityKey = new Set(cols.filter((c) => c.key).map((c) => c.name));
				let subject = record;
				// Filter conditions a DELETE cannot be judged on pass through, as hosted Realtime
				// passes deletes through filters.
				let judgeable: Set<string> | null = null;
				if (change.kind === 'DELETE') {
					// DELETE is not RLS-checked, so with RLS on only the primary key leaves the server,
					// and filters may only look at that key: judging them on other logged columns would
					// let any subscriber probe deleted rows it could never read.
					subject = toRecord(change.oldTuple, change.oldKind === 'K' ? identityKey : undefined);
					if (meta.rls) judgeable = pk;
					old = toRecord(
						change.oldTuple,
						meta.rls ? pk : change.oldKind === 'K' ? identityKey : undefined
					);
				} else if (change.kind === 'UPDATE') {
					old =
						change.oldKind === 'O'
							? toRecord(change.oldTuple)
							: toRecord(change.oldTuple ?? change.newTuple, change.oldTuple ? identityKey : pk);
				}
				const targets = new Map<Channel, number[]>();
				const selects = new Map<Channel, Set<string> | null>();
				for (const b of cands) {
					const ch = b.channel;
					if (!ch.open || ch.claims.exp * 1000 <= now) continue;
					if (b.event !== '*' && b.event !== change.kind) continue;
					const conds = judgeable ? b.conds.filter((c) => judgeable.has(c.column)) : b.conds;
					if (conds.length > 0 && !matches(conds, subject!, types)) continue;
					const ids = targets.get(ch);
					if (ids) {
						if (!ids.includes(b.id)) ids.push(b.id);
					} else targets.set(ch, [b.id]);
					// several bindings of one channel: the union of their columns
					const had = selects.get(ch);
					if (b.select === null || had === null) selects.set(ch, null);
					else selects.set(ch, new Set([...(had ?? []), ...b.select]));
				}
				if (targets.size === 0) continue;
				let committed: Record<string, string | null> | null = null;
				if (change.kind !== 'DELETE') {
					committed = {};
					for (let i = 0; i < cols.length; i++)
						if (change.newTuple![i] !== undefined)
							committed[cols[i].name] = change.newTuple![i] as string | null;
				}
				prepared.push({
					change,
					commitTs,
					schema,
					table,
					types,
					record,
					old,
					targets,
					selects,
					committed
				});
			}
		}
		if (prepared.length > 0) {
			const t0 = performance.now();
			await this.applyRls(prepared);
			this.lastRlsMs = performance.now() - t0;
		}
		return prepared;
	}

	/** Sends a batch with each touched socket corked, so its frames leave in one write. */
	private sendBatch(prepared: Prepared[]) {
		const corked = new Set<Connection>();
		try {
			for (const p of prepared) this.sendChange(p, corked);
		} finally {
			for (const c of corked) socketOf(c)?.uncork();
		}
	}

	/** Drops targets whose identity may not select the changed row: one query per table. */
	private async applyRls(prepared: Prepared[]) {
		const byTable = new Map<string, Prepared[]>();
		for (const p of prepared) {
			if (p.committed === null) continue;
			const k = `${p.schema}.${p.table}`;
			const list = byTable.get(k);
			if (list) list.push(p);
			else byTable.set(k, [p]);
		}
		await Promise.all(
			[...byTable.values()].map(async (list) => {
				const identities: { claims: string; role: string }[] = [];
				const index = new Map<string, number>();
				for (const p of list) {
					for (const ch of p.targets.keys()) {
						if (ch.claims.role === 'service_role' || index.has(ch.claimsKey)) continue;
						index.set(ch.claimsKey, identities.length);
						identities.push({ claims: ch.claimsKey, role: ch.claims.role });
					}
				}
				if (identities.length === 0) return;
				this.stats.rlsQueries++;
				let visible: Set<number>[];
				try {
					visible = await this.checker.check({
						oid: list[0].change.relation.oid,
						rows: list.map((p) => p.committed!),
						identities
					});
				} catch (e) {
					// Retried by the caller (the database may be restarting); only a check that keeps
					// failing ends with the rows withheld, never shown to the wrong subscriber.
					if (this.attempt < MAX_ATTEMPTS) throw e;
					this.server.o.log(
						`RLS check on ${list[0].schema}.${list[0].table} kept failing, withholding the batch: ${(e as Error).message}`
					);
					visible = identities.map(() => new Set());
				}
				list.forEach((p, row) => {
					for (const ch of [...p.targets.keys()]) {
						if (ch.claims.role === 'service_role') continue;
						const i = index.get(ch.claimsKey);
						if (i === undefined || !visible[i].has(row)) p.targets.delete(ch);
					}
				});
			})
		);
	}

	private sendChange(p: Prepared, corked: Set<Connection>) {
		const { change } = p;
		const dataJson = new Map<string, string>();
		const dataFor = (select: Set<string> | null) => {
			const key = select ? [...select].sort().join(',') : '*';
			let json = dataJson.get(key);
			if (json === undefined) {
				const pick = (r: Record<string, unknown> | null) =>
					r && select ? Object.fromEntries(Object.entries(r).filter(([k]) => select.has(k))) : r;
				const cols = change.relation.columns.filter((c) => !select || select.has(c.name));
				json = JSON.stringify({
					schema: p.schema,
					table: p.table,
					commit_timestamp: p.commitTs,
					type: change.kind,
					columns: cols.map((c) => ({ name: c.name, type: p.types.get(c.name) })),
					...(p.record ? { record: pick(p.record) } : {}),
					...(change.kind !== 'INSERT' ? { old_record: pick(p.old ?? {}) } : {}),
					errors: null
				});
				dataJson.set(key, json);
			}
			return { key, json };
		};
		// Frames differ only by serializer, topic, ids and columns: encode each combination once,
		// to bytes, so fan-out does not re-encode the same text per socket.
		const cache = new Map<string, Buffer>();
		for (const [ch, ids] of p.targets) {
			if (!ch.open) continue;
			const data = dataFor(p.selects.get(ch) ?? null);
			const key = `${ch.conn.vsn}|${ch.topic}|${ids.join(',')}|${data.key}`;
			let frame = cache.get(key);
			if (!frame) {
				const topic = JSON.stringify(ch.topic);
				const payload = `{"ids":${JSON.stringify(ids)},"data":${data.json}}`;
				frame = Buffer.from(
					ch.conn.vsn === '2.0.0'
						? `[null,null,${topic},"postgres_changes",${payload}]`
						: `{"topic":${topic},"event":"postgres_changes","payload":${payload},"ref":null}`
				);
				cache.set(key, frame);
			}
			this.stats.frames++;
			if (!corked.has(ch.conn)) {
				socketOf(ch.conn)?.cork();
				corked.add(ch.conn);
			}
			this.server.send(ch.conn, frame, true);
		}
	}

	async close() {
		this.closed = true;
		if (this.holdTimer) clearTimeout(this.holdTimer);
		await this.replication.close();
	}
}

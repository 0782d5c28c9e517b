// From committed transactions to frames: match each change against the subscriptions of its
// table (event + filter, in memory), check RLS once per (table, batch) for all identities
// involved, then send. Batches form by themselves: whatever committed while the previous batch
// was being checked goes in the next one, so load raises batch size rather than latency.
// A huge transaction arrives in chunks and goes out batch by batch, in commit order; the slot
// position is confirmed only once its final chunk went out.
import type postgres from 'postgres';
import { ensureSlot, tuneForCapture } from './capture-setup.ts';
import { BacklogHold } from './backlog-hold.ts';
import { Catalog } from './catalog.ts';
import { changeRows, committedRow } from './change-rows.ts';
import { ChangeSender, type Prepared } from './change-sender.ts';
import type { Binding, Channel, Connection } from './channel.ts';
import { matches } from './filters.ts';
import { ReplicationStream, lsnFromString, type ChangeChunk } from './replication.ts';
import { VisibilityChecker, ensureHelpers } from './rls.ts';

/** What the dispatcher needs from the server that owns the sockets; nothing more. */
export interface DispatcherPort {
	dbUrl: string;
	slot: string;
	publication: string;
	/** The server's pool, for catalog reads and RLS checks. */
	sql: postgres.Sql;
	log(msg: string): void;
	/** Hands a change frame (UTF-8 JSON) to a socket's bounded send queue. */
	deliver(conn: Connection, frame: Buffer): void;
	/** A socket's send-queue bound: a batch waits while a reader holds more than a part of it. */
	maxBufferedBytes: number;
}

const MAX_BATCH_CHANGES = 5000;
const MAX_BATCH_BYTES = 1024 * 1024;
/** Decoded but unsent, above which the walsender's socket is no longer read (backpressure). */
const PAUSE_AT_QUEUED = 6000;
const PAUSE_AT_QUEUED_BYTES = 4 * 1024 * 1024;
/** How long sending waits for a reader to flush before going on without it. */
const SLOW_READER_WAIT_MS = 5000;
const MAX_INFLIGHT = 1;
/** A batch whose dispatch fails (database away) is retried this often before being dropped. */
const MAX_ATTEMPTS = 60;
const RETRY_MS = 500;
/** Longest pause between batches that lets the next one grow (see `cooldownUntil`). */
const MAX_COOLDOWN_MS = 50;
/** Checks quicker than this (few identities) cost too little to be worth delaying the next batch. */
const MIN_COOLDOWN_RLS_MS = 20;

export class Dispatcher {
	private replication: ReplicationStream;
	private checker: VisibilityChecker;
	private byTable = new Map<string, Set<Binding>>();
	private wildcard = new Set<Binding>();
	private queue: ChangeChunk[] = [];
	private queuedChanges = 0;
	private queuedBytes = 0;
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
	private catalog: Catalog;
	/** Backlog from before a restart, kept whole until subscribers have rejoined. */
	private hold = new BacklogHold(() => this.schedule());
	private closed = false;
	private sender: ChangeSender;
	/** counters for the benchmark and logs */
	stats = { transactions: 0, chunks: 0, changes: 0, rlsQueries: 0, rlsMs: 0 };
	/** per transaction: ms from its arrival off the slot until its frames were handed to sockets */
	dispatchMs: number[] = [];

	constructor(private readonly port: DispatcherPort) {
		this.replication = new ReplicationStream({
			dbUrl: port.dbUrl,
			slot: port.slot,
			publication: port.publication,
			onChunk: (chunk) => this.enqueue(chunk),
			wants: (schema, table, commitLsn) =>
				this.hold.holds(commitLsn) || this.candidates(schema, table).length > 0,
			beforeReconnect: () => ensureSlot(port.sql, port.slot, port.log),
			log: port.log
		});
		this.checker = new VisibilityChecker(port.sql);
		this.catalog = new Catalog(port.sql);
		this.sender = new ChangeSender({
			deliver: port.deliver,
			// a quarter of the bound: room for the frames of a change to many channels
			highWaterBytes: port.maxBufferedBytes / 4,
			maxWaitMs: SLOW_READER_WAIT_MS
		});
	}

	/** Frames sent and the readers' backpressure (waits, ms waited, laggards). */
	get sendStats() {
		return this.sender.stats;
	}

	async start() {
		const { sql, slot, log } = this.port;
		await ensureHelpers(sql);
		await ensureSlot(sql, slot, log);
		await tuneForCapture(sql);
		await this.catalog.loadTypes();
		// Changes already in the slot were committed while no server ran: hold them until their
		// subscribers have had a chance to rejoin, instead of delivering them to nobody.
		const [{ lsn }] = await sql`select pg_current_wal_lsn()::text as lsn`;
		const [confirmed] =
			await sql`select confirmed_flush_lsn::text as c from pg_replication_slots where slot_name = ${slot}`;
		if (confirmed?.c && lsnFromString(confirmed.c) < lsnFromString(lsn))
			this.hold.start(lsnFromString(lsn), this.bindingCount());
		await this.replication.start();
	}

	private bindingCount() {
		let n = this.wildcard.size;
		for (const set of this.byTable.values()) n += set.size;
		return n;
	}

	addBinding(b: Binding) {
		this.hold.subscriberJoined();
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

	private enqueue(chunk: ChangeChunk) {
		this.queue.push(chunk);
		this.queuedChanges += chunk.changes.length;
		this.queuedBytes += chunk.bytes;
		if (this.queuedChanges > PAUSE_AT_QUEUED || this.queuedBytes > PAUSE_AT_QUEUED_BYTES)
			this.replication.pause();
		this.schedule();
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
		return this.queue.length > 0 && this.hold.holds(this.queue[0].commitLsn);
	}

	/**
	 * Two batches may be in flight: while one is being sent, the next one's RLS check already
	 * runs in the database. Sends and confirmations stay in commit order through `sendChain`.
	 */
	private pump() {
		while (this.queue.length > 0 && !this.closed && this.inflight < MAX_INFLIGHT && !this.held()) {
			const batch: ChangeChunk[] = [];
			let n = 0;
			let bytes = 0;
			while (this.queue.length > 0 && !this.held()) {
				const next = this.queue[0];
				const fits =
					n + next.changes.length <= MAX_BATCH_CHANGES && bytes + next.bytes <= MAX_BATCH_BYTES;
				if (n > 0 && !fits) break;
				this.queue.shift();
				n += next.changes.length;
				bytes += next.bytes;
				batch.push(next);
			}
			this.queuedChanges -= n;
			this.queuedBytes -= bytes;
			if (this.queuedChanges < PAUSE_AT_QUEUED / 2 && this.queuedBytes < PAUSE_AT_QUEUED_BYTES / 2)
				this.replication.resume();
			this.inflight++;
			const ready = this.prepare(batch).catch((e) => {
				if (this.attempt >= MAX_ATTEMPTS) {
					this.port.log(`dispatch of ${n} changes failed: ${(e as Error).stack}`);
					return [] as Prepared[];
				}
				this.port.log(`dispatch of ${n} changes failed (${(e as Error).message}); will retry`);
				return null;
			});
			this.sendChain = this.sendChain.then(async () => {
				const prepared = await ready;
				if (prepared === null) {
					// not confirmed: back to the front of the queue, tried again shortly
					this.attempt++;
					this.queue.unshift(...batch);
					this.queuedChanges += n;
					this.queuedBytes += bytes;
					this.cooldownUntil = performance.now() + RETRY_MS;
					this.inflight--;
					this.schedule();
					return;
				}
				this.attempt = 0;
				try {
					await this.sender.send(prepared);
				} catch (e) {
					this.port.log(`sending ${n} changes failed: ${(e as Error).stack}`);
				}
				const done = performance.now();
				// only transactions whose final chunk went out are confirmed, up to the last one
				const finals = batch.filter((c) => c.endLsn !== null);
				if (this.dispatchMs.length < 100_000)
					for (const c of finals) this.dispatchMs.push(done - c.receivedAt);
				if (finals.length > 0)
					this.replication.confirm(finals[finals.length - 1].endLsn!, finals.length);
				// a full batch already waiting (a huge transaction, a backlog) gains nothing by waiting
				const backlog =
					this.queuedChanges >= MAX_BATCH_CHANGES || this.queuedBytes >= MAX_BATCH_BYTES;
				this.cooldownUntil =
					!backlog && this.lastRlsMs > MIN_COOLDOWN_RLS_MS
						? done + Math.min(this.lastRlsMs, MAX_COOLDOWN_MS)
						: 0;
				this.lastRlsMs = 0;
				this.inflight--;
				this.schedule();
			});
		}
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

	private async prepare(batch: ChangeChunk[]): Promise<Prepared[]> {
		const prepared: Prepared[] = [];
		const now = Date.now();
		for (const chunk of batch) {
			this.stats.chunks++;
			if (chunk.endLsn !== null) this.stats.transactions++;
			const commitTs = chunk.commitTime.toISOString();
			for (const change of chunk.changes) {
				this.stats.changes++;
				const { schema, table } = change.relation;
				const cands = this.candidates(schema, table);
				if (cands.length === 0) continue;
				const types = await this.catalog.typesFor(change);
				const { record, old, subject, judgeable } = changeRows(
					change,
					types,
					await this.catalog.meta(change.relation)
				);
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
					committed: committedRow(change)
				});
			}
		}
		if (prepared.length > 0) {
			const t0 = performance.now();
			await this.applyRls(prepared);
			this.lastRlsMs = performance.now() - t0;
			this.stats.rlsMs += this.lastRlsMs;
		}
		return prepared;
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
					this.port.log(
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

	async close() {
		this.closed = true;
		this.hold.clear();
		await this.replication.close();
	}
}

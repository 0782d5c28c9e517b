// A checked batch of changes out to the sockets, paced by its readers: whenever a socket it
// writes to holds more than the high-water mark, sending waits for that socket to flush, so a
// huge transaction goes out at its readers' speed and never piles up in memory. A reader that
// does not flush within the wait is a laggard: no longer waited for (one stalled tab must not
// stall everyone), it keeps receiving until its queue passes the server's bound and is closed
// with 1013, as any slow client is; it rejoins and reads what it missed from the database.
import type { Socket } from 'node:net';
import { ChangeFrames, type ChangePayload } from './change-frames.ts';
import type { Channel, Connection } from './channel.ts';

/** The TCP socket under a `ws` connection (not public API, hence optional). */
const socketOf = (c: Connection) => (c.ws as unknown as { _socket?: Socket })._socket;

/** A change matched to its subscribers, ready to be RLS-checked and sent. */
export interface Prepared extends ChangePayload {
	/** channel -> ids of its bindings that match */
	targets: Map<Channel, number[]>;
	/** channel -> columns it asked for (`select`), null for all */
	selects: Map<Channel, Set<string> | null>;
	/** the row as committed, in Postgres text form, for the RLS check */
	committed: Record<string, string | null> | null;
}

export interface ChangeSenderOptions {
	/** Hands a change frame (UTF-8 JSON) to a socket's bounded send queue. */
	deliver(conn: Connection, frame: Buffer): void;
	/** Unsent bytes above which sending waits for the socket to flush. */
	highWaterBytes: number;
	/** Longest wait for one socket; still above the mark then, it is a laggard. */
	maxWaitMs: number;
}

export class ChangeSender {
	private laggards = new WeakSet<Connection>();
	/** frames sent; waits for readers, their total ms; readers given up on */
	stats = { frames: 0, waits: 0, waitedMs: 0, laggards: 0 };

	constructor(private readonly opts: ChangeSenderOptions) {}

	/** Sends the batch in order; touched sockets are corked so frames leave in few writes. */
	async send(prepared: Prepared[]): Promise<void> {
		const corked = new Set<Connection>();
		try {
			for (const p of prepared) {
				const full = this.full(p);
				if (full.length > 0) {
					for (const c of corked) socketOf(c)?.uncork();
					corked.clear();
					await this.flushed(full);
				}
				this.sendChange(p, corked);
			}
		} finally {
			for (const c of corked) socketOf(c)?.uncork();
		}
	}

	/** The change's readers that hold more than the mark and are still waited for. */
	private full(p: Prepared): Connection[] {
		const out: Connection[] = [];
		for (const ch of p.targets.keys()) {
			const c = ch.conn;
			if (c.closed) continue;
			if (c.ws.bufferedAmount <= this.opts.highWaterBytes) this.laggards.delete(c);
			else if (!this.laggards.has(c) && !out.includes(c)) out.push(c);
		}
		return out;
	}

	private async flushed(conns: Connection[]) {
		const t0 = performance.now();
		this.stats.waits++;
		let timer: NodeJS.Timeout | undefined;
		const timeout = new Promise<void>((r) => (timer = setTimeout(r, this.opts.maxWaitMs)));
		await Promise.race([Promise.all(conns.map(drained)), timeout]);
		clearTimeout(timer);
		this.stats.waitedMs += performance.now() - t0;
		for (const c of conns)
			if (!c.closed && c.ws.bufferedAmount > this.opts.highWaterBytes) {
				this.laggards.add(c);
				this.stats.laggards++;
			}
	}

	private sendChange(p: Prepared, corked: Set<Connection>) {
		const frames = new ChangeFrames(p);
		for (const [ch, ids] of p.targets) {
			if (!ch.open) continue;
			const frame = frames.frame(ch.conn.vsn, ch.topic, ids, p.selects.get(ch) ?? null);
			this.stats.frames++;
			if (!corked.has(ch.conn)) {
				socketOf(ch.conn)?.cork();
				corked.add(ch.conn);
			}
			this.opts.deliver(ch.conn, frame);
		}
	}
}

/** Resolves when the socket has written out everything (`drain`) or is gone. */
function drained(c: Connection): Promise<void> {
	const socket = socketOf(c);
	// 'drain' comes only after a write was refused, i.e. above the socket's own mark
	if (!socket || socket.destroyed || socket.writableLength <= socket.writableHighWaterMark)
		return Promise.resolve();
	return new Promise((resolve) => {
		const done = () => {
			socket.off('drain', done);
			socket.off('close', done);
			resolve();
		};
		socket.on('drain', done);
		socket.on('close', done);
	});
}

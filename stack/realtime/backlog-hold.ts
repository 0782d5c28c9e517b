// Changes committed while no server ran are already in the slot when the server starts. Sent at
// once they would reach nobody (no client has rejoined yet), so they are held until the first
// subscriber is back plus a short grace for the others, or a maximum if nobody comes.
//
// The gateway accepts sockets while change capture is still starting, so a client may rejoin
// before the backlog is even measured: that counts as "back" too, or the backlog (and every
// change queued behind it) would wait the whole maximum.

/** After the first subscriber is back: time for the other clients to rejoin too. */
export const REJOIN_GRACE_MS = 1500;
/** With nobody back, the backlog goes out after this anyway. */
export const BACKLOG_MAX_HOLD_MS = 20_000;

export class BacklogHold {
	/** Transactions committed at or below this position are held; null: nothing held. */
	below: bigint | null = null;
	private timer: ReturnType<typeof setTimeout> | null = null;
	private someoneBack = false;

	constructor(private readonly onRelease: () => void) {}

	/** Capture starts with a backlog up to `end`; `subscribers`: how many joined meanwhile. */
	start(end: bigint, subscribers: number) {
		this.below = end;
		this.someoneBack = subscribers > 0;
		this.arm(this.someoneBack ? REJOIN_GRACE_MS : BACKLOG_MAX_HOLD_MS);
	}

	/** A subscription was added: the first one after a start shortens the hold to the grace. */
	subscriberJoined() {
		if (this.someoneBack) return;
		this.someoneBack = true;
		if (this.below !== null) this.arm(REJOIN_GRACE_MS);
	}

	holds(commitLsn: bigint): boolean {
		return this.below !== null && commitLsn <= this.below;
	}

	release() {
		if (this.below === null) return;
		this.below = null;
		this.clear();
		this.onRelease();
	}

	clear() {
		if (this.timer) clearTimeout(this.timer);
		this.timer = null;
	}

	private arm(ms: number) {
		this.clear();
		this.timer = setTimeout(() => this.release(), ms);
		this.timer.unref?.();
	}
}

// The backlog found at start waits for clients to rejoin, but never longer than it must: a
// client back before change capture started shortens the wait as one back afterwards does.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BACKLOG_MAX_HOLD_MS, BacklogHold, REJOIN_GRACE_MS } from './backlog-hold.ts';

let released = 0;
let hold: BacklogHold;

beforeEach(() => {
	vi.useFakeTimers();
	released = 0;
	hold = new BacklogHold(() => released++);
});
afterEach(() => vi.useRealTimers());

describe('the backlog hold after a restart', () => {
	it('holds transactions up to the backlog end only, until released', () => {
		hold.start(100n, 0);
		expect(hold.holds(100n)).toBe(true);
		expect(hold.holds(101n)).toBe(false);
		hold.release();
		expect(hold.holds(100n)).toBe(false);
		expect(released).toBe(1);
	});

	it('with nobody back, releases after the maximum', () => {
		hold.start(100n, 0);
		vi.advanceTimersByTime(BACKLOG_MAX_HOLD_MS - 1);
		expect(released).toBe(0);
		vi.advanceTimersByTime(1);
		expect(released).toBe(1);
	});

	it('releases a grace after the first subscriber rejoins, and later joins do not extend it', () => {
		hold.start(100n, 0);
		vi.advanceTimersByTime(3000);
		hold.subscriberJoined();
		vi.advanceTimersByTime(REJOIN_GRACE_MS - 100);
		hold.subscriberJoined();
		vi.advanceTimersByTime(100);
		expect(released).toBe(1);
	});

	it('counts a subscriber that rejoined while capture was starting as back', () => {
		// the gateway takes sockets before capture has measured its backlog
		hold.subscriberJoined();
		hold.start(100n, 1);
		vi.advanceTimersByTime(REJOIN_GRACE_MS);
		expect(released).toBe(1);
		expect(hold.holds(100n)).toBe(false);
	});

	it('does not count one who joined and left before the start', () => {
		hold.subscriberJoined();
		hold.start(100n, 0);
		vi.advanceTimersByTime(REJOIN_GRACE_MS);
		expect(released).toBe(0);
		hold.subscriberJoined();
		vi.advanceTimersByTime(REJOIN_GRACE_MS);
		expect(released).toBe(1);
	});
});

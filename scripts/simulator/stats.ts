// What the simulator has sent and what ingest answered: the figures of the progress line and
// of the summary, which must match the rows in the database.
import type { IngestEvent } from './conversation.ts';

export type EventType = IngestEvent['type'];

export class Stats {
	/** Events ingest answered for (accepted + duplicate + rejected). */
	sent = 0;
	accepted = 0;
	duplicate = 0;
	rejected = 0;
	/** Accepted events by type: messages are rows, lifecycle events set conversation columns. */
	acceptedByType: Record<EventType, number> = {
		conversation_started: 0,
		message: 0,
		conversation_ended: 0,
		conversation_handed_off: 0
	};
	requests = 0;
	/** 429 answers, each waited out (Retry-After) and resent. */
	throttled = 0;
	/** Attempts that got no answer (network, 5xx) and were resent. */
	failedAttempts = 0;
	/** Events still queued when the run stopped (never sent). */
	unsent = 0;
	conversationsStarted = 0;
	/** Conversations under way (live mode): started, with events still to come. */
	open = 0;
	/** Live mode: events dated before the start (conversations already under way), sent at once. */
	warmup = 0;
	readonly startedAt = Date.now();
	private window = [{ at: this.startedAt, accepted: 0 }];

	/** Events accepted per second over the last few seconds (the progress line's rate). */
	recentRate(now = Date.now(), spanMs = 5000): number {
		this.window.push({ at: now, accepted: this.accepted });
		while (this.window.length > 2 && this.window[1].at <= now - spanMs) this.window.shift();
		const first = this.window[0];
		const seconds = (now - first.at) / 1000;
		return seconds > 0 ? (this.accepted - first.accepted) / seconds : 0;
	}

	/** Events accepted per second since the start, not counting the warm-up burst. */
	averageRate(now = Date.now()): number {
		const seconds = (now - this.startedAt) / 1000;
		return seconds > 0 ? Math.max(0, this.accepted - this.warmup) / seconds : 0;
	}
}

const n = (x: number) => x.toLocaleString('en-US');

export function formatDuration(ms: number): string {
	const s = Math.floor(ms / 1000);
	const hh = Math.floor(s / 3600);
	const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
	const ss = String(s % 60).padStart(2, '0');
	return hh > 0 ? `${hh}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** The one progress line: sent, accepted, rejected, rate. */
export function progressLine(stats: Stats, rate: number, now = Date.now()): string {
	const parts = [
		`${n(stats.sent)} sent`,
		`${n(stats.accepted)} accepted`,
		`${n(stats.rejected)} rejected`,
		`${rate.toFixed(1)} ev/s`
	];
	if (stats.open > 0) parts.push(`${n(stats.open)} open conversations`);
	if (stats.throttled > 0) parts.push(`${n(stats.throttled)} throttled`);
	return `simulate ${formatDuration(now - stats.startedAt)}  ${parts.join(' · ')}`;
}

export interface Summary {
	runId: string;
	seconds: number;
	sent: number;
	accepted: number;
	duplicate: number;
	rejected: number;
	unsent: number;
	acceptedByType: Record<EventType, number>;
	requests: number;
	throttled: number;
	failedAttempts: number;
	conversations: number;
	warmup: number;
	/** Accepted per second over the run, the warm-up burst left out. */
	eventsPerSecond: number;
}

export function summarize(stats: Stats, runId: string, now = Date.now()): Summary {
	const seconds = (now - stats.startedAt) / 1000;
	return {
		runId,
		seconds: Math.round(seconds * 10) / 10,
		sent: stats.sent,
		accepted: stats.accepted,
		duplicate: stats.duplicate,
		rejected: stats.rejected,
		unsent: stats.unsent,
		acceptedByType: { ...stats.acceptedByType },
		requests: stats.requests,
		throttled: stats.throttled,
		failedAttempts: stats.failedAttempts,
		conversations: stats.conversationsStarted,
		warmup: stats.warmup,
		eventsPerSecond: Math.round(stats.averageRate(now) * 10) / 10
	};
}

export function formatSummary(s: Summary): string {
	const t = s.acceptedByType;
	return [
		`simulate: summary after ${formatDuration(s.seconds * 1000)} (run ${s.runId})`,
		`  events sent      ${n(s.sent)} in ${n(s.requests)} requests, ${s.eventsPerSecond} accepted/s` +
			(s.warmup > 0 ? ` (after ${n(s.warmup)} events of conversations already under way)` : ''),
		`  accepted         ${n(s.accepted)}  (conversations ${n(t.conversation_started)}, messages ${n(t.message)}, ended ${n(t.conversation_ended)}, handed off ${n(t.conversation_handed_off)})`,
		`  duplicate        ${n(s.duplicate)}`,
		`  rejected         ${n(s.rejected)}`,
		`  not sent         ${n(s.unsent)} (still queued at the stop)`,
		`  throttled (429)  ${n(s.throttled)}, failed attempts ${n(s.failedAttempts)} (all resent)`
	].join('\n');
}

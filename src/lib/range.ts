// The bot page's time range: presets and custom ranges <-> the URL, bucket edges in the bot's
// zone (mirroring private.choose_bucket in the read API), and drill-down links to the
// conversations list (query names agreed in /tmp/team/contract-conversations-url.md).
import { TZDate } from '@date-fns/tz';
import type { Enums } from '$lib/database.types';
import { addDays, addMonths, addWeeks } from 'date-fns';

export const PRESETS = ['1h', '24h', '7d', '30d'] as const;
export type Preset = (typeof PRESETS)[number];
export const PRESET_LABELS: Record<Preset, string> = {
	'1h': 'Live 1h',
	'24h': '24 h',
	'7d': '7 d',
	'30d': '30 d'
};
const PRESET_MS: Record<Preset, number> = {
	'1h': 3_600_000,
	'24h': 86_400_000,
	'7d': 7 * 86_400_000,
	'30d': 30 * 86_400_000
};
export const DEFAULT_PRESET: Preset = '24h';
/** The read API refuses longer ranges (private.check_range). */
export const MAX_RANGE_DAYS = 800;

export type TimeRange = {
	/** A preset, or 'custom' for explicit from/to. */
	preset: Preset | 'custom';
	from: Date;
	to: Date;
	/** Presets end now, so they follow the clock and live events. */
	live: boolean;
};
export type ParsedRange = { range: TimeRange; error: string | null };
export type Bucket = 'hour' | 'day' | 'week' | 'month';

export function isPreset(value: string | null): value is Preset {
	return value !== null && (PRESETS as readonly string[]).includes(value);
}

export function presetRange(preset: Preset, now: Date): TimeRange {
	return { preset, from: new Date(now.getTime() - PRESET_MS[preset]), to: now, live: true };
}

/** The same range moved to end at `now` (presets only; a custom range stays put). */
export function advance(range: TimeRange, now: Date): TimeRange {
	return range.preset === 'custom' ? range : presetRange(range.preset, now);
}

function parseInstant(raw: string): Date | null {
	// Full ISO instants only: a bare date would silently mean UTC midnight.
	if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/.test(raw))
		return null;
	const d = new Date(raw);
	return Number.isNaN(d.getTime()) ? null : d;
}

/**
 * Reads `?range=24h` or `?from=<ISO>&to=<ISO>`; from/to win when both are there. A bad value
 * falls back to the default preset with an error that says what to fix.
 */
export function parseRange(params: URLSearchParams, now: Date): ParsedRange {
	const fromRaw = params.get('from');
	const toRaw = params.get('to');
	const fallback = presetRange(DEFAULT_PRESET, now);
	if (fromRaw !== null || toRaw !== null) {
		const from = fromRaw === null ? null : parseInstant(fromRaw);
		const to = toRaw === null ? null : parseInstant(toRaw);
		if (!from || !to) {
			return {
				range: fallback,
				error: 'Give both "from" and "to" as ISO instants, e.g. 2026-12-01T00:00:00Z.'
			};
		}
		const problem = checkSpan(from, to);
		if (problem) return { range: fallback, error: problem };
		return { range: { preset: 'custom', from, to, live: false }, error: null };
	}
	const preset = params.get('range');
	if (preset === null) return { range: fallback, error: null };
	if (!isPreset(preset)) {
		return { range: fallback, error: `Unknown range "${preset}": use ${PRESETS.join(', ')}.` };
	}
	return { range: presetRange(preset, now), error: null };
}

/** Null when [from, to) is a range the reader accepts (at most `maxDays`), else what to change. */
export function checkSpan(from: Date, to: Date, maxDays = MAX_RANGE_DAYS): string | null {
	if (from.getTime() >= to.getTime()) return 'The start must be before the end.';
	if (to.getTime() - from.getTime() > maxDays * 86_400_000) {
		return `A range covers at most ${maxDays} days: choose a shorter one.`;
	}
	return null;
}

/** True when `d` is midnight in `timeZone`. */
function isLocalMidnight(d: Date, timeZone: string): boolean {
	const hms = new Intl.DateTimeFormat('en-GB', {
		timeZone,
		hour: '2-digit',
		minute: '2-digit',
		second: '2-digit',
		hourCycle: 'h23'
	}).format(d);
	return hms === '00:00:00' && d.getUTCMilliseconds() === 0;
}

/**
 * A custom range as a person reads it in the bot's zone: whole days as days ("1 Dec 2026 –
 * 3 Dec 2026", the end day inclusive), anything else with its times (a drill-down's hour).
 */
export function customRangeLabel(from: Date, to: Date, timeZone: string): string {
	const day = new Intl.DateTimeFormat('en-GB', {
		day: 'numeric',
		month: 'short',
		year: 'numeric',
		timeZone
	});
	// The end is exclusive: the last day is the one of its final instant, so a range of whole days
	// names its end day inclusive, and an hour ending at midnight ("23:00–00:00") is one day.
	const first = day.format(from);
	const last = day.format(new Date(to.getTime() - 1));
	if (isLocalMidnight(from, timeZone) && isLocalMidnight(to, timeZone)) {
		return first === last ? first : `${first} – ${last}`;
	}
	const time = new Intl.DateTimeFormat('en-GB', {
		hour: '2-digit',
		minute: '2-digit',
		hourCycle: 'h23',
		timeZone
	});
	const start = `${first}, ${time.format(from)}`;
	return first === last
		? `${start}–${time.format(to)}`
		: `${start} – ${day.format(to)}, ${time.format(to)}`;
}

/** The query string for a range: `{ range }` for a preset, `{ from, to }` for a custom one. */
export function rangeQuery(range: TimeRange): Record<string, string> {
	return range.preset === 'custom'
		? { from: range.from.toISOString(), to: range.to.toISOString() }
		: { range: range.preset };
}

/**
 * A custom range from two calendar days in the bot's zone: local midnight of `startDay` to
 * local midnight after `endDay` (both 'YYYY-MM-DD', end inclusive).
 */
export function daysRange(startDay: string, endDay: string, timeZone: string): TimeRange {
	const [y1, m1, d1] = startDay.split('-').map(Number);
	const [y2, m2, d2] = endDay.split('-').map(Number);
	const from = new TZDate(y1, m1 - 1, d1, timeZone);
	const to = addDays(new TZDate(y2, m2 - 1, d2, timeZone), 1);
	return {
		preset: 'custom',
		from: new Date(from.getTime()),
		to: new Date(to.getTime()),
		live: false
	};
}

/** The bucket the read API picks for a range (private.choose_bucket). */
export function bucketFor(from: Date, to: Date): Bucket {
	const days = (to.getTime() - from.getTime()) / 86_400_000;
	if (days <= 3) return 'hour';
	if (days <= 120) return 'day';
	if (days <= 730) return 'week';
	return 'month';
}

/** Where a bucket that starts at `start` ends: UTC hours; local days, weeks and months (DST-aware). */
export function bucketEnd(start: Date, bucket: Bucket, timeZone: string): Date {
	if (bucket === 'hour') return new Date(start.getTime() + 3_600_000);
	const local = new TZDate(start.getTime(), timeZone);
	const next =
		bucket === 'day'
			? addDays(local, 1)
			: bucket === 'week'
				? addWeeks(local, 1)
				: addMonths(local, 1);
	return new Date(next.getTime());
}

export type ConversationsFilter = {
	from: Date;
	to: Date;
	status?: Enums<'conversation_status'>;
	/** Which timestamp lies in [from, to): started_at (default), ended_at or handed_off_at. */
	by?: 'started' | 'ended' | 'handed_off';
	/** Duration band [minDuration, maxDuration) in seconds (the list's max is exclusive). */
	minDuration?: number;
	maxDuration?: number | null;
};

/** Query for the conversations list showing what a chart bucket counts (see the contract). */
export function conversationsQuery(f: ConversationsFilter): Record<string, string> {
	const q: Record<string, string> = { from: f.from.toISOString(), to: f.to.toISOString() };
	if (f.by && f.by !== 'started') q.by = f.by;
	if (f.status) q.status = f.status;
	if (f.minDuration !== undefined) q.min_duration = String(f.minDuration);
	if (f.maxDuration !== undefined && f.maxDuration !== null) q.max_duration = String(f.maxDuration);
	return q;
}

/**
 * The instants a series bucket counts: from its start (or the range's start, for a first bucket
 * that begins earlier) to the next bucket's start (or the range's end, for the last one).
 */
export function bucketSpan(
	starts: Date[],
	i: number,
	from: Date,
	to: Date
): { from: Date; to: Date } {
	const a = starts[i].getTime() < from.getTime() ? from : starts[i];
	const b = i + 1 < starts.length && starts[i + 1].getTime() < to.getTime() ? starts[i + 1] : to;
	return { from: a, to: b };
}

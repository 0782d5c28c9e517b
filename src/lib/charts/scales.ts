// Pure helpers for the charts: axis ticks on local boundaries of the bot's time zone, their
// labels, the zone's name, and y-axis maxima.
import { TZDate } from '@date-fns/tz';
import { addDays, addHours, addMonths, startOfDay, startOfHour, startOfMonth } from 'date-fns';
import type { Bucket } from '$lib/range';

type Step = { unit: 'hour' | 'day' | 'month'; n: number };
const STEPS: Step[] = [
	{ unit: 'hour', n: 1 },
	{ unit: 'hour', n: 2 },
	{ unit: 'hour', n: 3 },
	{ unit: 'hour', n: 6 },
	{ unit: 'hour', n: 12 },
	{ unit: 'day', n: 1 },
	{ unit: 'day', n: 2 },
	{ unit: 'day', n: 7 },
	{ unit: 'day', n: 14 },
	{ unit: 'month', n: 1 },
	{ unit: 'month', n: 3 },
	{ unit: 'month', n: 6 },
	{ unit: 'month', n: 12 }
];

function ticksFor(from: Date, to: Date, step: Step, timeZone: string): Date[] {
	let t = new TZDate(from.getTime(), timeZone);
	t = step.unit === 'hour' ? startOfHour(t) : step.unit === 'day' ? startOfDay(t) : startOfMonth(t);
	const out: Date[] = [];
	for (let guard = 0; guard < 1000 && t.getTime() <= to.getTime(); guard++) {
		const local =
			step.unit === 'hour' ? t.getHours() : step.unit === 'day' ? t.getDate() - 1 : t.getMonth();
		// Keep ticks on round local values (every 6 h: 00, 06, 12, 18), so they read as times.
		if (t.getTime() >= from.getTime() && local % step.n === 0) out.push(new Date(t.getTime()));
		t =
			step.unit === 'hour' ? addHours(t, 1) : step.unit === 'day' ? addDays(t, 1) : addMonths(t, 1);
	}
	return out;
}

/** At most `max` ticks on local hour, day or month boundaries within [from, to]. */
export function timeTicks(from: Date, to: Date, timeZone: string, max = 6): Date[] {
	const span = to.getTime() - from.getTime();
	for (const step of STEPS) {
		const approx = step.unit === 'hour' ? 3.6e6 : step.unit === 'day' ? 8.64e7 : 2.6e9;
		if (span / (approx * step.n) > max * 1.5) continue;
		const ticks = ticksFor(from, to, step, timeZone);
		if (ticks.length <= max) return ticks;
	}
	return [from];
}

// Building an Intl.DateTimeFormat costs far more than using one, and charts label every bucket
// on each refresh: keep one per options and zone.
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(locale: string, opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
	const key = `${locale}|${JSON.stringify(opts)}`;
	let f = formatters.get(key);
	if (!f) {
		f = new Intl.DateTimeFormat(locale, opts);
		formatters.set(key, f);
	}
	return f;
}

/** A tick label in the bot's zone: "14:00" for hourly charts, "Mon 30" for days, "Nov 2026" for months. */
export function formatTick(at: Date, bucket: Bucket, timeZone: string): string {
	const opts: Intl.DateTimeFormatOptions =
		bucket === 'hour'
			? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }
			: bucket === 'month'
				? { month: 'short', year: 'numeric' }
				: { weekday: 'short', day: 'numeric' };
	return formatter('en-GB', { ...opts, timeZone }).format(at);
}

/** A bucket's full label for tooltips and tables: "Tue 1 Dec, 14:00" or "Tue 1 Dec 2026". */
export function formatBucket(at: Date, bucket: Bucket, timeZone: string): string {
	const opts: Intl.DateTimeFormatOptions =
		bucket === 'hour'
			? {
					weekday: 'short',
					day: 'numeric',
					month: 'short',
					hour: '2-digit',
					minute: '2-digit',
					hourCycle: 'h23'
				}
			: bucket === 'month'
				? { month: 'long', year: 'numeric' }
				: { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' };
	const label = formatter('en-GB', { ...opts, timeZone }).format(at);
	return bucket === 'week' ? `week of ${label}` : label;
}

/** "Europe/Paris (CET)": the IANA name and its abbreviation (or offset) at that instant. */
export function zoneLabel(timeZone: string, at: Date): string {
	const part = formatter('en-US', { timeZone, timeZoneName: 'short' })
		.formatToParts(at)
		.find((p) => p.type === 'timeZoneName')?.value;
	return part && part !== timeZone ? `${timeZone} (${part})` : timeZone;
}

/** A y-axis top at or above every value (1 when all are zero or missing), on a round number. */
export function niceMax(values: (number | null | undefined)[]): number {
	const top = Math.max(
		0,
		...values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
	);
	if (top <= 0) return 1;
	const mag = 10 ** Math.floor(Math.log10(top));
	for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (top <= m * mag) return m * mag;
	return 10 * mag;
}

// Display formatters shared by every page. Numbers come from the read API; these only present
// them (the browser never computes a metric).

const counts = new Intl.NumberFormat('en-US');
const compactCounts = new Intl.NumberFormat('en-US', {
	notation: 'compact',
	maximumFractionDigits: 1
});

/** 1,204 — or 1.2M with `compact`. Null (no data) shows as an en dash. */
export function formatCount(n: number | null | undefined, compact = false): string {
	if (n === null || n === undefined || !Number.isFinite(n)) return '–';
	return compact && Math.abs(n) >= 10_000 ? compactCounts.format(n) : counts.format(n);
}

/** A 0..1 ratio as 94.1%. */
export function formatPercent(ratio: number | null | undefined, digits = 1): string {
	if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return '–';
	return `${(ratio * 100).toFixed(digits)}%`;
}

/** 840 ms, 2.9 s, 4 min 5 s, 2 h 3 min. */
export function formatDurationMs(ms: number | null | undefined): string {
	if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
	if (ms < 1000) return `${Math.round(ms)} ms`;
	const s = ms / 1000;
	if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
	const totalS = Math.round(s);
	const h = Math.floor(totalS / 3600);
	const m = Math.floor((totalS % 3600) / 60);
	const rest = totalS % 60;
	if (h > 0) return m ? `${h} h ${m} min` : `${h} h`;
	return rest ? `${m} min ${rest} s` : `${m} min`;
}

/** US dollars: $3.41, and small amounts with enough digits to not read as zero ($0.0021). */
export function formatMoney(usd: number | null | undefined): string {
	if (usd === null || usd === undefined || !Number.isFinite(usd)) return '–';
	const abs = Math.abs(usd);
	const digits =
		abs === 0 || abs >= 1 ? 2 : Math.min(6, Math.max(2, 1 - Math.floor(Math.log10(abs)) + 1));
	return new Intl.NumberFormat('en-US', {
		style: 'currency',
		currency: 'USD',
		minimumFractionDigits: 2,
		maximumFractionDigits: digits
	}).format(usd);
}

export type ChangeKind = 'count' | 'ratio' | 'duration';
export type Change = {
	direction: 'up' | 'down' | 'flat' | 'none';
	/** ▲ ▼ or → (decorative: the words carry the meaning). */
	arrow: string;
	/** "up 12%", "down 0.6 pt", "no change", "up from none", "no earlier data". */
	words: string;
	/** Whether the change is good news, given which way is better for this metric. */
	tone: 'good' | 'bad' | 'neutral';
};

/**
 * How `current` compares with `previous`: counts and durations as a relative change, ratios
 * (success rate) in percentage points. `higherIsBetter` is false for response times.
 */
export function describeChange(
	current: number | null | undefined,
	previous: number | null | undefined,
	kind: ChangeKind,
	higherIsBetter = true
): Change {
	if (current === null || current === undefined || previous === null || previous === undefined) {
		return { direction: 'none', arrow: '', words: 'no earlier data', tone: 'neutral' };
	}
	let delta: number;
	let amount: string;
	if (kind === 'ratio') {
		delta = Math.round((current - previous) * 1000) / 10;
		amount = `${Math.abs(delta).toFixed(1)} pt`;
	} else if (previous === 0) {
		if (current === 0)
			return { direction: 'flat', arrow: '→', words: 'no change', tone: 'neutral' };
		delta = current;
		amount = 'from none';
	} else {
		delta = Math.round(((current - previous) / previous) * 100);
		amount = `${Math.abs(delta)}%`;
	}
	if (delta === 0) return { direction: 'flat', arrow: '→', words: 'no change', tone: 'neutral' };
	const up = delta > 0;
	return {
		direction: up ? 'up' : 'down',
		arrow: up ? '▲' : '▼',
		words: `${up ? 'up' : 'down'} ${amount}`,
		tone: up === higherIsBetter ? 'good' : 'bad'
	};
}

/** "Mon 30 Nov" for an instant, in the given IANA time zone (the bot's). */
export function formatDay(iso: string, timeZone: string): string {
	return new Intl.DateTimeFormat('en-GB', {
		weekday: 'short',
		day: 'numeric',
		month: 'short',
		timeZone
	}).format(new Date(iso));
}

/** "14:03" for an instant, in the given IANA time zone. */
export function formatTime(iso: string, timeZone: string): string {
	return new Intl.DateTimeFormat('en-GB', {
		hour: '2-digit',
		minute: '2-digit',
		timeZone
	}).format(new Date(iso));
}

/** "1 Dec 2026, 14:03 UTC" — UTC so the server's and the browser's renderings agree. */
export function formatDateTimeUtc(iso: string | null | undefined, never = 'Never'): string {
	if (!iso) return never;
	const s = new Intl.DateTimeFormat('en-GB', {
		day: 'numeric',
		month: 'short',
		year: 'numeric',
		hour: '2-digit',
		minute: '2-digit',
		timeZone: 'UTC'
	}).format(new Date(iso));
	return `${s} UTC`;
}

// Times on the explorer and transcript pages, always in the bot's time zone (named on the page).

/** "30 Nov 2026, 14:03:05" in the given IANA zone. */
export function formatInstant(iso: string | null | undefined, timeZone: string): string {
	if (!iso) return '–';
	return new Intl.DateTimeFormat('en-GB', {
		day: 'numeric',
		month: 'short',
		year: 'numeric',
		hour: '2-digit',
		minute: '2-digit',
		second: '2-digit',
		timeZone
	}).format(new Date(iso));
}

/** Seconds as "4 min 5 s" (durations are stored in seconds). */
export function secondsToMs(seconds: number | string | null | undefined): number | null {
	if (seconds === null || seconds === undefined) return null;
	const n = Number(seconds);
	return Number.isFinite(n) ? n * 1000 : null;
}

export const STATUS_LABELS: Record<string, string> = {
	active: 'Active',
	completed: 'Resolved',
	abandoned: 'Abandoned',
	handed_off: 'Handed off'
};

/** The timestamp a list counts, in words for the count line. */
export const BY_LABELS: Record<string, string> = {
	started: 'started',
	ended: 'ended',
	handed_off: 'handed off'
};

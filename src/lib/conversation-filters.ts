// The conversations explorer's filters <-> its URL query (the contract the live page's chart
// buckets link with: see /bots/[botId]/conversations). The URL is the only state, so
// bookmarks, shared links, reload and back/forward all restore the same view.
import { CHANNELS, type Channel } from '$lib/bots';
import { Constants, type Enums } from '$lib/database.types';

/** The database's enum type public.conversation_status. */
export const STATUSES = Constants.public.Enums.conversation_status;
export type Status = Enums<'conversation_status'>;
export const PRESETS = ['1h', '24h', '7d', '30d'] as const;
export type Preset = (typeof PRESETS)[number];
export const BY = ['started', 'ended', 'handed_off'] as const;
export type By = (typeof BY)[number];
export const SORTS = ['started', 'duration', 'response'] as const;
export type Sort = (typeof SORTS)[number];
export type Dir = 'asc' | 'desc';

const PRESET_MS: Record<Preset, number> = {
	'1h': 3_600_000,
	'24h': 86_400_000,
	'7d': 7 * 86_400_000,
	'30d': 30 * 86_400_000
};
export const DEFAULT_PRESET: Preset = '7d';
/** The longest range the list reads (its custom range picker refuses longer ones). */
export const MAX_RANGE_DAYS = 400;
const MAX_RANGE_MS = MAX_RANGE_DAYS * 86_400_000;

export type Cursor = { id: string; key: string };

export type ExplorerFilters = {
	/** Explicit instants win over the preset. */
	from: Date | null;
	to: Date | null;
	range: Preset;
	by: By;
	status: Status | null;
	channel: Channel | null;
	intent: string | null;
	q: string | null;
	minDuration: number | null;
	maxDuration: number | null;
	minResponse: number | null;
	maxResponse: number | null;
	handoff: boolean | null;
	sort: Sort;
	dir: Dir;
	after: Cursor | null;
	before: Cursor | null;
};

export const emptyFilters = (): ExplorerFilters => ({
	from: null,
	to: null,
	range: DEFAULT_PRESET,
	by: 'started',
	status: null,
	channel: null,
	intent: null,
	q: null,
	minDuration: null,
	maxDuration: null,
	minResponse: null,
	maxResponse: null,
	handoff: null,
	sort: 'started',
	dir: 'desc',
	after: null,
	before: null
});

const oneOf = <T extends string>(list: readonly T[], v: string | null): T | null =>
	v !== null && (list as readonly string[]).includes(v) ? (v as T) : null;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `<uuid>:<sort key>`: the last row's id and sort value (opaque to users). */
export function encodeCursor(c: Cursor): string {
	return `${c.id}:${c.key}`;
}
export function decodeCursor(s: string | null): Cursor | null {
	if (!s || s.length < 38 || s[36] !== ':' || !UUID.test(s.slice(0, 36))) return null;
	return { id: s.slice(0, 36).toLowerCase(), key: s.slice(37) };
}

export type ParseResult = { filters: ExplorerFilters; problems: string[] };

/**
 * Reads the filters from a URL query. A value that does not parse is left out and named in
 * `problems` (shown on the page), so a hand-edited link still opens a sensible view.
 */
export function parseFilters(params: URLSearchParams): ParseResult {
	const f = emptyFilters();
	const problems: string[] = [];
	const text = (name: string, max = 200) => {
		const v = params.get(name)?.trim();
		if (!v) return null;
		if (v.length > max || v.includes('\u0000')) {
			problems.push(`"${name}" is longer than ${max} characters or has a NUL; it was ignored.`);
			return null;
		}
		return v;
	};
	const pick = <T extends string>(name: string, list: readonly T[]): T | null => {
		const v = params.get(name);
		if (v === null || v === '') return null;
		const ok = oneOf(list, v);
		if (!ok) problems.push(`Unknown ${name} "${v}"; use ${list.join(', ')}.`);
		return ok;
	};
	const num = (name: string) => {
		const v = params.get(name);
		if (v === null || v.trim() === '') return null;
		const n = Number(v);
		if (!Number.isFinite(n) || n < 0) {
			problems.push(`"${name}" must be a number of 0 or more; it was ignored.`);
			return null;
		}
		return n;
	};
	const instant = (name: string) => {
		const v = params.get(name);
		if (!v) return null;
		const d = new Date(v);
		// Only full ISO instants or dates, not whatever Date happens to accept.
		if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v) || isNaN(d.getTime())) {
			problems.push(`"${name}" must be an ISO date or instant such as 2026-12-01T13:00:00Z.`);
			return null;
		}
		return d;
	};

	f.range = pick('range', PRESETS) ?? DEFAULT_PRESET;
	const from = instant('from');
	const to = instant('to');
	if (from && to) {
		if (from >= to) problems.push('"from" must be before "to"; the preset range is shown instead.');
		else if (to.getTime() - from.getTime() > MAX_RANGE_MS)
			problems.push('A range spans at most 400 days; the preset range is shown instead.');
		else {
			f.from = from;
			f.to = to;
		}
	} else if (from || to) {
		problems.push('Give both "from" and "to"; the preset range is shown instead.');
	}
	f.by = pick('by', BY) ?? 'started';
	f.status = pick('status', STATUSES);
	f.channel = pick('channel', CHANNELS);
	f.intent = text('intent', 100);
	f.q = text('q');
	f.minDuration = num('min_duration');
	f.maxDuration = num('max_duration');
	f.minResponse = num('min_response');
	f.maxResponse = num('max_response');
	const handoff = pick('handoff', ['yes', 'no'] as const);
	f.handoff = handoff === null ? null : handoff === 'yes';
	f.sort = pick('sort', SORTS) ?? 'started';
	f.dir = pick('dir', ['asc', 'desc'] as const) ?? 'desc';
	f.after = decodeCursor(params.get('after'));
	f.before = f.after ? null : decodeCursor(params.get('before'));
	if ((params.get('after') && !f.after) || (params.get('before') && !f.before && !f.after)) {
		problems.push('The page link is not valid; showing the first page.');
	}
	return { filters: f, problems };
}

/** The canonical query for a view: defaults left out, so equal views have equal URLs. */
export function filtersToParams(f: ExplorerFilters): URLSearchParams {
	const p = new URLSearchParams();
	if (f.from && f.to) {
		p.set('from', f.from.toISOString());
		p.set('to', f.to.toISOString());
	} else if (f.range !== DEFAULT_PRESET) p.set('range', f.range);
	if (f.by !== 'started') p.set('by', f.by);
	if (f.status) p.set('status', f.status);
	if (f.channel) p.set('channel', f.channel);
	if (f.intent) p.set('intent', f.intent);
	if (f.q) p.set('q', f.q);
	if (f.minDuration !== null) p.set('min_duration', String(f.minDuration));
	if (f.maxDuration !== null) p.set('max_duration', String(f.maxDuration));
	if (f.minResponse !== null) p.set('min_response', String(f.minResponse));
	if (f.maxResponse !== null) p.set('max_response', String(f.maxResponse));
	if (f.handoff !== null) p.set('handoff', f.handoff ? 'yes' : 'no');
	if (f.sort !== 'started') p.set('sort', f.sort);
	if (f.dir !== 'desc') p.set('dir', f.dir);
	if (f.after) p.set('after', encodeCursor(f.after));
	else if (f.before) p.set('before', encodeCursor(f.before));
	return p;
}

/** True when any filter narrows the list (the range and sort do not count). */
export function hasFilters(f: ExplorerFilters): boolean {
	return (
		f.by !== 'started' ||
		[
			f.status,
			f.channel,
			f.intent,
			f.q,
			f.minDuration,
			f.maxDuration,
			f.minResponse,
			f.maxResponse,
			f.handoff
		].some((v) => v !== null)
	);
}

/** The same view with its filters cleared (range and sort kept), first page. */
export function clearFilters(f: ExplorerFilters): ExplorerFilters {
	return { ...emptyFilters(), from: f.from, to: f.to, range: f.range, sort: f.sort, dir: f.dir };
}

/**
 * The view with the range the picker chose (`{ range }` or `{ from, to }`, see range.ts's
 * rangeQuery), other filters kept, from the first page.
 */
export function withPickedRange(
	f: ExplorerFilters,
	query: Record<string, string>
): ExplorerFilters {
	const picked = parseFilters(new URLSearchParams(query)).filters;
	return { ...f, range: picked.range, from: picked.from, to: picked.to, after: null, before: null };
}

/** [from, to) of a view: explicit instants, or the preset ending at `now`. */
export function resolveRange(f: ExplorerFilters, now: Date): { from: Date; to: Date } {
	if (f.from && f.to) return { from: f.from, to: f.to };
	return { from: new Date(now.getTime() - PRESET_MS[f.range]), to: now };
}

/** Arguments of explore_conversations / count_explored_conversations (count: without paging). */
export function rpcFilterArgs(f: ExplorerFilters, botId: string, range: { from: Date; to: Date }) {
	return {
		p_bot_id: botId,
		p_from: range.from.toISOString(),
		p_to: range.to.toISOString(),
		p_by: f.by,
		p_query: f.q ?? undefined,
		p_status: f.status ?? undefined,
		p_channel: f.channel ?? undefined,
		p_intent: f.intent ?? undefined,
		p_handoff: f.handoff ?? undefined,
		p_min_duration_seconds: f.minDuration ?? undefined,
		p_max_duration_seconds: f.maxDuration ?? undefined,
		p_min_response_ms: f.minResponse ?? undefined,
		p_max_response_ms: f.maxResponse ?? undefined
	};
}

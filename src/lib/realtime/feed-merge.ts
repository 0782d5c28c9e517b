// Pure pieces of the live feed: ordering keys, the bounded merge of live and caught-up rows
// (no gap, no duplicate, newest first) and the catch-up cursor.

/** One message as the feed shows it (a row of public.messages, trimmed). */
export type FeedItem = {
	id: number;
	conversation_id: string;
	role: string;
	content: string;
	sent_at: string;
	ingested_at: string;
	response_time_ms: number | null;
	success: boolean | null;
	tokens_in: number;
	tokens_out: number;
	cost_usd: number;
	model: string | null;
};

/** Longest content kept per item: enough for a preview, small for a page open for days. */
export const PREVIEW_CHARS = 160;

/**
 * Microseconds since the epoch for a Postgres or ISO timestamp ("2026-12-01 01:13:08.299643+00"
 * or "2026-12-01T01:13:08.299Z"). Date.parse alone would drop the microseconds that order rows.
 */
export function timeKey(ts: string): number {
	const m =
		/^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(
			ts.trim()
		);
	if (!m) {
		const ms = Date.parse(ts);
		if (Number.isNaN(ms)) throw new Error(`Not a timestamp: "${ts}"`);
		return ms * 1000;
	}
	const [, day, time, frac = '', zoneRaw = 'Z'] = m;
	let zone = zoneRaw;
	if (zone !== 'Z') {
		const digits = zone.slice(1).replace(':', '');
		zone = `${zone[0]}${digits.slice(0, 2)}:${digits.slice(2, 4) || '00'}`;
	}
	const seconds = Date.parse(`${day}T${time}${zone}`);
	const micros = Number((frac + '000000').slice(0, 6));
	return seconds * 1000 + micros;
}

/** Newest first by (sent_at, id): negative when `a` goes before `b`. */
export function compareNewestFirst(a: FeedItem, b: FeedItem): number {
	const dt = timeKey(b.sent_at) - timeKey(a.sent_at);
	return dt !== 0 ? dt : b.id - a.id;
}

/** Normalises a row or realtime payload into a feed item (preview-length content, numbers). */
export function toFeedItem(row: Record<string, unknown>): FeedItem {
	const content = String(row.content ?? '');
	return {
		id: Number(row.id),
		conversation_id: String(row.conversation_id),
		role: String(row.role),
		content: content.length > PREVIEW_CHARS ? content.slice(0, PREVIEW_CHARS - 1) + '…' : content,
		sent_at: String(row.sent_at),
		ingested_at: String(row.ingested_at),
		response_time_ms: row.response_time_ms == null ? null : Number(row.response_time_ms),
		success: row.success == null ? null : Boolean(row.success),
		tokens_in: Number(row.tokens_in ?? 0),
		tokens_out: Number(row.tokens_out ?? 0),
		cost_usd: Number(row.cost_usd ?? 0),
		model: row.model == null ? null : String(row.model)
	};
}

/**
 * Merges `incoming` into `current` (both any order): one item per id (the incoming copy wins),
 * newest first, at most `capacity` items (the oldest fall off). Returns a new array.
 */
export function mergeFeed(current: FeedItem[], incoming: FeedItem[], capacity: number): FeedItem[] {
	if (capacity <= 0) return [];
	const byId = new Map<number, FeedItem>();
	for (const item of current) byId.set(item.id, item);
	for (const item of incoming) byId.set(item.id, item);
	const merged = [...byId.values()].sort(compareNewestFirst);
	return merged.length > capacity ? merged.slice(0, capacity) : merged;
}

/** Where catch-up resumes: the last row seen in arrival order (ingested_at, id). */
export type Cursor = { ingestedAt: string; id: number };

/** The later of a cursor and the rows just seen (null stays null until a row is seen). */
export function advanceCursor(cursor: Cursor | null, rows: FeedItem[]): Cursor | null {
	let best = cursor;
	let bestKey = best ? timeKey(best.ingestedAt) : -Infinity;
	for (const r of rows) {
		const k = timeKey(r.ingested_at);
		if (!best || k > bestKey || (k === bestKey && r.id > best.id)) {
			best = { ingestedAt: r.ingested_at, id: r.id };
			bestKey = k;
		}
	}
	return best;
}

/**
 * Catch-up reads from this instant: a little before the cursor, because a transaction that
 * began earlier (smaller ingested_at) can commit after rows we already saw. The merge drops
 * the overlap by id, so the margin costs a few duplicates on the wire and none on screen.
 */
export function catchUpFrom(cursor: Cursor, overlapMs = 10_000): string {
	return new Date(Math.floor(timeKey(cursor.ingestedAt) / 1000) - overlapMs).toISOString();
}

// The bot page's reads, shared by the server load and the browser's throttled refresh. Every
// figure comes from the read API (SQL functions under the caller's RLS); nothing is summed here.
import type { SupabaseClient } from '@supabase/supabase-js';
import type { Database } from '$lib/database.types';
import { catchUpFrom, toFeedItem, type Cursor, type FeedItem } from '$lib/realtime/feed-merge';
import type { ActiveConversation } from '$lib/realtime/live-bot.svelte';
import type { TimeRange } from '$lib/range';

type Client = SupabaseClient<Database>;

/** Numeric columns arrive as numbers or strings (and null where there is no data). */
function num(v: unknown): number | null {
	if (v === null || v === undefined) return null;
	const n = Number(v);
	return Number.isFinite(n) ? n : null;
}
function count(v: unknown): number {
	return num(v) ?? 0;
}

/** A read that streams in: loading, failed (with what to tell the user) or ready. */
export type Loadable<T> =
	{ status: 'loading' } | { status: 'error'; error: string } | { status: 'ready'; rows: T };

export class ReadError extends Error {
	constructor(what: string, cause: { message: string }) {
		super(`${what} could not be loaded: ${cause.message}`);
	}
}

export type PeriodFigures = {
	periodStart: string;
	periodEnd: string;
	activeConversations: number;
	conversations: number;
	messages: number;
	messagesPerHour: number | null;
	avgResponseMs: number | null;
	p95ResponseMs: number | null;
	successRate: number | null;
	tokens: number;
	costUsd: number;
	resolved: number;
	costPerResolvedUsd: number | null;
};
export type Summary = { current: PeriodFigures; previous: PeriodFigures; asOf: string };

function figures(r: Record<string, unknown>): PeriodFigures {
	return {
		periodStart: String(r.period_start),
		periodEnd: String(r.period_end),
		activeConversations: count(r.active_conversations),
		conversations: count(r.conversations),
		messages: count(r.messages),
		messagesPerHour: num(r.messages_per_hour),
		avgResponseMs: num(r.avg_response_ms),
		p95ResponseMs: num(r.p95_response_ms),
		successRate: num(r.success_rate),
		tokens: count(r.tokens_in) + count(r.tokens_out),
		costUsd: count(r.cost_usd),
		resolved: count(r.resolved_conversations),
		costPerResolvedUsd: num(r.cost_per_resolved_usd)
	};
}

export async function fetchSummary(db: Client, botId: string, range: TimeRange): Promise<Summary> {
	const { data, error } = await db.rpc('bot_summary', {
		p_bot_id: botId,
		p_from: range.from.toISOString(),
		p_to: range.to.toISOString()
	});
	if (error) throw new ReadError('The cards', error);
	const rows = (data ?? []) as unknown as Record<string, unknown>[];
	const current = rows.find((r) => r.period === 'current');
	const previous = rows.find((r) => r.period === 'previous');
	if (!current || !previous) throw new ReadError('The cards', { message: 'no rows returned' });
	return { current: figures(current), previous: figures(previous), asOf: new Date().toISOString() };
}

export type SeriesPoint = {
	start: Date;
	bucket: 'hour' | 'day' | 'week' | 'month';
	messages: number;
	conversations: number;
	resolved: number;
	handedOff: number;
	tokens: number;
	costUsd: number;
	successRate: number | null;
	p50: number | null;
	p95: number | null;
};

export async function fetchSeries(
	db: Client,
	botId: string,
	from: Date,
	to: Date,
	bucket?: string
): Promise<SeriesPoint[]> {
	const { data, error } = await db.rpc('bot_usage_series', {
		p_bot_id: botId,
		p_from: from.toISOString(),
		p_to: to.toISOString(),
		...(bucket ? { p_bucket: bucket } : {})
	});
	if (error) throw new ReadError('The charts', error);
	return ((data ?? []) as unknown as Record<string, unknown>[]).map((r) => ({
		start: new Date(String(r.bucket_start)),
		bucket: r.bucket as SeriesPoint['bucket'],
		messages: count(r.messages),
		conversations: count(r.conversations),
		resolved: count(r.resolved_conversations),
		handedOff: count(r.handed_off_conversations),
		tokens: count(r.tokens_in) + count(r.tokens_out),
		costUsd: count(r.cost_usd),
		successRate: num(r.success_rate),
		p50: num(r.p50_response_ms),
		p95: num(r.p95_response_ms)
	}));
}

export type DurationBand = {
	band: number;
	label: string;
	minSeconds: number;
	maxSeconds: number | null;
	conversations: number;
};

export async function fetchDurations(
	db: Client,
	botId: string,
	range: TimeRange
): Promise<DurationBand[]> {
	const { data, error } = await db.rpc('bot_duration_distribution', {
		p_bot_id: botId,
		p_from: range.from.toISOString(),
		p_to: range.to.toISOString()
	});
	if (error) throw new ReadError('The duration chart', error);
	return ((data ?? []) as unknown as Record<string, unknown>[]).map((r) => ({
		band: count(r.band),
		label: String(r.label),
		minSeconds: count(r.min_seconds),
		maxSeconds: num(r.max_seconds),
		conversations: count(r.conversations)
	}));
}

export type ModelRow = { model: string; messages: number; tokens: number; costUsd: number };

export async function fetchModels(
	db: Client,
	botId: string,
	range: TimeRange
): Promise<ModelRow[]> {
	const { data, error } = await db.rpc('bot_breakdown', {
		p_bot_id: botId,
		p_from: range.from.toISOString(),
		p_to: range.to.toISOString(),
		p_dimension: 'model'
	});
	if (error) throw new ReadError('The model breakdown', error);
	return ((data ?? []) as unknown as Record<string, unknown>[]).map((r) => ({
		model: r.value === null ? 'no model' : String(r.value),
		messages: count(r.messages),
		tokens: count(r.tokens_in) + count(r.tokens_out),
		costUsd: count(r.cost_usd)
	}));
}

const FEED_COLUMNS =
	'id, conversation_id, role, content, sent_at, ingested_at, response_time_ms, success, tokens_in, tokens_out, cost_usd, model';

/** The newest messages, for the feed's first paint. */
export async function fetchRecentMessages(
	db: Client,
	botId: string,
	limit: number
): Promise<FeedItem[]> {
	const { data, error } = await db
		.from('messages')
		.select(FEED_COLUMNS)
		.eq('bot_id', botId)
		.order('sent_at', { ascending: false })
		.order('id', { ascending: false })
		.limit(limit);
	if (error) throw new ReadError('The live feed', error);
	return (data ?? []).map((r) => toFeedItem(r as Record<string, unknown>));
}

/**
 * Everything stored since the cursor, in arrival order, by keyset pages on (ingested_at, id),
 * from a little before it (see catchUpFrom); at most `maxRows` (the feed keeps fewer anyway).
 */
export async function fetchMessagesSince(
	db: Client,
	botId: string,
	cursor: Cursor,
	maxRows = 2000,
	pageSize = 500
): Promise<FeedItem[]> {
	const out: FeedItem[] = [];
	let after: { at: string; id: number } | null = null;
	const since = catchUpFrom(cursor);
	while (out.length < maxRows) {
		let q = db.from('messages').select(FEED_COLUMNS).eq('bot_id', botId).gte('ingested_at', since);
		if (after) {
			q = q.or(`ingested_at.gt."${after.at}",and(ingested_at.eq."${after.at}",id.gt.${after.id})`);
		}
		const { data, error } = await q
			.order('ingested_at', { ascending: true })
			.order('id', { ascending: true })
			.limit(pageSize);
		if (error) throw new ReadError('The missed messages', error);
		const rows = (data ?? []).map((r) => toFeedItem(r as Record<string, unknown>));
		out.push(...rows);
		if (rows.length < pageSize) break;
		const last = rows[rows.length - 1];
		// The row's own text keeps the microseconds the keyset needs.
		after = { at: last.ingested_at, id: last.id };
	}
	return out;
}

/** Active conversations, most recent first, with their message counts. */
export async function fetchActive(
	db: Client,
	botId: string,
	limit = 50
): Promise<ActiveConversation[]> {
	const { data, error } = await db
		.from('conversations')
		.select('id, external_id, channel, status, started_at, last_message_at, messages(count)')
		.eq('bot_id', botId)
		.eq('status', 'active')
		.order('last_message_at', { ascending: false, nullsFirst: false })
		.limit(limit);
	if (error) throw new ReadError('The active conversations', error);
	return (data ?? []).map((r) => {
		const row = r as unknown as Record<string, unknown> & { messages?: { count: number }[] };
		return {
			id: String(row.id),
			externalId: String(row.external_id),
			channel: String(row.channel),
			status: String(row.status),
			startedAt: String(row.started_at),
			lastMessageAt: row.last_message_at == null ? null : String(row.last_message_at),
			turns: count(row.messages?.[0]?.count)
		};
	});
}

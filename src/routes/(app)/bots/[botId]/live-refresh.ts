// While events arrive, the page re-reads its figures at most once a second: the cards over the
// range (moved to end now for presets) and only the current chart bucket, unless a new bucket
// began (then the whole series). The browser never adds anything up itself.
import type { SupabaseClient } from '@supabase/supabase-js';
import type { Database } from '$lib/database.types';
import { advance, bucketEnd, type TimeRange } from '$lib/range';
import { throttle } from '$lib/realtime/throttle';
import { timeKey } from '$lib/realtime/feed-merge';
import {
	fetchSeries,
	fetchSummary,
	type Loadable,
	type SeriesPoint,
	type Summary
} from '$lib/components/bot/read-api';

export const REFRESH_MS = 1000;
export const REPLY_WINDOW_MS = 3_600_000;

type State = {
	db: SupabaseClient<Database>;
	botId: string;
	view: TimeRange;
	series: Loadable<SeriesPoint[]>;
	timeZone: string;
};
type Update = { view?: TimeRange; summary?: Summary; series?: Loadable<SeriesPoint[]> };

export function createRefresher(opts: { get: () => State; set: (u: Update) => void }) {
	async function fullSeries(s: State, view: TimeRange) {
		try {
			const rows = await fetchSeries(s.db, s.botId, view.from, view.to);
			opts.set({ series: { status: 'ready', rows } });
		} catch (e) {
			opts.set({ series: { status: 'error', error: (e as Error).message } });
		}
	}

	async function currentBucket(s: State, view: TimeRange, now: Date) {
		if (s.series.status !== 'ready' || s.series.rows.length === 0) return fullSeries(s, view);
		const rows = s.series.rows;
		const last = rows[rows.length - 1];
		const rolled = now.getTime() >= bucketEnd(last.start, last.bucket, s.timeZone).getTime();
		// The 1-hour view has two buckets whose first one shrinks as time moves: read both.
		if (rolled || view.preset === '1h') return fullSeries(s, view);
		const from = last.start.getTime() < view.from.getTime() ? view.from : last.start;
		const fresh = await fetchSeries(s.db, s.botId, from, view.to, last.bucket).catch(() => null);
		if (!fresh || fresh.length !== 1 || fresh[0].start.getTime() !== last.start.getTime()) {
			return fullSeries(s, view);
		}
		// Only if nothing replaced the series meanwhile (a range change).
		const now2 = opts.get().series;
		if (now2 === s.series)
			opts.set({ series: { status: 'ready', rows: [...rows.slice(0, -1), fresh[0]] } });
	}

	async function refresh() {
		const s = opts.get();
		const now = new Date();
		// A range that ended in the past cannot change.
		if (s.view.preset === 'custom' && s.view.to.getTime() <= now.getTime()) return;
		const view = advance(s.view, now);
		const [summary] = await Promise.all([
			fetchSummary(s.db, s.botId, view).catch(() => null),
			currentBucket(s, view, now)
		]);
		// A navigation meanwhile (another range) wins over this late answer.
		if (opts.get().view !== s.view) return;
		opts.set({ view, ...(summary ? { summary } : {}) });
	}

	const t = throttle(refresh, REFRESH_MS);
	return {
		request: t.request,
		cancel: t.cancel,
		reloadSeries() {
			const s = opts.get();
			opts.set({ series: { status: 'loading' } });
			void fullSeries(s, s.view);
		}
	};
}

/** Bot replies of the last hour (time, response time) for the canvas chart, oldest first. */
export async function loadReplyPoints(
	db: SupabaseClient<Database>,
	botId: string,
	max = 10_000
): Promise<{ t: number; v: number }[]> {
	const since = new Date(Date.now() - REPLY_WINDOW_MS).toISOString();
	const out: { t: number; v: number }[] = [];
	// The API returns at most 1,000 rows per request (max_rows): read in pages.
	const page = 1000;
	while (out.length < max) {
		const { data, error } = await db
			.from('messages')
			.select('sent_at, response_time_ms')
			.eq('bot_id', botId)
			.eq('role', 'bot')
			.not('response_time_ms', 'is', null)
			.gte('sent_at', since)
			.order('sent_at', { ascending: true })
			.order('id', { ascending: true })
			.range(out.length, out.length + page - 1);
		if (error || !data) break;
		for (const r of data) {
			out.push({ t: Math.floor(timeKey(String(r.sent_at)) / 1000), v: Number(r.response_time_ms) });
		}
		if (data.length < page) break;
	}
	return out;
}

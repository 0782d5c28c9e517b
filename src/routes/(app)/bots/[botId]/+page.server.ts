import { error } from '@sveltejs/kit';
import { parseRange } from '$lib/range';
import { supabaseEnv } from '$lib/supabase-env';
import {
	fetchActive,
	fetchDurations,
	fetchModels,
	fetchRecentMessages,
	fetchSeries,
	fetchSummary
} from '$lib/components/bot/read-api';
import type { PageServerLoad } from './$types';

/** Rows the feed shows at first paint (the live buffer holds more as events arrive). */
const FIRST_FEED_ROWS = 30;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const notFound = {
	message: 'Bot not found',
	hint: 'It may have been deleted, or belongs to an organization you are not in.'
};

export const load: PageServerLoad = async ({ locals, params, url, depends }) => {
	depends('app:bot');
	if (!UUID.test(params.botId)) error(404, notFound);
	const db = locals.supabase;
	const { range, error: rangeError } = parseRange(url.searchParams, new Date());

	// RLS: another tenant's bot reads as no row, the same 404 as a missing one.
	const botQuery = db
		.from('bots')
		.select('id, name, timezone, channel, organization_id')
		.eq('id', params.botId)
		.maybeSingle();
	// Cards, feed and active list paint first; the charts stream in behind them.
	const series = fetchSeries(db, params.botId, range.from, range.to);
	const durations = fetchDurations(db, params.botId, range);
	const models = fetchModels(db, params.botId, range);
	for (const p of [series, durations, models]) p.catch(() => {});

	const [bot, summary, recent, active] = await Promise.all([
		botQuery,
		fetchSummary(db, params.botId, range).catch((e: Error) => e),
		fetchRecentMessages(db, params.botId, FIRST_FEED_ROWS).catch((e: Error) => e),
		fetchActive(db, params.botId).catch((e: Error) => e)
	]);
	if (bot.error) {
		console.error('loading the bot failed', { botId: params.botId, error: bot.error });
		error(503, { message: 'This bot could not be loaded.', hint: 'Reload the page in a moment.' });
	}
	if (!bot.data) error(404, notFound);
	for (const r of [summary, recent, active]) {
		if (r instanceof Error)
			console.error('bot page read failed', { botId: params.botId, error: r });
	}

	return {
		bot: bot.data,
		range: { preset: range.preset, from: range.from.toISOString(), to: range.to.toISOString() },
		rangeError,
		summary: summary instanceof Error ? null : summary,
		recent: recent instanceof Error ? [] : recent,
		active: active instanceof Error ? [] : active,
		loadError: [summary, recent, active].find((r) => r instanceof Error)?.message ?? null,
		ingestUrl: `${supabaseEnv().url}/functions/v1/ingest`,
		series,
		durations,
		models
	};
};

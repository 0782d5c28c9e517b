import { error } from '@sveltejs/kit';
import {
	filtersToParams,
	parseFilters,
	resolveRange,
	rpcFilterArgs,
	type Cursor
} from '$lib/conversation-filters';
import { userMessage } from '$lib/server/db-errors';
import { loadBot, rpc, type ConversationRow } from './explorer.server';
import type { PageServerLoad } from './$types';

const PAGE_SIZE = 50;

export const load: PageServerLoad = async ({ locals, params, url }) => {
	const bot = await loadBot(locals.supabase, params.botId);
	const { filters, problems } = parseFilters(url.searchParams);
	const range = resolveRange(filters, new Date());
	const base = rpcFilterArgs(filters, bot.id, range);
	// "Newer" pages read backwards from the first row shown, then flip back into order.
	const backwards = filters.before !== null;
	const cursor: Cursor | null = filters.after ?? filters.before;
	const flip = (d: 'asc' | 'desc') => (d === 'asc' ? 'desc' : 'asc');
	const call = rpc(locals.supabase);

	// One extra row tells whether another page follows.
	const [page, count] = await Promise.all([
		call('explore_conversations', {
			...base,
			p_sort: filters.sort,
			p_dir: backwards ? flip(filters.dir) : filters.dir,
			p_after_key: cursor?.key,
			p_after_id: cursor?.id,
			p_limit: PAGE_SIZE + 1
		}),
		call('count_explored_conversations', base)
	]);
	const failed = page.error ?? count.error;
	if (failed) {
		// The read API refuses bad filters with a sentence saying what to change.
		if (failed.code === '22023') problems.push(failed.message);
		else error(500, { message: userMessage(failed, 'explore conversations') });
	}
	let rows = ((page.data as ConversationRow[] | null) ?? []).slice();
	const more = rows.length > PAGE_SIZE;
	rows = rows.slice(0, PAGE_SIZE);
	if (backwards) rows.reverse();

	const at = (r: ConversationRow | undefined): Cursor | null =>
		r ? { id: r.id, key: r.sort_key } : null;
	const hasOlder = backwards ? rows.length > 0 : more;
	const hasNewer = backwards ? more : cursor !== null;
	const link = (patch: { after?: Cursor | null; before?: Cursor | null }) =>
		filtersToParams({ ...filters, after: null, before: null, ...patch }).toString();

	return {
		bot,
		query: filtersToParams(filters).toString(),
		from: range.from.toISOString(),
		to: range.to.toISOString(),
		explicitRange: filters.from !== null,
		problems,
		rows,
		total: failed ? null : (count.data as number),
		nextQuery: hasOlder ? link({ after: at(rows.at(-1)) }) : null,
		prevQuery: hasNewer ? link({ before: at(rows[0]) }) : null,
		firstQuery: cursor ? link({}) : null
	};
};

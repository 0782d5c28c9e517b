// Same-origin door to the export-csv Edge Function for this bot: forwards the signed-in user's
// own access token (RLS decides what is exported; no service key) and streams the CSV through
// untouched, so neither this server nor the page ever holds the file. A client that goes away
// aborts the upstream request, which stops the export's query.
import { error } from '@sveltejs/kit';
import { supabaseEnv } from '$lib/supabase-env';
import { isUuid } from '../explorer.server';
import type { RequestHandler } from './$types';

// Every filter export-csv takes (it validates them; anything else is dropped here).
const PASSED = [
	'kind',
	'from',
	'to',
	'by',
	'status',
	'channel',
	'search',
	'intent',
	'handoff',
	'min_duration',
	'max_duration',
	'min_response',
	'max_response',
	'bom'
];

export const GET: RequestHandler = async ({ locals, params, url, request, fetch }) => {
	const session = locals.session;
	if (!session) error(401, { message: 'Sign in again to export.' });
	if (!isUuid(params.botId)) error(404, { message: 'Bot not found' });
	const { url: api, anonKey } = supabaseEnv();
	const query = new URLSearchParams({ bot: params.botId });
	for (const k of PASSED) {
		const v = url.searchParams.get(k);
		if (v !== null) query.set(k, v);
	}
	const upstream = await fetch(`${api}/functions/v1/export-csv?${query}`, {
		headers: { authorization: `Bearer ${session.access_token}`, apikey: anonKey },
		signal: request.signal
	}).catch((e: Error) => e);
	if (upstream instanceof Error) {
		// The user cancelled before the first byte: nobody reads this answer.
		if (request.signal.aborted) return new Response(null, { status: 499 });
		console.error('export proxy: export-csv unreachable', upstream);
		error(502, { message: 'The export service did not answer. Try again in a minute.' });
	}
	const headers = new Headers({ 'cache-control': 'no-store' });
	for (const h of ['content-type', 'content-disposition', 'retry-after']) {
		const v = upstream.headers.get(h);
		if (v) headers.set(h, v);
	}
	return new Response(upstream.body, { status: upstream.status, headers });
};

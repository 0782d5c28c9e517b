import { loadOverview } from '$lib/server/overview';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, parent }) => {
	const { organization } = await parent();
	if (!organization) return { overview: Promise.resolve([]) };
	// Streamed: the shell paints at once, the cards fill in when the one RPC answers.
	const overview = loadOverview(locals.supabase, organization.id);
	// A rejected streamed promise is rendered by the page; keep Node from calling it unhandled.
	overview.catch(() => {});
	return { overview };
};

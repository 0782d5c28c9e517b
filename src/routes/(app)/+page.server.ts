import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, parent }) => {
	const { organization } = await parent();
	if (!organization) return { bots: [] };
	const { data, error } = await locals.supabase
		.from('bots')
		.select('id, name, channel, timezone')
		.eq('organization_id', organization.id)
		.order('name');
	if (error) console.error('loading bots failed', error);
	return { bots: data ?? [] };
};

import { error } from '@sveltejs/kit';
import {
	ORG_COOKIE,
	pickCurrentOrganization,
	sortMemberships,
	toMemberships
} from '$lib/organizations';
import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = async ({ locals, cookies, depends }) => {
	depends('app:organizations');
	// The hook already redirected visitors without a session.
	const user = locals.user!;
	const { data, error: dbError } = await locals.supabase
		.from('organization_members')
		.select('role, organizations(id, name, is_personal)')
		.eq('user_id', user.id);
	if (dbError) {
		console.error('loading memberships failed', dbError);
		error(503, {
			message: 'Your organizations could not be loaded.',
			hint: 'Reload the page in a moment.'
		});
	}
	const memberships = sortMemberships(toMemberships(data));
	const current = pickCurrentOrganization(memberships, cookies.get(ORG_COOKIE));
	return {
		user,
		memberships,
		organization: current
	};
};

import { error } from '@sveltejs/kit';
import { ORG_COOKIE, pickCurrentOrganization } from '$lib/organizations';
import { loadMemberships } from '$lib/server/memberships';
import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = async ({ locals, cookies, depends }) => {
	depends('app:organizations');
	// The hook already redirected visitors without a session.
	const user = locals.user!;
	const [memberships, invitations] = await Promise.all([
		loadMemberships(locals).catch((e) => {
			console.error('loading memberships failed', e);
			error(503, {
				message: 'Your organizations could not be loaded.',
				hint: 'Reload the page in a moment.'
			});
		}),
		// Invitations addressed to this user (RLS also shows those of organizations they manage).
		locals.supabase
			.from('organization_invitations')
			.select('id')
			.is('accepted_at', null)
			.eq('email', user.email.toLowerCase())
			.gt('expires_at', new Date().toISOString())
	]);
	return {
		user,
		memberships,
		organization: pickCurrentOrganization(memberships, cookies.get(ORG_COOKIE)),
		pendingInvitations: invitations.data?.length ?? 0
	};
};

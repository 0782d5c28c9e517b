import type { Cookies } from '@sveltejs/kit';
import {
	ORG_COOKIE,
	pickCurrentOrganization,
	sortMemberships,
	toMemberships,
	type Membership
} from '$lib/organizations';

/** The signed-in user's organizations with their role, shared ones first (RLS: only theirs). */
export async function loadMemberships(locals: App.Locals): Promise<Membership[]> {
	const { data, error } = await locals.supabase
		.from('organization_members')
		.select('role, organizations(id, name, is_personal)')
		.eq('user_id', locals.user!.id);
	if (error) throw error;
	return sortMemberships(toMemberships(data));
}

/**
 * The organization a request acts on: the remembered one if still a member, else the default.
 * Actions use this rather than a form field, so a request can only act where the user belongs
 * (RLS would refuse anyway; this keeps the message right).
 */
export async function currentMembership(
	locals: App.Locals,
	cookies: Cookies
): Promise<Membership | null> {
	return pickCurrentOrganization(await loadMemberships(locals), cookies.get(ORG_COOKIE));
}

import { redirect } from '@sveltejs/kit';
import { ORG_COOKIE } from '$lib/organizations';
import { safeRedirectTarget } from '$lib/redirect';
import type { RequestHandler } from './$types';

// The organization switcher's links land here: remember the choice, go back to the page.
// A link (not a script) so it works everywhere; the layout ignores ids the user is not a member of.
export const GET: RequestHandler = async ({ params, cookies, url }) => {
	cookies.set(ORG_COOKIE, params.orgId, {
		path: '/',
		httpOnly: true,
		sameSite: 'lax',
		maxAge: 60 * 60 * 24 * 365
	});
	redirect(303, safeRedirectTarget(url.searchParams.get('next')));
};

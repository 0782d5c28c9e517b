import { redirect } from '@sveltejs/kit';
import type { Actions, PageServerLoad } from './$types';

// Sign-out is a POST (a form in the header), so a link prefetch can never sign anyone out.
export const load: PageServerLoad = async () => redirect(303, '/');

export const actions: Actions = {
	default: async ({ locals }) => {
		const { error } = await locals.supabase.auth.signOut();
		if (error) console.error('sign-out failed', { code: error.code, status: error.status });
		redirect(303, '/sign-in');
	}
};

import { fail, redirect } from '@sveltejs/kit';
import { message, superValidate } from 'sveltekit-superforms';
import { zod4 } from 'sveltekit-superforms/adapters';
import { safeRedirectTarget } from '$lib/redirect';
import { signInSchema } from './schema';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async () => {
	return { form: await superValidate(zod4(signInSchema)) };
};

export const actions: Actions = {
	default: async ({ request, locals, url }) => {
		const form = await superValidate(request, zod4(signInSchema));
		// Never send the password back to the page.
		const password = form.data.password;
		form.data.password = '';
		if (!form.valid) return fail(400, { form });

		const { error } = await locals.supabase.auth.signInWithPassword({
			email: form.data.email,
			password
		});
		if (error) {
			if (error.status === 400 || error.code === 'invalid_credentials') {
				return message(form, 'Email or password is wrong. Check both and try again.', {
					status: 400
				});
			}
			console.error('sign-in failed', { code: error.code, status: error.status });
			return message(form, 'Sign-in is unavailable right now. Try again in a minute.', {
				status: 503
			});
		}
		redirect(303, safeRedirectTarget(url.searchParams.get('redirectTo')));
	}
};

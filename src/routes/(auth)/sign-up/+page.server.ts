import { fail, redirect } from '@sveltejs/kit';
import { message, setError, superValidate } from 'sveltekit-superforms';
import { zod4 } from 'sveltekit-superforms/adapters';
import { signUpSchema } from './schema';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async () => {
	return { form: await superValidate(zod4(signUpSchema)) };
};

export const actions: Actions = {
	default: async ({ request, locals }) => {
		const form = await superValidate(request, zod4(signUpSchema));
		const password = form.data.password;
		form.data.password = '';
		if (!form.valid) return fail(400, { form });

		const { data, error } = await locals.supabase.auth.signUp({
			email: form.data.email,
			password,
			// The database names the personal organization after this (handle_new_user).
			options: { data: form.data.name ? { full_name: form.data.name } : {} }
		});
		if (error) {
			if (error.code === 'user_already_exists' || error.code === 'email_exists') {
				return setError(form, 'email', 'An account already uses this email. Sign in instead.');
			}
			if (error.code === 'weak_password') {
				return setError(form, 'password', error.message);
			}
			console.error('sign-up failed', { code: error.code, status: error.status });
			return message(form, 'Sign-up is unavailable right now. Try again in a minute.', {
				status: 503
			});
		}
		// Projects that confirm emails return no session until the link is followed.
		if (!data.session) {
			return message(form, 'Check your inbox: follow the link we sent to finish signing up.');
		}
		redirect(303, '/');
	}
};

import { fail, redirect } from '@sveltejs/kit';
import { ORG_COOKIE } from '$lib/organizations';
import { userMessage } from '$lib/server/db-errors';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals }) => {
	const { data, error } = await locals.supabase
		.from('organization_invitations')
		.select('id, organization_name, role, expires_at')
		.is('accepted_at', null)
		.eq('email', locals.user!.email.toLowerCase())
		.order('created_at', { ascending: false });
	if (error) console.error('invitations load failed', error);
	return { invitations: data ?? [] };
};

function invitationId(form: FormData): string | null {
	const id = form.get('id');
	return typeof id === 'string' && /^[0-9a-f-]{36}$/i.test(id) ? id : null;
}

export const actions: Actions = {
	accept: async ({ request, locals, cookies }) => {
		const id = invitationId(await request.formData());
		if (!id) return fail(400, { error: 'Pick an invitation from the list.' });
		const { data: orgId, error } = await locals.supabase.rpc('accept_invitation', {
			p_invitation_id: id
		});
		if (error) return fail(400, { error: userMessage(error, 'accept invitation') });
		// Show the organization just joined.
		cookies.set(ORG_COOKIE, orgId, {
			path: '/',
			httpOnly: true,
			sameSite: 'lax',
			maxAge: 31536000
		});
		redirect(303, '/');
	},
	decline: async ({ request, locals }) => {
		const id = invitationId(await request.formData());
		if (!id) return fail(400, { error: 'Pick an invitation from the list.' });
		const { error } = await locals.supabase.rpc('decline_invitation', { p_invitation_id: id });
		if (error) return fail(400, { error: userMessage(error, 'decline invitation') });
		return { ok: 'Invitation declined.' };
	}
};

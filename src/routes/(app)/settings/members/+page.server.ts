import { error, fail, redirect } from '@sveltejs/kit';
import { message, superValidate } from 'sveltekit-superforms';
import { zod4 } from 'sveltekit-superforms/adapters';
import { canManage } from '$lib/roles';
import { userMessage } from '$lib/server/db-errors';
import { currentMembership } from '$lib/server/memberships';
import { invitationSchema, inviteSchema, memberRoleSchema, memberSchema } from './schema';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, parent }) => {
	const { organization } = await parent();
	if (!organization) error(404, { message: 'You are not in any organization yet.' });
	const [members, invitations] = await Promise.all([
		locals.supabase.rpc('organization_member_list', { p_organization_id: organization.id }),
		canManage(organization.role)
			? locals.supabase
					.from('organization_invitations')
					.select('id, email, role, created_at, expires_at')
					.eq('organization_id', organization.id)
					.is('accepted_at', null)
					.order('created_at', { ascending: false })
			: Promise.resolve({ data: [], error: null })
	]);
	if (members.error || invitations.error) {
		console.error('members load failed', members.error ?? invitations.error);
		error(503, { message: 'Members could not be loaded.', hint: 'Reload the page in a moment.' });
	}
	return {
		members: members.data,
		invitations: invitations.data ?? [],
		inviteForm: await superValidate(zod4(inviteSchema))
	};
};

export const actions: Actions = {
	invite: async ({ request, locals, cookies }) => {
		const form = await superValidate(request, zod4(inviteSchema));
		if (!form.valid) return fail(400, { inviteForm: form });
		const org = await currentMembership(locals, cookies);
		const { error: dbError } = await locals.supabase.rpc('invite_member', {
			p_organization_id: org?.id ?? '',
			p_email: form.data.email,
			p_role: form.data.role
		});
		if (dbError) return message(form, userMessage(dbError, 'invite'), { status: 400 });
		const sent = form.data.email;
		form.data.email = '';
		return message(form, `Invitation sent to ${sent}. They accept it after signing in.`);
	},
	changeRole: async ({ request, locals, cookies }) => {
		const form = await superValidate(request, zod4(memberRoleSchema));
		if (!form.valid) return fail(400, { error: 'Pick a member and a role.' });
		const org = await currentMembership(locals, cookies);
		const { data, error: dbError } = await locals.supabase
			.from('organization_members')
			.update({ role: form.data.role })
			.eq('organization_id', org?.id ?? '')
			.eq('user_id', form.data.user_id)
			.select('user_id');
		if (dbError) return fail(400, { error: userMessage(dbError, 'change role') });
		if (!data.length) return fail(403, { error: 'Your role cannot change this member.' });
		return { ok: 'Role changed.' };
	},
	remove: async ({ request, locals, cookies }) => {
		const form = await superValidate(request, zod4(memberSchema));
		if (!form.valid) return fail(400, { error: 'Pick a member from the list.' });
		const org = await currentMembership(locals, cookies);
		const { data, error: dbError } = await locals.supabase
			.from('organization_members')
			.delete()
			.eq('organization_id', org?.id ?? '')
			.eq('user_id', form.data.user_id)
			.select('user_id');
		if (dbError) return fail(400, { error: userMessage(dbError, 'remove member') });
		if (!data.length) return fail(403, { error: 'Your role cannot remove this member.' });
		return { ok: 'Member removed.' };
	},
	leave: async ({ locals, cookies }) => {
		const org = await currentMembership(locals, cookies);
		const { error: dbError } = await locals.supabase.rpc('leave_organization', {
			p_organization_id: org?.id ?? ''
		});
		if (dbError) return fail(400, { error: userMessage(dbError, 'leave') });
		cookies.delete('botflow_org', { path: '/' });
		redirect(303, '/');
	},
	revokeInvitation: async ({ request, locals }) => {
		const form = await superValidate(request, zod4(invitationSchema));
		if (!form.valid) return fail(400, { error: 'Pick an invitation.' });
		const { data, error: dbError } = await locals.supabase
			.from('organization_invitations')
			.delete()
			.eq('id', form.data.id)
			.select('id');
		if (dbError) return fail(400, { error: userMessage(dbError, 'revoke invitation') });
		if (!data.length) return fail(403, { error: 'Your role cannot revoke this invitation.' });
		return { ok: 'Invitation revoked.' };
	}
};

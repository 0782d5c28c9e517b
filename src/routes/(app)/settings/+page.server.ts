import { error, fail, redirect } from '@sveltejs/kit';
import { message, superValidate } from 'sveltekit-superforms';
import { zod4 } from 'sveltekit-superforms/adapters';
import { userMessage } from '$lib/server/db-errors';
import { currentMembership } from '$lib/server/memberships';
import { createBotSchema, organizationSchema, retentionSchema } from './schema';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, parent }) => {
	const { organization } = await parent();
	if (!organization) error(404, { message: 'You are not in any organization yet.' });
	const [bots, org] = await Promise.all([
		locals.supabase
			.from('bots')
			.select('id, name, channel, timezone, created_at')
			.eq('organization_id', organization.id)
			.order('name'),
		locals.supabase
			.from('organizations')
			.select('id, name, retention_days, is_personal')
			.eq('id', organization.id)
			.single()
	]);
	if (bots.error || org.error) {
		console.error('settings load failed', bots.error ?? org.error);
		error(503, { message: 'Settings could not be loaded.', hint: 'Reload the page in a moment.' });
	}
	return {
		bots: bots.data,
		settings: org.data,
		createForm: await superValidate(zod4(createBotSchema), {
			defaults: { name: '', channel: 'web', timezone: 'UTC' }
		}),
		orgForm: await superValidate({ name: org.data.name }, zod4(organizationSchema), {
			errors: false
		}),
		retentionForm: await superValidate(
			{ retention_days: org.data.retention_days },
			zod4(retentionSchema),
			{ errors: false }
		)
	};
};

export const actions: Actions = {
	createBot: async ({ request, locals, cookies }) => {
		const form = await superValidate(request, zod4(createBotSchema));
		if (!form.valid) return fail(400, { createForm: form });
		const org = await currentMembership(locals, cookies);
		if (!org) return message(form, 'Join or create an organization first.', { status: 400 });
		const { data, error: dbError } = await locals.supabase
			.from('bots')
			.insert({ organization_id: org.id, ...form.data })
			.select('id')
			.single();
		if (dbError) {
			return message(form, userMessage(dbError, 'create bot'), { status: 400 });
		}
		redirect(303, `/settings/bots/${data.id}?created=1`);
	},
	renameOrganization: async ({ request, locals, cookies }) => {
		const form = await superValidate(request, zod4(organizationSchema));
		if (!form.valid) return fail(400, { orgForm: form });
		const org = await currentMembership(locals, cookies);
		const { data, error: dbError } = await locals.supabase
			.from('organizations')
			.update({ name: form.data.name })
			.eq('id', org?.id ?? '')
			.select('id');
		if (dbError) return message(form, userMessage(dbError, 'rename organization'), { status: 400 });
		if (!data?.length) {
			return message(form, 'Only owners and admins can rename the organization.', { status: 403 });
		}
		return message(form, 'Organization renamed.');
	},
	retention: async ({ request, locals, cookies }) => {
		const form = await superValidate(request, zod4(retentionSchema));
		if (!form.valid) return fail(400, { retentionForm: form });
		const org = await currentMembership(locals, cookies);
		const { data, error: dbError } = await locals.supabase
			.from('organizations')
			.update({ retention_days: form.data.retention_days })
			.eq('id', org?.id ?? '')
			.select('id');
		if (dbError) return message(form, userMessage(dbError, 'retention'), { status: 403 });
		if (!data?.length) {
			return message(form, 'Only owners can change how long raw data is kept.', { status: 403 });
		}
		return message(form, `Raw conversations are now kept ${form.data.retention_days} days.`);
	}
};

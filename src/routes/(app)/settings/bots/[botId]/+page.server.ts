import { error, fail } from '@sveltejs/kit';
import { message, superValidate } from 'sveltekit-superforms';
import { zod4 } from 'sveltekit-superforms/adapters';
import { userMessage } from '$lib/server/db-errors';
import { createKeySchema, revokeKeySchema, updateBotSchema } from './schema';
import type { Actions, PageServerLoad } from './$types';

const NOT_FOUND = {
	message: 'Bot not found',
	hint: 'It may have been deleted, or it belongs to an organization you are not a member of.'
};

export const load: PageServerLoad = async ({ locals, params }) => {
	const { data: bot, error: botError } = await locals.supabase
		.from('bots')
		.select('id, name, channel, timezone, organization_id, organizations(name)')
		.eq('id', params.botId)
		.maybeSingle();
	// An id that is not a uuid (22P02) is as missing as one RLS hides.
	if (botError && botError.code !== '22P02') {
		console.error('bot settings load failed', botError);
		error(503, { message: 'The bot could not be loaded.', hint: 'Reload the page in a moment.' });
	}
	if (!bot) error(404, NOT_FOUND);

	const [{ data: keys }, { data: membership }] = await Promise.all([
		locals.supabase
			.from('bot_api_keys')
			.select('id, name, key_prefix, created_at, last_used_at, revoked_at')
			.eq('bot_id', bot.id)
			.order('created_at', { ascending: false }),
		locals.supabase
			.from('organization_members')
			.select('role')
			.eq('organization_id', bot.organization_id)
			.eq('user_id', locals.user!.id)
			.maybeSingle()
	]);
	return {
		bot,
		role: membership?.role ?? 'viewer',
		keys: keys ?? [],
		botForm: await superValidate(
			{ name: bot.name, channel: bot.channel as never, timezone: bot.timezone },
			zod4(updateBotSchema),
			{ errors: false }
		),
		keyForm: await superValidate(zod4(createKeySchema))
	};
};

export const actions: Actions = {
	updateBot: async ({ request, locals, params }) => {
		const form = await superValidate(request, zod4(updateBotSchema));
		if (!form.valid) return fail(400, { botForm: form });
		const { data, error: dbError } = await locals.supabase
			.from('bots')
			.update(form.data)
			.eq('id', params.botId)
			.select('id');
		if (dbError) return message(form, userMessage(dbError, 'update bot'), { status: 400 });
		if (!data.length) {
			return message(form, 'Only owners and admins can change this bot.', { status: 403 });
		}
		return message(form, 'Bot saved.');
	},
	createKey: async ({ request, locals, params }) => {
		const form = await superValidate(request, zod4(createKeySchema));
		if (!form.valid) return fail(400, { keyForm: form });
		const { data, error: dbError } = await locals.supabase
			.rpc('create_bot_api_key', { p_bot_id: params.botId, p_name: form.data.key_name })
			.single();
		if (dbError) return message(form, userMessage(dbError, 'create key'), { status: 400 });
		form.data.key_name = '';
		// The plaintext key exists only in this response: it is never stored or shown again.
		return { keyForm: form, createdKey: { key: data.key, prefix: data.key_prefix } };
	},
	revokeKey: async ({ request, locals, params }) => {
		const form = await superValidate(request, zod4(revokeKeySchema));
		if (!form.valid) return fail(400, { error: 'Pick a key from the list.' });
		const { data, error: dbError } = await locals.supabase
			.from('bot_api_keys')
			.update({ revoked_at: new Date().toISOString() })
			.eq('id', form.data.key_id)
			.eq('bot_id', params.botId)
			.is('revoked_at', null)
			.select('id');
		if (dbError) return fail(400, { error: userMessage(dbError, 'revoke key') });
		if (!data.length) {
			return fail(403, { error: 'This key is already revoked, or your role cannot revoke it.' });
		}
		return { revoked: form.data.key_id };
	}
};

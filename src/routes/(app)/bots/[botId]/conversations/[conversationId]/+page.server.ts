import { error } from '@sveltejs/kit';
import { userMessage } from '$lib/server/db-errors';
import { conversationNotFound, isUuid, loadBot } from '../explorer.server';
import type { PageServerLoad } from './$types';

/** A transcript longer than this shows its first messages and says how to get the rest. */
const MAX_MESSAGES = 2000;

export const load: PageServerLoad = async ({ locals, params }) => {
	const bot = await loadBot(locals.supabase, params.botId);
	if (!isUuid(params.conversationId)) conversationNotFound();
	const sb = locals.supabase;
	const [conv, messages, metrics] = await Promise.all([
		sb
			.from('conversations')
			.select(
				'id, external_id, channel, end_user_id, status, started_at, last_message_at, ended_at, handed_off_at, metadata'
			)
			.eq('id', params.conversationId)
			.eq('bot_id', bot.id)
			.maybeSingle(),
		sb
			.from('messages')
			.select(
				'id, role, content, sent_at, response_time_ms, success, error_code, intent, model, tokens_in, tokens_out, cost_usd'
			)
			.eq('conversation_id', params.conversationId)
			.eq('bot_id', bot.id)
			.order('sent_at')
			.order('id')
			.limit(MAX_MESSAGES + 1),
		sb
			.from('conversation_metrics')
			.select('response_p50_ms, response_p95_ms, success_rate, tokens_in, tokens_out, cost_usd')
			.eq('conversation_id', params.conversationId)
			.eq('bot_id', bot.id)
			.maybeSingle()
	]);
	const failed = conv.error ?? messages.error ?? metrics.error;
	if (failed) error(500, { message: userMessage(failed, 'load transcript') });
	// RLS hides another tenant's conversation: the same 404 as a missing one.
	if (!conv.data) conversationNotFound();
	const c = conv.data;
	const end = c.ended_at ?? c.handed_off_at ?? c.last_message_at ?? c.started_at;
	return {
		bot,
		conversation: {
			...c,
			// As export_conversations computes duration_seconds.
			duration_ms: new Date(end).getTime() - new Date(c.started_at).getTime()
		},
		metrics: metrics.data,
		messages: (messages.data ?? []).slice(0, MAX_MESSAGES),
		truncated: (messages.data ?? []).length > MAX_MESSAGES
	};
};

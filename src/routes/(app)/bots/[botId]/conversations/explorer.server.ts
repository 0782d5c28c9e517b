// Server-side reads of the conversations explorer, through the user's client (RLS decides).
import { error } from '@sveltejs/kit';
import type { SupabaseClient } from '@supabase/supabase-js';
import type { Database } from '$lib/database.types';
import { userMessage } from '$lib/server/db-errors';

type DbError = { code?: string; message: string };
// The explorer's functions are newer than the checked-in generated types; call them untyped
// and describe their rows here.
type UntypedRpc = (
	fn: string,
	args: Record<string, unknown>
) => PromiseLike<{ data: unknown; error: DbError | null }>;
export const rpc = (sb: SupabaseClient<Database>) => sb.rpc.bind(sb) as unknown as UntypedRpc;

export type ConversationRow = {
	id: string;
	external_id: string;
	channel: string;
	end_user_id: string | null;
	status: string;
	started_at: string;
	last_message_at: string | null;
	ended_at: string | null;
	handed_off_at: string | null;
	duration_seconds: number | null;
	messages: number | null;
	first_response_ms: number | null;
	response_p50_ms: number | null;
	response_p95_ms: number | null;
	success_rate: number | null;
	tokens_in: number | null;
	tokens_out: number | null;
	cost_usd: number | null;
	sort_key: string;
};

export type Bot = { id: string; name: string; timezone: string; channel: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const notFound = (what: 'Bot' | 'Conversation'): never =>
	error(404, {
		message: `${what} not found`,
		hint: 'It may have been deleted, or belongs to an organization you are not in.'
	});

/** The bot, or the same 404 whether it is missing or another tenant's (RLS hides it). */
export async function loadBot(sb: SupabaseClient<Database>, botId: string): Promise<Bot> {
	if (!UUID.test(botId)) notFound('Bot');
	const { data, error: e } = await sb
		.from('bots')
		.select('id, name, timezone, channel')
		.eq('id', botId)
		.maybeSingle();
	if (e) error(500, { message: userMessage(e, 'load bot') });
	if (!data) notFound('Bot');
	return data as Bot;
}

export function conversationNotFound(): never {
	return notFound('Conversation');
}

export const isUuid = (s: string) => UUID.test(s);

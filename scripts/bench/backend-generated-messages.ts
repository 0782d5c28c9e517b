// The benchmark's generated messages, one definition for the 10M load, the busy hour and the
// summarised bot's live hour.
import type postgres from 'postgres';

/**
 * An `insert into public.messages` of `perConversation` messages for each conversation of the
 * statement's CTE `conv` (id, bot_id, external_id, started_at), 15 s apart: odd ones from the
 * user with an intent, even ones bot replies with a model, a response time and now and then a
 * failure. The caller appends its own `where` (on c.started_at and k) and `order by`.
 */
export const insertGeneratedMessages = (
	sql: postgres.TransactionSql,
	perConversation: number
) => sql`
	insert into public.messages (bot_id, conversation_id, external_id, role, content, sent_at,
		response_time_ms, success, intent, model, tokens_in, tokens_out, cost_usd)
	select c.bot_id, c.id, c.external_id || '-' || k, (case when k % 2 = 1 then 'user' else 'bot' end)::public.message_role,
		'hello', c.started_at + k * interval '15 seconds',
		case when k % 2 = 0 then 80 + (hashint4(k * 7919 + length(c.external_id)) & 4095) end,
		case when k % 2 = 0 then (k + length(c.external_id)) % 13 <> 0 end,
		case when k % 2 = 1 then (array['order_status', 'refund', 'greeting', 'handoff'])[1 + k % 4] end,
		case when k % 2 = 0 then (array['gpt-4o', 'gpt-4o-mini', 'claude-haiku'])[1 + k % 3] end,
		k * 10, k * 3, 0.0001 * k
	from conv c cross join generate_series(1, ${perConversation}) k`;

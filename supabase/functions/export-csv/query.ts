// What export-csv exports: the dashboard's filters as query parameters, and for each kind its
// header and the query over the read API's export functions (the ones behind the dashboard's
// cards and charts, so the numbers agree). Postgres formats the rows (COPY ... TO STDOUT).
import { z } from 'zod';
import { sqlNeutralise } from '../_shared/csv.ts';

const day = 86_400_000;
const isoInstant = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);

export const filters = z
	.strictObject({
		kind: z.enum(['conversations', 'messages', 'daily']).default('conversations'),
		bot: z.uuid({ message: 'bot must be the id (uuid) of one of your bots' }),
		from: isoInstant.optional(),
		to: isoInstant.optional(),
		status: z.enum(['active', 'completed', 'abandoned', 'handed_off']).optional(),
		channel: z
			.enum(['web', 'whatsapp', 'messenger', 'telegram', 'slack', 'sms', 'voice', 'api'])
			.optional(),
		search: z
			.string()
			.min(1)
			.max(200)
			.refine((v) => !v.includes('\u0000'), 'contains a NUL character; remove it')
			.optional(),
		bom: z.enum(['true', 'false']).default('true')
	})
	.transform((f, ctx) => {
		const to = f.to ? new Date(f.to) : new Date();
		const from = f.from ? new Date(f.from) : new Date(to.getTime() - 30 * day);
		if (from >= to)
			ctx.addIssue({ code: 'custom', path: ['from'], message: 'from must be before to' });
		if (to.getTime() - from.getTime() > 400 * day) {
			ctx.addIssue({ code: 'custom', path: ['to'], message: 'a range spans at most 400 days' });
		}
		if (f.kind === 'daily') {
			for (const key of ['status', 'channel', 'search'] as const) {
				if (f[key] !== undefined) {
					ctx.addIssue({
						code: 'custom',
						path: [key],
						message: `${key} does not apply to kind=daily; remove it`
					});
				}
			}
		}
		return { ...f, from, to };
	});

export type Filters = z.infer<typeof filters>;

// COPY takes no bind parameters. Values that validation reduced to a fixed shape (uuid, ISO
// instant, enum) are written as literals; the one free-text value (search) travels as a
// setting of the export's own connection, set with a bound parameter, so user text never
// becomes SQL.
const literal = (value: string) => `'${value.replaceAll("'", "''")}'`;
const instant = (t: Date) => `${literal(t.toISOString())}::timestamptz`;
const search = (f: Filters) => (f.search ? `current_setting('botflow.export_search')` : 'null');
const optional = (value: string | undefined) => (value ? literal(value) : 'null');
const safe = sqlNeutralise;

export type Kind = {
	header: string[];
	/** The rows of [from, to) as a query; windowed kinds are read one window at a time. */
	query: (f: Filters, from: Date, to: Date) => string;
	windowed: boolean;
	/**
	 * For windowed kinds: how many raw rows [from, to) holds, counting at most `cap` (an index
	 * range scan, before filters: an upper bound), so a window is sized before it is read.
	 */
	probe?: (f: Filters, from: Date, to: Date, cap: number) => string;
};

const countUpTo = (table: string, time: string, f: Filters, from: Date, to: Date, cap: number) =>
	`select count(*)::int as n from (select 1 from public.${table} t where t.bot_id = ${literal(f.bot)}::uuid
		and t.${time} >= ${instant(from)} and t.${time} < ${instant(to)} limit ${Math.trunc(cap)}) x`;

export const kinds: Record<Filters['kind'], Kind> = {
	conversations: {
		header: [
			'conversation_id',
			'channel',
			'end_user_id',
			'status',
			'started_at',
			'last_message_at',
			'ended_at',
			'handed_off_at',
			'duration_seconds',
			'messages',
			'first_response_ms',
			'response_p50_ms',
			'response_p95_ms',
			'success_rate',
			'tokens_in',
			'tokens_out',
			'cost_usd'
		],
		query: (f, from, to) => `
			select ${safe('e.external_id')}, e.channel, ${safe('e.end_user_id')}, e.status, e.started_at,
				e.last_message_at, e.ended_at, e.handed_off_at, e.duration_seconds, e.messages,
				e.first_response_ms, e.response_p50_ms, e.response_p95_ms, e.success_rate, e.tokens_in,
				e.tokens_out, e.cost_usd
			from public.export_conversations(${literal(f.bot)}::uuid, ${instant(from)}, ${instant(to)},
				${optional(f.status)}, ${optional(f.channel)}, ${search(f)}) e`,
		windowed: true,
		probe: (f, from, to, cap) => countUpTo('conversations', 'started_at', f, from, to, cap)
	},
	messages: {
		header: [
			'conversation_id',
			'message_id',
			'role',
			'content',
			'sent_at',
			'response_time_ms',
			'success',
			'error_code',
			'intent',
			'model',
			'tokens_in',
			'tokens_out',
			'cost_usd'
		],
		// Status and channel belong to the conversation: a key lookup per row, only when asked for.
		query: (f, from, to) => `
			select ${safe('e.conversation_external_id')}, ${safe('e.external_id')}, e.role,
				${safe('e.content')}, e.sent_at, e.response_time_ms, e.success, ${safe('e.error_code')},
				${safe('e.intent')}, ${safe('e.model')}, e.tokens_in, e.tokens_out, e.cost_usd
			from public.export_messages(${literal(f.bot)}::uuid, ${instant(from)}, ${instant(to)}, null,
				${search(f)}) e
			${
				f.status || f.channel
					? `where exists (select 1 from public.conversations c where c.id = e.conversation_id
				${f.status ? `and c.status = ${literal(f.status)}` : ''}
				${f.channel ? `and c.channel = ${literal(f.channel)}` : ''})`
					: ''
			}`,
		windowed: true,
		probe: (f, from, to, cap) => countUpTo('messages', 'sent_at', f, from, to, cap)
	},
	daily: {
		header: [
			'day',
			'day_start',
			'messages',
			'conversations',
			'resolved_conversations',
			'handed_off_conversations',
			'tokens_in',
			'tokens_out',
			'cost_usd',
			'replies',
			'failed_replies',
			'success_rate',
			'avg_response_ms',
			'p50_response_ms',
			'p95_response_ms',
			'p99_response_ms'
		],
		query: (f, from, to) => `
			select e.day, e.day_start, e.messages, e.conversations, e.resolved_conversations,
				e.handed_off_conversations, e.tokens_in, e.tokens_out, e.cost_usd, e.replies, e.failed_replies,
				e.success_rate, e.avg_response_ms, e.p50_response_ms, e.p95_response_ms, e.p99_response_ms
			from public.export_daily_metrics(${literal(f.bot)}::uuid, ${instant(from)}, ${instant(to)}) e`,
		windowed: false
	}
};

// What export-csv exports: the dashboard's filters as query parameters, and for each kind its
// header and its query. Conversations and messages read the conversations list's own statement
// (private.explorer_sql, which the list and its count run too), so a file holds exactly the
// listed conversations, or their messages; daily metrics read the chart's daily series.
// Postgres formats the rows (COPY ... TO STDOUT).
import { z } from 'zod';
import { sqlNeutralise } from '../_shared/csv.ts';
import { Constants } from '../_shared/database.types.ts';

const day = 86_400_000;
const isoInstant = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);
/** A bound of a range filter, as the list's URL writes it: a plain non-negative number. */
const bound = (unit: string) =>
	z
		.string()
		.refine(
			(v) => v.trim() !== '' && Number.isFinite(Number(v)) && Number(v) >= 0,
			`must be a number of ${unit}, 0 or more (like 30 or 2.5)`
		)
		.transform(Number)
		.optional();

/** The list's filters; none applies to kind=daily (whole-bot figures per local day). */
const conversationFilters = [
	'by',
	'status',
	'channel',
	'search',
	'intent',
	'handoff',
	'min_duration',
	'max_duration',
	'min_response',
	'max_response'
] as const;

export const filters = z
	.strictObject({
		kind: z.enum(['conversations', 'messages', 'daily']).default('conversations'),
		bot: z.uuid({ message: 'bot must be the id (uuid) of one of your bots' }),
		from: isoInstant.optional(),
		to: isoInstant.optional(),
		// Which timestamp of a conversation must lie in [from, to).
		by: z.enum(['started', 'ended', 'handed_off']).optional(),
		status: z.enum(Constants.public.Enums.conversation_status).optional(),
		channel: z.enum(Constants.public.Enums.channel).optional(),
		search: z
			.string()
			.min(1)
			.max(200)
			.refine((v) => !v.includes('\u0000'), 'contains a NUL character; remove it')
			.optional(),
		intent: z
			.string()
			.min(1)
			.max(100)
			.refine((v) => !v.includes('\u0000'), 'contains a NUL character; remove it')
			.optional(),
		handoff: z.enum(['yes', 'no']).optional(),
		// Seconds, [min, max): a duration histogram bar drills down to exactly its conversations.
		min_duration: bound('seconds'),
		max_duration: bound('seconds'),
		// Milliseconds, the conversation's median response time, both inclusive.
		min_response: bound('milliseconds'),
		max_response: bound('milliseconds'),
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
		for (const [min, max] of [
			['min_duration', 'max_duration'],
			['min_response', 'max_response']
		] as const) {
			const lo = f[min];
			const hi = f[max];
			if (lo !== undefined && hi !== undefined && lo > hi) {
				ctx.addIssue({ code: 'custom', path: [min], message: `${min} must not exceed ${max}` });
			}
		}
		if (f.kind === 'daily') {
			for (const key of conversationFilters) {
				if (f[key] !== undefined) {
					ctx.addIssue({
						code: 'custom',
						path: [key],
						message: `${key} does not apply to kind=daily (whole-bot figures per day); remove it`
					});
				}
			}
		}
		return { ...f, by: f.by ?? 'started', from, to };
	});

export type Filters = z.infer<typeof filters>;

/** The conversations list's statement, filled in by the database (see private.explorer_sql). */
export type ListSql = string;

/**
 * The arguments of private.explorer_sql for these filters, sent as bound parameters: the
 * database quotes them into the list's statement, so user text never becomes SQL here.
 */
export function listSqlArgs(f: Filters) {
	const orNull = <T>(v: T | undefined) => v ?? null;
	return {
		bot: f.bot,
		from: f.from.toISOString(),
		to: f.to.toISOString(),
		by: f.by,
		search: orNull(f.search),
		status: orNull(f.status),
		channel: orNull(f.channel),
		intent: orNull(f.intent),
		handoff: f.handoff === undefined ? null : f.handoff === 'yes',
		minDuration: orNull(f.min_duration),
		maxDuration: orNull(f.max_duration),
		minResponse: orNull(f.min_response),
		maxResponse: orNull(f.max_response)
	};
}

// COPY takes no bind parameters. The list's statement comes from the database with its values
// quoted there; the window bounds are instants written here as literals.
const literal = (value: string) => `'${value.replaceAll("'", "''")}'`;
const instant = (t: Date) => `${literal(t.toISOString())}::timestamptz`;
const safe = sqlNeutralise;
const atColumn = { started: 'started_at', ended: 'ended_at', handed_off: 'handed_off_at' } as const;

export type Kind = {
	header: string[];
	/** The rows of the window [from, to) as a query; windowed kinds are read window by window. */
	query: (f: Filters, list: ListSql, from: Date, to: Date) => string;
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
		// The window applies to the timestamp the list's range applies to, in its order.
		query: (f, list, from, to) => `
			select ${safe('e.external_id')}, e.channel, ${safe('e.end_user_id')}, e.status, e.started_at,
				e.last_message_at, e.ended_at, e.handed_off_at, e.duration_seconds, e.messages,
				e.first_response_ms, e.response_p50_ms, e.response_p95_ms, e.success_rate, e.tokens_in,
				e.tokens_out, e.cost_usd
			from (${list}) e
			where e.${atColumn[f.by]} >= ${instant(from)} and e.${atColumn[f.by]} < ${instant(to)}
			order by e.${atColumn[f.by]}, e.id`,
		windowed: true,
		probe: (f, from, to, cap) => countUpTo('conversations', atColumn[f.by], f, from, to, cap)
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
		// The messages sent in the window of the conversations the list shows (export_messages'
		// columns); the list's statement, asked for each message's conversation, both filters and
		// names it. Lateral with offset 0: a primary-key probe per conversation (memoized), never
		// the join the planner picks when it underestimates a bot's rows in the window (a new or
		// bursty bot) and that compares every message with every listed conversation: a window
		// of 100k messages then outlived the statement timeout.
		query: (f, list, from, to) => `
			select ${safe('e.external_id')}, ${safe('m.external_id')}, m.role, ${safe('m.content')},
				m.sent_at, m.response_time_ms, m.success, ${safe('m.error_code')}, ${safe('m.intent')},
				${safe('m.model')}, m.tokens_in, m.tokens_out, m.cost_usd
			from public.messages m
			cross join lateral (select e.external_id from (${list}) e where e.id = m.conversation_id offset 0) e
			where m.bot_id = ${literal(f.bot)}::uuid and m.sent_at >= ${instant(from)} and m.sent_at < ${instant(to)}
			order by m.sent_at, m.id`,
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
		query: (f, _list, from, to) => `
			select e.day, e.day_start, e.messages, e.conversations, e.resolved_conversations,
				e.handed_off_conversations, e.tokens_in, e.tokens_out, e.cost_usd, e.replies, e.failed_replies,
				e.success_rate, e.avg_response_ms, e.p50_response_ms, e.p95_response_ms, e.p99_response_ms
			from public.export_daily_metrics(${literal(f.bot)}::uuid, ${instant(from)}, ${instant(to)}) e`,
		windowed: false
	}
};

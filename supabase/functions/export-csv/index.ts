// GET /functions/v1/export-csv: the dashboard's filters as query parameters, a CSV file back.
// Rows come from the read API's export functions (the ones behind the dashboard's cards and
// charts, so the numbers agree), run as the caller (role authenticated + their JWT claims, as
// PostgREST does), so RLS decides what is exported. Pages are read by keyset inside one
// repeatable-read snapshot, one page per pull of the response stream, so memory stays flat
// and a slow client slows the reads instead of filling memory.
import { z } from 'zod';
import { requireUser } from '../_shared/auth.ts';
import { dedicatedDb } from '../_shared/clients.ts';
import { corsHeaders, preflight } from '../_shared/cors.ts';
import { errorResponse, HttpError } from '../_shared/errors.ts';
import { csvQuote, csvRow, neutralise, utf8Bom } from '../_shared/csv.ts';
import { parseOr400 } from '../_shared/validation.ts';

const day = 86_400_000;
const isoInstant = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);

const filters = z
	.strictObject({
		kind: z.enum(['conversations', 'messages', 'daily']).default('conversations'),
		bot: z.uuid({ message: 'bot must be the id (uuid) of one of your bots' }),
		from: isoInstant.optional(),
		to: isoInstant.optional(),
		status: z.enum(['active', 'completed', 'abandoned', 'handed_off']).optional(),
		channel: z.enum(['web', 'whatsapp', 'messenger', 'telegram', 'slack', 'sms', 'voice', 'api']).optional(),
		search: z.string().min(1).max(200).optional(),
		bom: z.enum(['true', 'false']).default('true')
	})
	.transform((f, ctx) => {
		const to = f.to ? new Date(f.to) : new Date();
		const from = f.from ? new Date(f.from) : new Date(to.getTime() - 30 * day);
		if (from >= to) ctx.addIssue({ code: 'custom', path: ['from'], message: 'from must be before to' });
		if (to.getTime() - from.getTime() > 400 * day) {
			ctx.addIssue({ code: 'custom', path: ['to'], message: 'a range spans at most 400 days' });
		}
		if (f.kind === 'daily') {
			for (const key of ['status', 'channel', 'search'] as const) {
				if (f[key] !== undefined) {
					ctx.addIssue({ code: 'custom', path: [key], message: `${key} does not apply to kind=daily; remove it` });
				}
			}
		}
		return { ...f, from, to };
	});

type Filters = z.infer<typeof filters>;

/** Rows per page: big enough to amortise a round trip, small enough to stay a few MB. */
const pageRows = 10_000;

/** text: written by a bot or its users, so neutralised; plain: numbers, times, enums. */
type Column = [header: string, kind: 'text' | 'plain'];

type Kind = {
	columns: Column[];
	/**
	 * SQL for one page. Timestamps travel as text both ways: postgres.js would turn a
	 * timestamptz parameter into a JS Date and drop the microseconds the keyset needs.
	 */
	page: string;
	params: (f: Filters, after: Keyset | null) => (string | number | null)[];
	/** Whole result in one query (small kinds). */
	single?: boolean;
};
type Keyset = { at: string; id: string };

const ts = (expr: string) => `${expr}::text`;

const kinds: Record<Filters['kind'], Kind> = {
	conversations: {
		columns: [
			['conversation_id', 'text'], ['channel', 'plain'], ['end_user_id', 'text'], ['status', 'plain'],
			['started_at', 'plain'], ['last_message_at', 'plain'], ['ended_at', 'plain'],
			['handed_off_at', 'plain'], ['duration_seconds', 'plain'], ['messages', 'plain'],
			['first_response_ms', 'plain'], ['response_p50_ms', 'plain'], ['response_p95_ms', 'plain'],
			['success_rate', 'plain'], ['tokens_in', 'plain'], ['tokens_out', 'plain'], ['cost_usd', 'plain']
		],
		// The range starts at the last row's time, so every page is an index range, not a rescan.
		page: `select e.external_id, e.channel, e.end_user_id, e.status, ${ts('e.started_at')},
				${ts('e.last_message_at')}, ${ts('e.ended_at')}, ${ts('e.handed_off_at')}, e.duration_seconds,
				e.messages, e.first_response_ms, e.response_p50_ms, e.response_p95_ms, e.success_rate,
				e.tokens_in, e.tokens_out, e.cost_usd, ${ts('e.started_at')}, e.id::text
			from public.export_conversations($1::uuid, $2::text::timestamptz, $3::text::timestamptz, $4, $5,
				$6, $7::text::timestamptz, $8::uuid, $9) e
			order by e.started_at, e.id`,
		params: (f, after) => [
			f.bot, after?.at ?? f.from.toISOString(), f.to.toISOString(), f.status ?? null,
			f.channel ?? null, f.search ?? null, after?.at ?? null, after?.id ?? null, pageRows
		]
	},
	messages: {
		columns: [
			['conversation_id', 'text'], ['message_id', 'text'], ['role', 'plain'], ['content', 'text'],
			['sent_at', 'plain'], ['response_time_ms', 'plain'], ['success', 'plain'], ['error_code', 'text'],
			['intent', 'text'], ['model', 'text'], ['tokens_in', 'plain'], ['tokens_out', 'plain'],
			['cost_usd', 'plain']
		],
		// Status and channel belong to the conversation: a per-row key lookup, only when asked for.
		page: `select e.conversation_external_id, e.external_id, e.role, e.content, ${ts('e.sent_at')},
				e.response_time_ms, e.success, e.error_code, e.intent, e.model, e.tokens_in, e.tokens_out,
				e.cost_usd, ${ts('e.sent_at')}, e.id::text
			from public.export_messages($1::uuid, $2::text::timestamptz, $3::text::timestamptz, null, $4,
				$5::text::timestamptz, $6::bigint, $7) e
			where ($8::text is null and $9::text is null) or exists (
				select 1 from public.conversations c where c.id = e.conversation_id
					and ($8::text is null or c.status = $8) and ($9::text is null or c.channel = $9))`,
		params: (f, after) => [
			f.bot, after?.at ?? f.from.toISOString(), f.to.toISOString(), f.search ?? null,
			after?.at ?? null, after?.id ?? null, pageRows, f.status ?? null, f.channel ?? null
		]
	},
	daily: {
		columns: [
			['day', 'plain'], ['day_start', 'plain'], ['messages', 'plain'], ['conversations', 'plain'],
			['resolved_conversations', 'plain'], ['handed_off_conversations', 'plain'], ['tokens_in', 'plain'],
			['tokens_out', 'plain'], ['cost_usd', 'plain'], ['replies', 'plain'], ['failed_replies', 'plain'],
			['success_rate', 'plain'], ['avg_response_ms', 'plain'], ['p50_response_ms', 'plain'],
			['p95_response_ms', 'plain'], ['p99_response_ms', 'plain']
		],
		page: `select e.day::text, ${ts('e.day_start')}, e.messages, e.conversations, e.resolved_conversations,
				e.handed_off_conversations, e.tokens_in, e.tokens_out, e.cost_usd, e.replies, e.failed_replies,
				e.success_rate, e.avg_response_ms, e.p50_response_ms, e.p95_response_ms, e.p99_response_ms
			from public.export_daily_metrics($1::uuid, $2::timestamptz, $3::timestamptz) e`,
		params: (f) => [f.bot, f.from.toISOString(), f.to.toISOString()],
		single: true
	}
};

const encoder = new TextEncoder();

/** One page of rows as CSV; numbers and times pass as they are, text is neutralised. */
function pageCsv(rows: unknown[][], columns: Column[]): string {
	let out = '';
	for (const row of rows) {
		let line = '';
		for (let i = 0; i < columns.length; i++) {
			const value = row[i];
			if (i > 0) line += ',';
			if (value === null || value === undefined) continue;
			line += columns[i][1] === 'text' ? csvQuote(neutralise(String(value))) : csvQuote(String(value));
		}
		out += line + '\r\n';
	}
	return out;
}

function slug(text: string): string {
	return (
		text
			.normalize('NFKD')
			.toLowerCase()
			.replace(/[^a-z0-9]+/g, '-')
			.replace(/^-+|-+$/g, '')
			.slice(0, 60) || 'bot'
	);
}

function fileName(botName: string, f: Filters): string {
	const d = (t: Date) => t.toISOString().slice(0, 10);
	return `${slug(botName)}-${f.kind}-${d(f.from)}_${d(f.to)}.csv`;
}

async function handle(req: Request): Promise<Response> {
	if (req.method !== 'GET') {
		throw new HttpError(405, 'method_not_allowed', 'Use GET with the filters as query parameters.');
	}
	const caller = await requireUser(req);
	const f = parseOr400(filters, Object.fromEntries(new URL(req.url).searchParams));
	const kind = kinds[f.kind];

	// One connection per export: it lives as long as the download and is ended with it, so a
	// slow or vanished client never holds a pooled connection.
	const conn = dedicatedDb();
	let closed = false;
	const close = (timeout: number) => {
		if (closed) return Promise.resolve();
		closed = true;
		return conn.end({ timeout }).catch((err) => console.error('export-csv: closing db', err));
	};
	// A client that leaves before the body starts never cancels the body stream; the request's
	// signal still tells us, and dropping the connection stops the query.
	if (req.signal.aborted) throw new HttpError(499, 'client_closed', 'The client went away.');
	req.signal.addEventListener('abort', () => void close(0));
	try {
		// One snapshot for every page, so rows arriving meanwhile neither show up half nor twice.
		await conn.unsafe('begin isolation level repeatable read read only');
		await conn`select set_config('role', 'authenticated', true),
			set_config('request.jwt.claims', ${JSON.stringify(caller.claims)}, true),
			-- A sorted plan reads and sorts the whole range before its first row; an index scan in
			-- export order returns the first page at once.
			set_config('enable_sort', 'off', true),
			set_config('enable_bitmapscan', 'off', true),
			-- Those switches work by inflating costs, which would make every page pay for JIT.
			set_config('jit', 'off', true)`;
		// RLS hides other tenants' bots, so "not yours" and "does not exist" look the same.
		const bots = await conn`select name from public.bots where id = ${f.bot}`;
		if (bots.length === 0) {
			throw new HttpError(404, 'bot_not_found', `No bot ${f.bot} among the bots you can see.`);
		}
		const width = kind.columns.length;
		const readPage = async (after: Keyset | null) => {
			const rows = (await conn.unsafe(kind.page, kind.params(f, after)).values()) as unknown[][];
			const last = rows.at(-1);
			const next = kind.single || rows.length < pageRows || !last
				? null
				: { at: String(last[width]), id: String(last[width + 1]) };
			return { csv: pageCsv(rows, kind.columns), next };
		};
		// The first page is read before answering, so a query error is still a proper status.
		let page: { csv: string; next: Keyset | null } | null = await readPage(null);

		const body = new ReadableStream<Uint8Array>(
			{
				start(controller) {
					if (f.bom === 'true') controller.enqueue(utf8Bom);
					controller.enqueue(encoder.encode(csvRow(kind.columns.map(([h]) => h))));
				},
				async pull(controller) {
					try {
						if (page === null) return;
						const current: { csv: string; next: Keyset | null } = page;
						if (current.csv) controller.enqueue(encoder.encode(current.csv));
						if (current.next === null) {
							page = null;
							controller.close();
							await conn.unsafe('commit');
							await close(5);
							return;
						}
						page = await readPage(current.next);
					} catch (err) {
						if (closed) return; // cancelled: the error is our own doing
						console.error('export-csv: stream failed', err);
						controller.error(err);
						await close(0);
					}
				},
				async cancel() {
					// The client went away: dropping the connection stops the query server-side.
					await close(0);
				}
			},
			{ highWaterMark: 1 }
		);

		if (req.signal.aborted) await close(0);
		return new Response(body, {
			headers: {
				...corsHeaders,
				'Content-Type': 'text/csv; charset=utf-8',
				'Content-Disposition': `attachment; filename="${fileName(bots[0].name, f)}"`,
				'Cache-Control': 'no-store'
			}
		});
	} catch (err) {
		const gone = closed;
		await close(0);
		if (gone) throw new HttpError(499, 'client_closed', 'The client went away.');
		throw err;
	}
}

Deno.serve(async (req) => {
	try {
		return preflight(req) ?? (await handle(req));
	} catch (err) {
		return errorResponse(err, 'export-csv');
	}
});

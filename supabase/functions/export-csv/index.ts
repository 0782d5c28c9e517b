// GET /functions/v1/export-csv: the dashboard's filters as query parameters, a CSV file back.
// Rows come from the same SQL functions that feed the dashboard, run as the caller (role
// authenticated + their JWT claims, as PostgREST does), so RLS decides what is exported.
// Postgres formats the rows itself (COPY ... TO STDOUT) and they are streamed on with
// backpressure, so memory stays flat whatever the row count.
import { z } from 'zod';
import { requireUser } from '../_shared/auth.ts';
import { dedicatedDb } from '../_shared/clients.ts';
import { corsHeaders, preflight } from '../_shared/cors.ts';
import { errorResponse, HttpError } from '../_shared/errors.ts';
import { CrlfRecords, sqlNeutralise, utf8Bom } from '../_shared/csv.ts';
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
// COPY takes no bind parameters. Values that validation reduced to a fixed shape (uuid, ISO
// instant, enum) are written into the SQL as literals, so the planner sees real constants and
// picks a streaming plan. The one free-text value (search) travels as a setting of the export's
// own connection, set with a bound parameter, so user text never becomes SQL.
const literal = (value: string) => `'${value.replaceAll("'", "''")}'`;
const search = `current_setting('botflow.export_search')`;
const safe = sqlNeutralise;

function where(f: Filters, alias: { time: string; conv: string; msg?: string }): string {
	const parts = [
		`${alias.time.split('.')[0]}.bot_id = ${literal(f.bot)}::uuid`,
		`${alias.time} >= ${literal(f.from.toISOString())}::timestamptz`,
		`${alias.time} < ${literal(f.to.toISOString())}::timestamptz`
	];
	if (f.status) parts.push(`${alias.conv}.status = ${literal(f.status)}`);
	if (f.channel) parts.push(`${alias.conv}.channel = ${literal(f.channel)}`);
	if (f.search) {
		parts.push(
			alias.msg
				? `${alias.msg}.search_vector @@ websearch_to_tsquery('simple', ${search})`
				: `exists (select 1 from public.messages x where x.conversation_id = c.id and x.bot_id = c.bot_id
					and x.search_vector @@ websearch_to_tsquery('simple', ${search}))`
		);
	}
	return parts.join(' and ');
}

/** What each kind exports. Text cells a bot or end user wrote are neutralised. */
const queries: Record<Filters['kind'], (f: Filters) => string> = {
	conversations: (f) => `
		select ${safe('c.external_id')} as conversation_id, c.channel, ${safe('c.end_user_id')} as end_user_id,
			c.status, c.started_at, c.last_message_at, c.ended_at, c.handed_off_at,
			m.messages, m.user_messages, m.bot_messages, m.failed_replies, m.avg_response_time_ms,
			m.tokens_in, m.tokens_out, m.cost_usd
		from public.conversations c
		cross join lateral (
			select count(*) as messages,
				count(*) filter (where x.role = 'user') as user_messages,
				count(*) filter (where x.role = 'bot') as bot_messages,
				count(*) filter (where x.success = false) as failed_replies,
				round(avg(x.response_time_ms)) as avg_response_time_ms,
				coalesce(sum(x.tokens_in), 0) as tokens_in, coalesce(sum(x.tokens_out), 0) as tokens_out,
				coalesce(sum(x.cost_usd), 0) as cost_usd
			from public.messages x where x.conversation_id = c.id and x.bot_id = c.bot_id
		) m
		where ${where(f, { time: 'c.started_at', conv: 'c' })}
		order by c.started_at, c.id`,
	messages: (f) => `
		select ${safe('c.external_id')} as conversation_id, ${safe('m.external_id')} as message_id, m.role,
			${safe('m.content')} as content, m.sent_at, m.response_time_ms, m.success,
			${safe('m.error_code')} as error_code, ${safe('m.intent')} as intent, ${safe('m.model')} as model,
			m.tokens_in, m.tokens_out, m.cost_usd, c.channel, c.status as conversation_status
		from public.messages m
		join public.conversations c on c.id = m.conversation_id and c.bot_id = m.bot_id
		where ${where(f, { time: 'm.sent_at', conv: 'c', msg: 'm' })}
		order by m.sent_at, m.id`,
	daily: (f) => `
		select d.*
		from public.bot_performance_metrics d
		where ${where(f, { time: 'd.day_start', conv: 'd' })}
		order by d.day`
};

function copySql(f: Filters): string {
	return `copy (${queries[f.kind](f)}) to stdout (format csv, header true)`;
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

/** Batches the one-row chunks Postgres sends into ~64 KiB pieces for the response. */
const pieceBytes = 64 * 1024;

async function handle(req: Request): Promise<Response> {
	if (req.method !== 'GET') {
		throw new HttpError(405, 'method_not_allowed', 'Use GET with the filters as query parameters.');
	}
	const caller = await requireUser(req);
	const f = parseOr400(filters, Object.fromEntries(new URL(req.url).searchParams));

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
		// Session-level settings are safe: nothing else ever runs on this connection.
		await conn`select set_config('role', 'authenticated', false),
			set_config('request.jwt.claims', ${JSON.stringify(caller.claims)}, false),
			set_config('botflow.export_search', ${f.search ?? ''}, false),
			-- A sorted plan reads and sorts every row before the first byte (and spills to disk at
			-- a million rows); an index scan in export order streams from the first row.
			set_config('enable_sort', 'off', false),
			set_config('enable_bitmapscan', 'off', false)`;
		// RLS hides other tenants' bots, so "not yours" and "does not exist" look the same.
		const bots = await conn`select name from public.bots where id = ${f.bot}`;
		if (bots.length === 0) {
			throw new HttpError(404, 'bot_not_found', `No bot ${f.bot} among the bots you can see.`);
		}
		const rows = await conn.unsafe(copySql(f)).readable();
		const chunks = rows[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
		const crlf = new CrlfRecords();

		const body = new ReadableStream<Uint8Array>(
			{
				start(controller) {
					if (f.bom === 'true') controller.enqueue(utf8Bom);
				},
				async pull(controller) {
					try {
						const parts: Uint8Array[] = [];
						let size = 0;
						let done = false;
						while (size < pieceBytes) {
							const next = await chunks.next();
							if (next.done) {
								done = true;
								break;
							}
							parts.push(next.value);
							size += next.value.byteLength;
						}
						if (closed) return;
						if (size > 0) controller.enqueue(crlf.convert(concat(parts, size)));
						if (done) {
							// postgres.js pauses its socket when a push meets a full buffer and resumes it
							// only from _read, which a finished stream no longer gets; without this nudge
							// the closing ReadyForQuery can stay unread and end() would wait for it.
							(rows as unknown as { _read(size: number): void })._read(0);
							controller.close();
							await close(5);
						}
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

function concat(parts: Uint8Array[], size: number): Uint8Array {
	if (parts.length === 1) return parts[0];
	const out = new Uint8Array(size);
	let offset = 0;
	for (const part of parts) {
		out.set(part, offset);
		offset += part.byteLength;
	}
	return out;
}

Deno.serve(async (req) => {
	try {
		return preflight(req) ?? (await handle(req));
	} catch (err) {
		return errorResponse(err, 'export-csv');
	}
});

// GET /functions/v1/export-csv: the dashboard's filters as query parameters, a CSV file back.
// Rows come from the read API's export functions (the ones behind the dashboard's cards and
// charts, so the numbers agree), run as the caller (role authenticated + their JWT claims, as
// PostgREST does), so RLS decides what is exported. Postgres formats the CSV itself
// (COPY ... TO STDOUT), one time window after another inside one repeatable-read snapshot,
// and the bytes stream on with backpressure, so memory stays flat and a slow client slows
// the reads instead of filling memory.
import { z } from 'zod';
import { requireUser } from '../_shared/auth.ts';
import { dedicatedDb } from '../_shared/clients.ts';
import { corsHeaders, preflight } from '../_shared/cors.ts';
import { errorResponse, HttpError } from '../_shared/errors.ts';
import { CrlfRecords, csvRow, sqlNeutralise, utf8Bom } from '../_shared/csv.ts';
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

type Filters = z.infer<typeof filters>;

// The export functions are SQL functions with a fixed search_path, so Postgres runs each call
// to completion before its first row. Reading the range in time windows keeps every call
// small: the first bytes leave early and no call holds a million rows.
const firstWindowMs = 15 * 60_000;
const rowsPerWindow = 20_000;

// COPY takes no bind parameters. Values that validation reduced to a fixed shape (uuid, ISO
// instant, enum) are written as literals; the one free-text value (search) travels as a
// setting of the export's own connection, set with a bound parameter, so user text never
// becomes SQL.
const literal = (value: string) => `'${value.replaceAll("'", "''")}'`;
const instant = (t: Date) => `${literal(t.toISOString())}::timestamptz`;
const search = (f: Filters) => (f.search ? `current_setting('botflow.export_search')` : 'null');
const optional = (value: string | undefined) => (value ? literal(value) : 'null');
const safe = sqlNeutralise;

type Kind = {
	header: string[];
	/** The rows of [from, to) as a query; windowed kinds are read one window at a time. */
	query: (f: Filters, from: Date, to: Date) => string;
	windowed: boolean;
};

const kinds: Record<Filters['kind'], Kind> = {
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
		windowed: true
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
		windowed: true
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

/** How much one pull of the response stream reads ahead (a few buffered COPY messages). */
const pieceBytes = 64 * 1024;

type NodeReadable = {
	read(): Uint8Array | null;
	readableEnded: boolean;
	destroyed: boolean;
	once(event: string, listener: (arg?: unknown) => void): void;
	off(event: string, listener: (arg?: unknown) => void): void;
};

/**
 * Everything the COPY stream holds so far as one buffer (null at its end). Postgres sends a
 * message per row; taking them in bulk instead of one promise per row is most of the speed.
 */
function readBuffered(stream: NodeReadable): Promise<Uint8Array | null> {
	const data = stream.read();
	if (data !== null) return Promise.resolve(data);
	if (stream.readableEnded || stream.destroyed) return Promise.resolve(null);
	return new Promise((resolve, reject) => {
		const settle = () => {
			stream.off('readable', settle);
			stream.off('end', settle);
			stream.off('error', fail);
			resolve(readBuffered(stream));
		};
		const fail = (err?: unknown) => {
			stream.off('readable', settle);
			stream.off('end', settle);
			reject(err);
		};
		stream.once('readable', settle);
		stream.once('end', settle);
		stream.once('error', fail);
	});
}

/** The next window: sized from the last one's row count towards rowsPerWindow. */
function nextWindowMs(lastMs: number, rows: number): number {
	const factor = rows === 0 ? 4 : Math.min(4, Math.max(0.25, rowsPerWindow / rows));
	return Math.max(1000, lastMs * factor);
}

const encoder = new TextEncoder();

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
	const conn = dedicatedDb('export-csv');
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
			set_config('jit', 'off', true),
			-- Times in the file read the same whoever runs the export.
			set_config('TimeZone', 'UTC', true)`;
		// RLS hides other tenants' bots, so "not yours" and "does not exist" look the same.
		const bots = await conn`select name from public.bots where id = ${f.bot}`;
		if (bots.length === 0) {
			throw new HttpError(404, 'bot_not_found', `No bot ${f.bot} among the bots you can see.`);
		}
		if (f.search) await conn`select set_config('botflow.export_search', ${f.search}, true)`;

		type Copy = { next: () => Promise<Uint8Array | null>; nudge: () => void; crlf: CrlfRecords };
		const open = async (from: Date, to: Date): Promise<Copy> => {
			const sql = `copy (${kind.query(f, from, to)}) to stdout (format csv)`;
			const rows = await conn.unsafe(sql).readable();
			return {
				next: () => readBuffered(rows as unknown as NodeReadable),
				// postgres.js pauses its socket when a push meets a full buffer and resumes it only
				// from _read, which a finished stream no longer gets; without this nudge the
				// closing ReadyForQuery can stay unread and the next query would wait forever.
				nudge: () => (rows as unknown as { _read(size: number): void })._read(0),
				crlf: new CrlfRecords()
			};
		};
		let windowMs = kind.windowed ? firstWindowMs : f.to.getTime() - f.from.getTime();
		let windowFrom = f.from;
		const windowTo = () => new Date(Math.min(f.to.getTime(), windowFrom.getTime() + windowMs));
		// The first window opens before answering, so a query error still gets a proper status.
		let copy: Copy | null = await open(windowFrom, windowTo());

		const body = new ReadableStream<Uint8Array>(
			{
				start(controller) {
					if (f.bom === 'true') controller.enqueue(utf8Bom);
					controller.enqueue(encoder.encode(csvRow(kind.header)));
				},
				async pull(controller) {
					try {
						let size = 0;
						while (copy && size < pieceBytes) {
							const next = await copy.next();
							if (next) {
								const piece = copy.crlf.convert(next);
								if (closed) return;
								// Enqueued as they come: gluing pieces together would only copy them again.
								controller.enqueue(piece);
								size += piece.byteLength;
								continue;
							}
							copy.nudge();
							const end = windowTo();
							if (end.getTime() >= f.to.getTime()) {
								copy = null;
								break;
							}
							windowMs = nextWindowMs(end.getTime() - windowFrom.getTime(), copy.crlf.records);
							windowFrom = end;
							copy = await open(windowFrom, windowTo());
						}
						if (closed) return;
						if (!copy) {
							controller.close();
							await conn.unsafe('commit');
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

Deno.serve(async (req) => {
	try {
		return preflight(req) ?? (await handle(req));
	} catch (err) {
		return errorResponse(err, 'export-csv');
	}
});

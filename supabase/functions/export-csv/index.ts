// GET /functions/v1/export-csv: the dashboard's filters as query parameters, a CSV file back.
// Rows come from the conversations list's own statement or the read API (./query.ts), run as
// the caller (role authenticated + their JWT claims, as PostgREST does), so RLS decides.
// Postgres formats the CSV itself (COPY ... TO STDOUT), one time window after another inside
// one repeatable-read snapshot, and the bytes stream on with backpressure, so memory stays flat
// and a slow client slows the reads instead of filling memory.
//
// No export can exhaust the database (defaults; each can be set in the functions' env):
// - exports share a pool of EXPORT_POOL_SIZE (4) connections per isolate; a request that finds
//   them all busy waits up to EXPORT_POOL_WAIT_MS (5 s), then gets 503 with Retry-After;
// - a user runs at most EXPORT_USER_LIMIT (2) exports at once, across isolates (a transaction
//   advisory lock per slot); the next gets 429 with Retry-After;
// - a download the client stops reading for EXPORT_STALL_TIMEOUT_MS (15 s) is cut off: its
//   connection is closed, so Postgres drops its snapshot, and the pool opens a fresh one;
// - the statement_timeout, lock_timeout and idle_in_transaction_session_timeout set on the
//   `authenticated` role apply, as they do through the REST API (each window is one statement).
import { requireUser } from '../_shared/auth.ts';
import { db, dedicatedDb } from '../_shared/clients.ts';
import { corsHeaders, preflight } from '../_shared/cors.ts';
import { csvRow, utf8Bom } from '../_shared/csv.ts';
import { errorResponse, HttpError } from '../_shared/errors.ts';
import { parseOr400 } from '../_shared/validation.ts';
import { firstWindowMs, maxWindowRows, nextWindowMs, openCopy, type Copy } from './copy.ts';
import { ConnectionPool } from './pool.ts';
import { filters, kinds, listSqlArgs, type Filters } from './query.ts';

function setting(name: string, fallback: number): number {
	const value = Number(Deno.env.get(name) ?? fallback);
	return Number.isFinite(value) && value > 0 ? value : fallback;
}
const limits = {
	poolSize: setting('EXPORT_POOL_SIZE', 4),
	poolWaitMs: setting('EXPORT_POOL_WAIT_MS', 5_000),
	perUser: setting('EXPORT_USER_LIMIT', 2),
	stallMs: setting('EXPORT_STALL_TIMEOUT_MS', 15_000)
};
const retryAfterSeconds = 5;

const pool = new ConnectionPool(limits.poolSize, () => dedicatedDb('export-csv'));

/** How much one pull of the response stream reads ahead: one chunk of many COPY rows. */
const pieceBytes = 128 * 1024;
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

/** A query cancelled by statement_timeout (57014) or lock_timeout (55P03). */
const timedOut = (err: unknown) => ['57014', '55P03'].includes((err as { code?: string }).code!);

async function handle(req: Request): Promise<Response> {
	if (req.method !== 'GET') {
		throw new HttpError(405, 'method_not_allowed', 'Use GET with the filters as query parameters.');
	}
	const caller = await requireUser(req);
	const f = parseOr400(filters, Object.fromEntries(new URL(req.url).searchParams));
	const kind = kinds[f.kind];

	const conn = await pool.acquire(limits.poolWaitMs);
	if (!conn) {
		throw new HttpError(
			503,
			'exports_busy',
			`All export connections are busy; retry in ${retryAfterSeconds} s.`,
			{ retry_after: retryAfterSeconds },
			{ 'Retry-After': String(retryAfterSeconds) }
		);
	}
	let released = false;
	let stall: ReturnType<typeof setTimeout> | undefined;
	/** The export's backend, once known. */
	let pid: number | undefined;
	/** Gives the connection back once: reusable after commit or rollback, closed otherwise. */
	const release = (reusable: boolean) => {
		if (released) return;
		released = true;
		clearTimeout(stall);
		if (reusable || pid === undefined) return void pool.release(conn, reusable);
		// A backend blocked writing to a client that stopped reading never notices that client
		// close its end, and keeps its snapshot and slot: it has to be told to stop.
		void db()`select pg_terminate_backend(${pid})`
			.catch((err) => console.error('export-csv: ending the export backend', err))
			.finally(() => pool.release(conn, false));
	};
	// A client that leaves before the body starts never cancels the body stream; the request's
	// signal still tells us, and closing the connection stops the query.
	if (req.signal.aborted) release(false);
	req.signal.addEventListener('abort', () => release(false));

	let copy: Copy | null;
	let windowMs = kind.windowed ? firstWindowMs : f.to.getTime() - f.from.getTime();
	let windowFrom = f.from;
	const windowTo = () => new Date(Math.min(f.to.getTime(), windowFrom.getTime() + windowMs));
	let windowBudgetMs = Infinity;
	/** Shrinks the window from windowFrom until it holds fewer than maxWindowRows raw rows. */
	type Counted = { n: number }[];
	const probe = () =>
		conn.unsafe<Counted>(kind.probe!(f, windowFrom, windowTo(), maxWindowRows)) as Promise<Counted>;
	const fitWindow = async (first?: Promise<Counted>) => {
		for (let i = 0; kind.probe && i < 12 && windowMs > 1000; i++) {
			const [{ n }] = await (i === 0 && first ? first : probe());
			if (n < maxWindowRows) return;
			windowMs = Math.max(1000, windowMs / 4);
		}
	};
	let botName: string;
	let list = '';
	try {
		// The set-up statements go out together (postgres.js pipelines queries on a connection), so
		// the first byte waits for one round trip instead of five. Each waits its turn below; one
		// that fails makes the rest fail too (aborted transaction), and is the one reported.
		const pipelined = <T>(query: Promise<T>) => {
			query.catch(() => {});
			return query;
		};
		// One snapshot for every window, so rows arriving meanwhile neither show up half nor twice.
		const begun = pipelined(conn.unsafe('begin isolation level repeatable read read only'));
		// The user's export slot (held until this transaction ends, however it ends), and the API
		// role's timeouts, which `set role` alone would not apply.
		const slotted = pipelined(conn`select pg_backend_pid() as pid,
			(select s from generate_series(1, ${limits.perUser}::int) s
				where pg_try_advisory_xact_lock(hashtext('export-csv'), hashtext(${caller.claims.sub as string} || '/' || s))
				limit 1) as slot,
			(select count(set_config(split_part(c, '=', 1), substr(c, strpos(c, '=') + 1), true))
				from (select c from pg_db_role_setting d cross join unnest(d.setconfig) c
					where d.setrole = 'authenticated'::regrole
						and d.setdatabase in (0, (select oid from pg_database where datname = current_database()))
						and split_part(c, '=', 1) in ('statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout')
					order by d.setdatabase) r) as timeouts`);
		const roled = pipelined(conn`select set_config('role', 'authenticated', true),
			set_config('request.jwt.claims', ${JSON.stringify(caller.claims)}, true),
			-- A sorted plan reads and sorts the whole range before its first row; an index scan in
			-- export order returns the first page at once.
			set_config('enable_sort', 'off', true),
			set_config('enable_bitmapscan', 'off', true),
			-- Those switches work by inflating costs, which would make every page pay for JIT.
			set_config('jit', 'off', true),
			-- Times in the file read the same whoever runs the export.
			set_config('TimeZone', 'UTC', true),
			(select setting::int from pg_settings where name = 'statement_timeout') as timeout_ms`);
		// RLS hides other tenants' bots, so "not yours" and "does not exist" look the same.
		const botRows = pipelined(conn`select name from public.bots where id = ${f.bot}`);
		// The list's statement, its values quoted by the database (they never become SQL here).
		const a = listSqlArgs(f);
		const listed =
			f.kind === 'daily'
				? null
				: pipelined(conn`select private.explorer_sql(${a.bot}::uuid, ${a.from}::timestamptz,
					${a.to}::timestamptz, ${a.by}::text, ${a.search}::text, ${a.status}::text, ${a.channel}::text,
					${a.intent}::text, ${a.handoff}::boolean, ${a.minDuration}::numeric, ${a.maxDuration}::numeric,
					${a.minResponse}::numeric, ${a.maxResponse}::numeric) as sql`);
		const firstProbe = kind.probe ? pipelined(probe()) : undefined;
		await begun;
		const [row] = await slotted;
		pid = row.pid;
		if (row.slot === null) {
			throw new HttpError(
				429,
				'too_many_exports',
				`You already have ${limits.perUser} exports running; wait for one to finish and retry in ${retryAfterSeconds} s.`,
				{ retry_after: retryAfterSeconds, max_concurrent: limits.perUser },
				{ 'Retry-After': String(retryAfterSeconds) }
			);
		}
		const [{ timeout_ms }] = await roled;
		// A quarter of the statement timeout per window leaves room for a burst of rows.
		if (timeout_ms > 0) windowBudgetMs = timeout_ms / 4;
		const bots = await botRows;
		if (bots.length === 0) {
			throw new HttpError(404, 'bot_not_found', `No bot ${f.bot} among the bots you can see.`);
		}
		botName = bots[0].name;
		if (listed) list = (await listed)[0].sql;
		// The first window opens before answering, so a query error still gets a proper status.
		await fitWindow(firstProbe);
		copy = await openCopy(conn, kind.query(f, list, windowFrom, windowTo()));
	} catch (err) {
		if (released) throw new HttpError(499, 'client_closed', 'The client went away.');
		// Nothing was streamed yet: rolling back frees the slot and keeps the connection usable.
		release(
			await conn.unsafe('rollback').then(
				() => true,
				() => false
			)
		);
		if (timedOut(err)) {
			throw new HttpError(
				503,
				'export_timeout',
				'The export took longer than the database allows; narrow the date range or filters.'
			);
		}
		throw err;
	}

	// A client that stops reading holds the snapshot: cut it off after a while.
	let stream: ReadableStreamDefaultController<Uint8Array>;
	const armStall = () => {
		stall = setTimeout(() => {
			if (released) return;
			console.warn(`export-csv: no read for ${limits.stallMs} ms; download cut off`);
			stream.error(new Error('download stalled'));
			release(false);
		}, limits.stallMs);
	};
	const body = new ReadableStream<Uint8Array>(
		{
			start(controller) {
				stream = controller;
				if (f.bom === 'true') controller.enqueue(utf8Bom);
				controller.enqueue(encoder.encode(csvRow(kind.header)));
				armStall();
			},
			async pull(controller) {
				clearTimeout(stall);
				try {
					let size = 0;
					while (copy && size < pieceBytes) {
						const piece = await copy.next(pieceBytes - size);
						if (released) return;
						if (piece) {
							controller.enqueue(piece);
							size += piece.byteLength;
							continue;
						}
						copy.finish();
						const end = windowTo();
						if (end.getTime() >= f.to.getTime()) {
							copy = null;
							break;
						}
						const took = performance.now() - copy.startedAt;
						windowMs = nextWindowMs(
							end.getTime() - windowFrom.getTime(),
							copy.records(),
							took,
							windowBudgetMs
						);
						windowFrom = end;
						await fitWindow();
						copy = await openCopy(conn, kind.query(f, list, windowFrom, windowTo()));
					}
					if (released) return;
					if (copy) return void armStall();
					// The transaction ends before the download does, so a finished download holds nothing.
					await conn.unsafe('commit');
					release(true);
					controller.close();
				} catch (err) {
					if (released) return; // cut off or cancelled: the error is our own doing
					console.error('export-csv: stream failed', err);
					controller.error(err);
					release(false);
				}
			},
			cancel() {
				// The client went away: closing the connection stops the query server-side.
				release(false);
			}
		},
		{ highWaterMark: 1 }
	);

	return new Response(body, {
		headers: {
			...corsHeaders,
			'Content-Type': 'text/csv; charset=utf-8',
			'Content-Disposition': `attachment; filename="${fileName(botName, f)}"`,
			'Cache-Control': 'no-store'
		}
	});
}

Deno.serve(async (req) => {
	try {
		return preflight(req) ?? (await handle(req));
	} catch (err) {
		return errorResponse(err, 'export-csv');
	}
});

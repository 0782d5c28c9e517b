// POST /functions/v1/ingest: a bot sends a batch of conversation events with its API key.
// verify_jwt is off: the key, not a user JWT, authenticates.
//
// Request: `Authorization: Bearer bf_live_...`, body `{"events": [...]}` (at most 1,000 events
// and 1 MiB; the contract is in ./schema.ts). Answer 200:
// `{accepted, duplicate, rejected, results: [{index, status, reason?, path?}]}`; an event whose
// value is out of bounds or whose timestamp is off is `rejected` with the reason, the others
// are written. Errors: 400 (invalid JSON, or a malformed event: field paths listed), 401
// (unknown or revoked key, whatever the body), 413 (too big), 429 (over the bot's rate, with
// Retry-After; nothing of that batch is written).
//
// Cheapest question first: the key (and one request from the rate limit) is checked before the
// body is read, so a bad key or a bot over its rate costs one indexed lookup.
//
// Rate limit: per bot, shared by all its keys, counted in requests and in events. Defaults: 50
// requests/s (bursts of 100), so a bot sending each message as it happens keeps up at 50
// messages/s; and 2,000 events/s (bursts of 10,000), so a batching client sends two full
// batches a second. Set per bot in private.ingest_rate_limits (see the ingest migration).
import { bearer, db } from '../_shared/clients.ts';
import { preflight } from '../_shared/cors.ts';
import { errorResponse, HttpError, json } from '../_shared/errors.ts';
import { invalidRequest, parseJson, parseOr400, readTextLimited } from '../_shared/validation.ts';
import {
	batch,
	checkEvents,
	maxBytes,
	maxEvents,
	timeProblem,
	type IngestEvent
} from './schema.ts';

type Result = {
	index: number;
	status: 'accepted' | 'duplicate' | 'rejected';
	reason?: string;
	path?: string;
};

async function sha256Hex(text: string): Promise<string> {
	const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
	return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

type Refusal = { error: 'invalid_key' } | { error: 'rate_limited'; retry_after: number };
type Admission = Refusal | { bot_id: string; retention_days: number };
/** `accepted`: the indexes of the events written; every other valid event was a duplicate. */
type Written = Refusal | { accepted: number[] };

function refuse(answer: Refusal): never {
	if (answer.error === 'rate_limited') throw rateLimited(answer.retry_after);
	throw new HttpError(
		401,
		'invalid_api_key',
		'The API key is unknown or revoked; create a new key in the bot settings.'
	);
}

function rateLimited(retryAfter: number): HttpError {
	const seconds = Math.max(1, Math.ceil(retryAfter));
	return new HttpError(
		429,
		'rate_limited',
		`This bot is over its ingest rate (requests and events per second, shared by all its API keys); retry after ${seconds} s.`,
		{ retry_after: seconds },
		{ 'Retry-After': String(seconds) }
	);
}

/** Writes the batch; the event debit comes last in SQL and refuses with SQLSTATE BF429. */
async function write(keyHash: string, valid: unknown[], eventCount: number): Promise<Written> {
	try {
		const [row] = await db()`select private.ingest_events(${keyHash}, ${db().json(
			valid as never
		)}, ${eventCount}) as answer`;
		return row.answer as Written;
	} catch (err) {
		const pg = err as { code?: string; detail?: string };
		if (pg.code !== 'BF429') throw err;
		return { error: 'rate_limited', retry_after: JSON.parse(pg.detail ?? '{}').retry_after ?? 1 };
	}
}

async function handle(req: Request): Promise<Response> {
	if (req.method !== 'POST') {
		throw new HttpError(405, 'method_not_allowed', 'Use POST with a JSON body {"events": [...]}.');
	}
	const key = bearer(req);
	if (!key) {
		throw new HttpError(
			401,
			'missing_api_key',
			'Send the bot API key as "Authorization: Bearer <key>".'
		);
	}
	const keyHash = await sha256Hex(key);
	const [admitted] = await db()`select private.ingest_admit(${keyHash}) as answer`;
	const admission = admitted.answer as Admission;
	if ('error' in admission) refuse(admission);

	const body = parseJson(await readTextLimited(req, maxBytes));
	// Count before validating, so an oversized batch costs no schema work.
	const count = (body as { events?: unknown })?.events;
	if (Array.isArray(count) && count.length > maxEvents) {
		throw new HttpError(
			413,
			'too_many_events',
			`A batch holds at most ${maxEvents} events; this one has ${count.length}. Split it.`,
			{ max_events: maxEvents }
		);
	}
	const { events } = parseOr400(batch, body);
	const checked = checkEvents(events);
	if (checked.malformed.length > 0) throw invalidRequest(checked.malformed);

	const now = Date.now();
	const results: Result[] = new Array(events.length);
	for (const r of checked.rejected) results[r.index] = { ...r, status: 'rejected' };
	const valid: (IngestEvent & { i: number })[] = [];
	for (const e of checked.valid) {
		const problem = timeProblem(e.timestamp, now, admission.retention_days);
		const path = `events[${e.i}].timestamp`;
		if (problem) results[e.i] = { index: e.i, status: 'rejected', path, reason: problem };
		else valid.push(e);
	}

	const answer = await write(keyHash, valid, events.length);
	if ('error' in answer) refuse(answer);
	const accepted = new Set(answer.accepted);
	for (const e of valid)
		results[e.i] = { index: e.i, status: accepted.has(e.i) ? 'accepted' : 'duplicate' };

	const totals = { accepted: 0, duplicate: 0, rejected: 0 };
	for (const r of results) totals[r.status]++;
	return json({ ...totals, results });
}

Deno.serve(async (req) => {
	try {
		return preflight(req) ?? (await handle(req));
	} catch (err) {
		return errorResponse(err, 'ingest');
	}
});

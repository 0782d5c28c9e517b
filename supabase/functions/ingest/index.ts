// POST /functions/v1/ingest: a bot sends a batch of conversation events with its API key.
// verify_jwt is off: the key, not a user JWT, authenticates. The whole batch is written by one
// SQL call (private.ingest_events), which also checks the key, the key's rate and idempotency.
//
// Request: `Authorization: Bearer bf_live_...`, body `{"events": [...]}` (at most 1,000 events
// and 1 MiB). Answer 200: `{accepted, duplicate, rejected, results: [{index, status, reason?}]}`.
// Errors: 400 (invalid JSON or schema, with field paths), 401 (unknown or revoked key), 413
// (too big), 429 (over the key's rate, with Retry-After).
import { z } from 'zod';
import { bearer, db } from '../_shared/clients.ts';
import { preflight } from '../_shared/cors.ts';
import { errorResponse, HttpError, json } from '../_shared/errors.ts';
import { parseJson, parseOr400, readTextLimited } from '../_shared/validation.ts';

const maxEvents = 1000;
const maxBytes = 1024 * 1024;
/** Bot clocks drift; beyond this an event "from the future" is a bug on the bot's side. */
const futureSkewMs = 5 * 60 * 1000;
/** Older events would reopen long-closed rollups and may already be past raw retention. */
const maxAgeMs = 30 * 24 * 60 * 60 * 1000;

/** Text Postgres can store: it refuses the NUL character, which would fail the whole batch. */
const text = () =>
	z.string().refine((v) => !v.includes('\u0000'), 'contains a NUL character (\\u0000); remove it');
const externalId = text().trim().min(1).max(200);
const channel = z.enum([
	'web',
	'whatsapp',
	'messenger',
	'telegram',
	'slack',
	'sms',
	'voice',
	'api'
]);
const timestamp = z.iso.datetime({ offset: true });
const base = { conversation_id: externalId, timestamp };

const messageEvent = z
	.strictObject({
		type: z.literal('message'),
		...base,
		message_id: externalId,
		role: z.enum(['user', 'bot', 'agent', 'system']),
		content: text().max(32_768),
		response_time_ms: z.number().int().min(0).max(86_400_000).optional(),
		success: z.boolean().optional(),
		error_code: text().min(1).max(100).optional(),
		intent: text().min(1).max(100).optional(),
		tokens_in: z.number().int().min(0).max(2_147_483_647).optional(),
		tokens_out: z.number().int().min(0).max(2_147_483_647).optional(),
		cost_usd: z.number().min(0).max(99_999_999).optional(),
		model: text().min(1).max(100).optional(),
		channel: channel.optional(),
		end_user_id: text().max(200).optional()
	})
	.refine((e) => !(e.success === true && e.error_code !== undefined), {
		path: ['success'],
		message: 'success is true but error_code is set; send success: false with the error_code'
	})
	// An error code alone means the reply failed.
	.transform((e) => (e.error_code !== undefined ? { ...e, success: false } : e));

const conversationStarted = z.strictObject({
	type: z.literal('conversation_started'),
	...base,
	channel: channel.optional(),
	end_user_id: text().max(200).optional()
});

const conversationEnded = z.strictObject({
	type: z.literal('conversation_ended'),
	...base,
	status: z.enum(['completed', 'abandoned']).default('completed')
});

const conversationHandedOff = z.strictObject({
	type: z.literal('conversation_handed_off'),
	...base,
	reason: text().max(2_000).optional()
});

const event = z.discriminatedUnion('type', [
	messageEvent,
	conversationStarted,
	conversationEnded,
	conversationHandedOff
]);

const batch = z.strictObject({ events: z.array(event).min(1) });

export type IngestEvent = z.infer<typeof event>;
type Result = { index: number; status: 'accepted' | 'duplicate' | 'rejected'; reason?: string };

/** Time checks are per event: one bad clock reading should not lose the rest of the batch. */
function timeProblem(ts: string, now: number): string | null {
	const t = Date.parse(ts);
	if (t > now + futureSkewMs) {
		return `timestamp is more than ${futureSkewMs / 60_000} minutes in the future; check the bot's clock`;
	}
	if (t < now - maxAgeMs) {
		return `timestamp is more than ${maxAgeMs / 86_400_000} days in the past; such events are not accepted`;
	}
	return null;
}

async function sha256Hex(text: string): Promise<string> {
	const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
	return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

type SqlAnswer =
	| { error: 'invalid_key' }
	| { error: 'rate_limited'; retry_after: number }
	| { results: { i: number; s: 'accepted' | 'duplicate' }[] };

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

	const now = Date.now();
	const results: Result[] = new Array(events.length);
	const valid: (IngestEvent & { i: number })[] = [];
	events.forEach((e, index) => {
		const problem = timeProblem(e.timestamp, now);
		if (problem) results[index] = { index, status: 'rejected', reason: problem };
		else valid.push({ ...e, i: index });
	});

	const [row] = await db()`select private.ingest_events(${await sha256Hex(key)}, ${db().json(
		valid as never
	)}) as answer`;
	const answer = row.answer as SqlAnswer;
	if ('error' in answer) {
		if (answer.error === 'rate_limited') {
			const seconds = Math.max(1, Math.ceil(answer.retry_after));
			throw new HttpError(
				429,
				'rate_limited',
				`This API key exceeded its request rate; retry after ${seconds} s.`,
				{ retry_after: seconds },
				{ 'Retry-After': String(seconds) }
			);
		}
		throw new HttpError(
			401,
			'invalid_api_key',
			'The API key is unknown or revoked; create a new key in the bot settings.'
		);
	}
	for (const r of answer.results) results[r.i] = { index: r.i, status: r.s };

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

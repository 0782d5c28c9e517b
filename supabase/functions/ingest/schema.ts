// The ingest contract: what a batch and each event may hold. Bounds match the CHECK constraints
// of the raw tables (conversations, messages), so a valid event always fits the database and the
// rollups; ingest refuses anything beyond them itself, per event, with the field's path.
import { z } from 'zod';
import { Constants, type Enums } from '../_shared/database.types.ts';
import { formatPath, type FieldIssue } from '../_shared/validation.ts';

export const maxEvents = 1000;
export const maxBytes = 1024 * 1024;
/** Bot clocks drift; beyond this an event "from the future" is a bug on the bot's side. */
export const futureSkewMs = 5 * 60 * 1000;
/** Older events would reopen long-closed rollups and may already be past raw retention. */
export const maxAgeMs = 30 * 24 * 60 * 60 * 1000;

/**
 * Text Postgres can store. It refuses the NUL character, and a lone UTF-16 surrogate (JSON
 * allows `"\ud800"`) has no UTF-8 form; either would otherwise fail the whole batch.
 */
const text = () =>
	z
		.string()
		.refine((v) => !v.includes('\u0000'), 'contains a NUL character (\\u0000); remove it')
		.refine(
			(v) => v.isWellFormed(),
			'contains a lone surrogate (e.g. \\ud800), which is not valid Unicode; send well-formed text'
		);
const externalId = text().trim().min(1).max(200);
// The enumerations come from the database's enum types, so the contract cannot drift from them.
const channel = z.enum(Constants.public.Enums.channel);
const timestamp = z.iso.datetime({ offset: true });
const base = { conversation_id: externalId, timestamp };

const messageEvent = z
	.strictObject({
		type: z.literal('message'),
		...base,
		message_id: externalId,
		role: z.enum(Constants.public.Enums.message_role),
		content: text().max(32_768),
		response_time_ms: z.number().int().min(0).max(86_400_000).optional(),
		success: z.boolean().optional(),
		error_code: text().min(1).max(100).optional(),
		intent: text().min(1).max(100).optional(),
		tokens_in: z.number().int().min(0).max(10_000_000).optional(),
		tokens_out: z.number().int().min(0).max(10_000_000).optional(),
		// US dollars for this one message; more is a unit mistake (cents, micro-dollars).
		cost_usd: z.number().min(0).max(1000).optional(),
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
	// The two ways a conversation ends (handoff has its own event; active is not an end).
	status: z
		.enum(['completed', 'abandoned'] as const satisfies readonly Enums<'conversation_status'>[])
		.default('completed')
});

const conversationHandedOff = z.strictObject({
	type: z.literal('conversation_handed_off'),
	...base,
	reason: text().max(2_000).optional()
});

export const event = z.discriminatedUnion('type', [
	messageEvent,
	conversationStarted,
	conversationEnded,
	conversationHandedOff
]);

/** The envelope; each event is validated on its own (see `checkEvents`). */
export const batch = z.strictObject({ events: z.array(z.unknown()).min(1) });

export type IngestEvent = z.infer<typeof event>;

/** An event refused on its own, the rest of the batch going ahead. */
export type Rejection = { index: number; path: string; reason: string };

/**
 * A value out of its bounds (a number or length past its limit, text Postgres cannot store) is
 * the event's problem: that event is rejected, the others are written. A malformed event (wrong
 * type, unknown field, missing field, unknown enum value) is the client's bug: the whole batch
 * is refused with 400, as it would be refused again on every retry.
 */
const valueProblems = new Set(['too_big', 'too_small', 'custom']);

export function checkEvents(raw: unknown[]): {
	valid: (IngestEvent & { i: number })[];
	rejected: Rejection[];
	malformed: FieldIssue[];
} {
	const valid: (IngestEvent & { i: number })[] = [];
	const rejected: Rejection[] = [];
	const malformed: FieldIssue[] = [];
	raw.forEach((input, i) => {
		const result = event.safeParse(input);
		if (result.success) return void valid.push({ ...result.data, i });
		const issues = result.error.issues;
		const where = (path: readonly PropertyKey[]) => formatPath(['events', i, ...path]);
		if (issues.every((issue) => valueProblems.has(issue.code))) {
			const path = where(issues[0].path);
			rejected.push({ index: i, path, reason: `${path}: ${issues[0].message}` });
			return;
		}
		for (const issue of issues) {
			// Unknown keys are reported on the parent object; point at each key itself instead.
			if (issue.code === 'unrecognized_keys') {
				for (const key of issue.keys)
					malformed.push({
						path: where([...issue.path, key]),
						message: 'unknown field; remove it'
					});
			} else malformed.push({ path: where(issue.path), message: issue.message });
		}
	});
	return { valid, rejected, malformed };
}

/**
 * Time checks are per event: one bad clock reading should not lose the rest of the batch.
 * An organization keeping raw events fewer days than `maxAgeMs` accepts them only while their
 * whole hour is still kept: an hour that retention has begun to delete would be recomputed from
 * what is left of it, and lose the counts of what went.
 */
export function timeProblem(ts: string, now: number, retentionDays?: number): string | null {
	const t = Date.parse(ts);
	if (t > now + futureSkewMs) {
		return `timestamp is more than ${futureSkewMs / 60_000} minutes in the future; check the bot's clock`;
	}
	if (t < now - maxAgeMs) {
		return `timestamp is more than ${maxAgeMs / 86_400_000} days in the past; such events are not accepted`;
	}
	if (retentionDays !== undefined && t < now - retentionDays * 86_400_000 + 3_600_000) {
		return `timestamp is beyond your organization's retention of raw events (${retentionDays} days, less an hour); such events are not accepted`;
	}
	return null;
}

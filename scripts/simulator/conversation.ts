// One conversation, planned ahead as timed events in the ingest schema: the user asks, the bot
// answers after its model's response time, and the conversation ends resolved, failed, handed
// off or abandoned. Pure: the same persona, start and random stream give the same events.
import type { Enums } from '../../src/lib/database.types.ts';
import { models, reply, type Model } from './models.ts';
import { closings, handoffReasons, type Channel, type Outcome, type Persona } from './personas.ts';
import type { Random } from './random.ts';

/** The events of the ingest function's schema (supabase/functions/ingest/index.ts). */
export type IngestEvent =
	| {
			type: 'conversation_started';
			conversation_id: string;
			timestamp: string;
			channel?: Channel;
			end_user_id?: string;
	  }
	| {
			type: 'message';
			conversation_id: string;
			message_id: string;
			timestamp: string;
			role: Enums<'message_role'>;
			content: string;
			response_time_ms?: number;
			success?: boolean;
			error_code?: string;
			intent?: string;
			model?: string;
			tokens_in?: number;
			tokens_out?: number;
			cost_usd?: number;
	  }
	| {
			type: 'conversation_ended';
			conversation_id: string;
			timestamp: string;
			status: 'completed' | 'abandoned';
	  }
	| {
			type: 'conversation_handed_off';
			conversation_id: string;
			timestamp: string;
			reason?: string;
	  };

export interface TimedEvent {
	/** When it happens (ms since epoch): live mode sends it then. */
	at: number;
	event: IngestEvent;
}

export interface PlannedConversation {
	id: string;
	outcome: Outcome;
	events: TimedEvent[];
}

export interface BotProfile {
	channel: Channel;
	persona: Persona;
}

/** After this much silence a chat counts as abandoned and the bot closes it. */
const idleTimeoutMs = { min: 90_000, max: 240_000 };
/** A user whose question failed retries with this probability, else gives up. */
const retryAfterFailure = 0.5;

/** Fills `{n}` and `{item}` with one draw, so the answer names what the question named. */
function fill(texts: [string, string], rng: Random, items: string[]): [string, string] {
	const n = String(rng.int(100, 99_999));
	const item = rng.pick(items);
	return texts.map((t) => t.replace(/\{n\}/g, n).replace(/\{item\}/g, item)) as [string, string];
}

/** Tokens a model reads for text: about four characters a token. */
const tokensOf = (text: string) => Math.ceil(text.length / 4);

export function planConversation(
	id: string,
	bot: BotProfile,
	startMs: number,
	rng: Random
): PlannedConversation {
	const { persona } = bot;
	const model: Model = models[rng.weighted(persona.models)];
	const channel = rng.weighted<Channel>([[bot.channel, 1], ...persona.otherChannels]);
	const topic = rng.weighted(persona.topics.map((t) => [t, t.weight] as const));
	const planned = rng.weighted(persona.outcomes);
	const turns = rng.int(persona.minTurns, persona.maxTurns);

	const events: TimedEvent[] = [];
	let seq = 0;
	let t = startMs;
	let context = persona.promptTokens;
	const at = (ms: number) => new Date(ms).toISOString();
	const message = (
		role: Exclude<Enums<'message_role'>, 'system'>,
		content: string,
		extra: Partial<Extract<IngestEvent, { type: 'message' }>> = {}
	) => {
		events.push({
			at: t,
			event: {
				type: 'message',
				conversation_id: id,
				message_id: `${id}-m${++seq}`,
				timestamp: at(t),
				role,
				content,
				...extra
			}
		});
		context += tokensOf(content);
	};
	/** The bot answers `answer`; returns false when the call failed. */
	const botReply = (answer: string, intent: string): boolean => {
		const r = reply(model, rng, context, answer.length);
		t += r.responseTimeMs;
		const usage = model.usesTokens
			? { model: model.name, tokens_in: r.tokensIn, tokens_out: r.tokensOut, cost_usd: r.costUsd }
			: {};
		if (r.errorCode) {
			message('bot', 'Sorry, something went wrong on my side. Please try again.', {
				response_time_ms: r.responseTimeMs,
				success: false,
				error_code: r.errorCode,
				intent,
				...usage
			});
			return false;
		}
		message('bot', answer, { response_time_ms: r.responseTimeMs, success: true, intent, ...usage });
		return true;
	};
	const think = () => {
		t += Math.round(Math.min(300_000, rng.logNormal(persona.thinkSeconds * 1000, 0.6)));
	};

	events.push({
		at: t,
		event: {
			type: 'conversation_started',
			conversation_id: id,
			timestamp: at(t),
			channel,
			end_user_id: `${persona.id}-user-${rng.int(1, 5000)}`
		}
	});
	t += rng.int(300, 3000);

	// Follow-up questions in a random order, so a long chat does not repeat itself.
	const followUps = [...persona.followUps];
	for (let i = followUps.length - 1; i > 0; i--) {
		const j = rng.int(0, i);
		[followUps[i], followUps[j]] = [followUps[j], followUps[i]];
	}
	let outcome: Outcome = planned;
	for (let turn = 0; turn < turns; turn++) {
		if (turn > 0) think();
		const [ask, answer] =
			turn === 0
				? [rng.pick(topic.asks), rng.pick(topic.answers)]
				: followUps[(turn - 1) % followUps.length];
		const [question, said] = fill([ask, answer], rng, persona.items);
		message('user', question, { intent: topic.intent });
		if (!botReply(said, topic.intent)) {
			if (!rng.chance(retryAfterFailure)) {
				outcome = 'failed';
				break;
			}
			turn--; // the user asks the same thing again
			if (events.length > 60) break; // a run of failures ends somewhere
		}
	}

	if (outcome === 'resolved') {
		think();
		message('user', rng.pick(closings), { intent: 'thanks' });
		if (botReply('You are welcome! Anything else, just ask.', 'thanks')) {
			t += rng.int(2000, 20_000);
			events.push({
				at: t,
				event: {
					type: 'conversation_ended',
					conversation_id: id,
					timestamp: at(t),
					status: 'completed'
				}
			});
		} else {
			outcome = 'failed';
		}
	}
	if (outcome === 'handed_off') {
		think();
		message('user', 'Can I talk to a person, please?', { intent: 'human_handoff' });
		botReply('Of course, I am connecting you with a colleague.', 'human_handoff');
		t += rng.int(500, 3000);
		events.push({
			at: t,
			event: {
				type: 'conversation_handed_off',
				conversation_id: id,
				timestamp: at(t),
				reason: rng.pick(handoffReasons)
			}
		});
		t += rng.int(20_000, 120_000);
		message('agent', 'Hi, this is Sam from the team. I have read the chat; let me sort this out.');
	}
	if (outcome === 'abandoned' || outcome === 'failed') {
		// Nobody answers any more: the bot closes the chat after its idle timeout.
		t += rng.int(idleTimeoutMs.min, idleTimeoutMs.max);
		events.push({
			at: t,
			event: {
				type: 'conversation_ended',
				conversation_id: id,
				timestamp: at(t),
				status: 'abandoned'
			}
		});
	}
	return { id, outcome, events };
}

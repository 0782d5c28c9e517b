// The models the simulated bots answer with: how fast they reply, how often they fail and what
// their tokens cost. Prices are list prices in USD per million tokens (late 2025), so the
// dashboard's cost cards show believable figures.
import type { Random } from './random.ts';

export interface Model {
	name: string;
	/** Median reply time in ms and the spread of its log-normal tail. */
	latencyMedianMs: number;
	latencySigma: number;
	/** Share of replies that fail (timeouts, upstream errors). */
	errorRate: number;
	/** USD per million tokens; zero for rule-based bots, which report no tokens. */
	inputPerMillion: number;
	outputPerMillion: number;
	/** Rule-based bots send no model, tokens or cost. */
	usesTokens: boolean;
}

export const models = {
	'gpt-4o-mini': {
		name: 'gpt-4o-mini',
		latencyMedianMs: 900,
		latencySigma: 0.45,
		errorRate: 0.02,
		inputPerMillion: 0.15,
		outputPerMillion: 0.6,
		usesTokens: true
	},
	'gpt-4o': {
		name: 'gpt-4o',
		latencyMedianMs: 1900,
		latencySigma: 0.5,
		errorRate: 0.025,
		inputPerMillion: 2.5,
		outputPerMillion: 10,
		usesTokens: true
	},
	'claude-3-5-haiku': {
		name: 'claude-3-5-haiku',
		latencyMedianMs: 1100,
		latencySigma: 0.4,
		errorRate: 0.02,
		inputPerMillion: 0.8,
		outputPerMillion: 4,
		usesTokens: true
	},
	'claude-sonnet-4': {
		name: 'claude-sonnet-4',
		latencyMedianMs: 3200,
		latencySigma: 0.55,
		errorRate: 0.03,
		inputPerMillion: 3,
		outputPerMillion: 15,
		usesTokens: true
	},
	'llama-3.1-8b': {
		name: 'llama-3.1-8b',
		latencyMedianMs: 450,
		latencySigma: 0.35,
		errorRate: 0.04,
		inputPerMillion: 0.05,
		outputPerMillion: 0.08,
		usesTokens: true
	},
	'rules-v2': {
		name: 'rules-v2',
		latencyMedianMs: 140,
		latencySigma: 0.3,
		errorRate: 0.01,
		inputPerMillion: 0,
		outputPerMillion: 0,
		usesTokens: false
	}
} satisfies Record<string, Model>;

export type ModelName = keyof typeof models;

/** A timed-out call is reported at the bot's timeout, as a real bot would measure it. */
const timeoutMs = 30_000;
const errorCodes = [
	['llm_timeout', 5],
	['upstream_error', 3],
	['content_filter', 1]
] as const;

export interface Reply {
	responseTimeMs: number;
	errorCode?: string;
	tokensIn: number;
	tokensOut: number;
	costUsd: number;
}

/**
 * One reply of `model`: `contextTokens` is what the model reads (the conversation so far plus
 * the system prompt), `answerChars` the length of the answer it writes.
 */
export function reply(
	model: Model,
	rng: Random,
	contextTokens: number,
	answerChars: number
): Reply {
	if (rng.chance(model.errorRate)) {
		const errorCode = rng.weighted(errorCodes);
		const responseTimeMs =
			errorCode === 'llm_timeout' ? timeoutMs : Math.round(rng.logNormal(600, 0.5));
		// A failed call is still billed for what the model read.
		const tokensIn = model.usesTokens ? contextTokens : 0;
		return { responseTimeMs, errorCode, tokensIn, tokensOut: 0, costUsd: cost(model, tokensIn, 0) };
	}
	const tokensOut = model.usesTokens ? Math.max(8, Math.round(answerChars / 4)) : 0;
	const tokensIn = model.usesTokens ? contextTokens : 0;
	// Longer answers take longer to stream: about 60 tokens/s after the first token.
	const responseTimeMs = Math.round(
		Math.min(
			timeoutMs - 1,
			rng.logNormal(model.latencyMedianMs, model.latencySigma) + tokensOut * 16
		)
	);
	return { responseTimeMs, tokensIn, tokensOut, costUsd: cost(model, tokensIn, tokensOut) };
}

export function cost(model: Model, tokensIn: number, tokensOut: number): number {
	const usd = (tokensIn * model.inputPerMillion + tokensOut * model.outputPerMillion) / 1e6;
	// Six decimals: the precision the messages table stores.
	return Math.round(usd * 1e6) / 1e6;
}

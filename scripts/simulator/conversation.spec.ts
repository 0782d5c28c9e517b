import { describe, expect, it } from 'vitest';
import { planConversation, type IngestEvent } from './conversation.ts';
import { cost, models } from './models.ts';
import { personas } from './personas.ts';
import { Random } from './random.ts';

const start = Date.parse('2026-11-30T12:00:00Z');
const plans = (personaId: string, n: number, seed = 's') => {
	const persona = personas.find((p) => p.id === personaId)!;
	const rng = new Random(seed);
	return Array.from({ length: n }, (_, i) =>
		planConversation(
			`c${i}`,
			{ channel: persona.defaultChannel, persona },
			start,
			rng.fork(`c${i}`)
		)
	);
};
type Message = Extract<IngestEvent, { type: 'message' }>;

describe('a planned conversation', () => {
	it('is the same for the same seed', () => {
		expect(plans('support', 5, 'x')).toEqual(plans('support', 5, 'x'));
		expect(plans('support', 5, 'x')).not.toEqual(plans('support', 5, 'y'));
	});

	it('starts first, keeps time order and unique message ids, and ends as its outcome says', () => {
		for (const persona of personas) {
			for (const plan of plans(persona.id, 200)) {
				const events = plan.events.map((e) => e.event);
				expect(events[0].type).toBe('conversation_started');
				const times = plan.events.map((e) => e.at);
				expect(times).toEqual([...times].sort((a, b) => a - b));
				for (const e of plan.events) expect(Date.parse(e.event.timestamp)).toBe(e.at);
				const ids = events
					.filter((e) => e.type === 'message')
					.map((e) => (e as Message).message_id);
				expect(new Set(ids).size).toBe(ids.length);
				const ends = events.filter(
					(e) => e.type !== 'message' && e.type !== 'conversation_started'
				);
				expect(ends).toHaveLength(1);
				const end = ends[0];
				if (plan.outcome === 'handed_off') expect(end.type).toBe('conversation_handed_off');
				else
					expect(end).toMatchObject({
						type: 'conversation_ended',
						status: plan.outcome === 'resolved' ? 'completed' : 'abandoned'
					});
			}
		}
	});

	it('ends resolved, failed, handed off and abandoned in believable shares', () => {
		const outcomes = plans('support', 2000).map((p) => p.outcome);
		const share = (o: string) => outcomes.filter((x) => x === o).length / outcomes.length;
		expect(share('resolved')).toBeGreaterThan(0.5);
		for (const o of ['failed', 'handed_off', 'abandoned']) expect(share(o)).toBeGreaterThan(0.005);
	});

	it('times each reply by its response time and bills its tokens at the model price', () => {
		for (const plan of plans('sales', 100)) {
			const events = plan.events.map((e) => e.event);
			events.forEach((e, i) => {
				if (e.type !== 'message' || e.role !== 'bot') return;
				const asked = Date.parse(events[i - 1].timestamp);
				expect(Date.parse(e.timestamp) - asked).toBe(e.response_time_ms);
				const model = models[e.model as keyof typeof models];
				expect(e.cost_usd).toBe(cost(model, e.tokens_in!, e.tokens_out!));
				expect(e.success).toBe(e.error_code === undefined);
			});
		}
	});

	it('answers about what was asked: the same order number, product and no repeated question', () => {
		let checked = 0;
		for (const plan of plans('support', 300)) {
			const messages = plan.events
				.map((e) => e.event)
				.filter((e): e is Message => e.type === 'message');
			const [ask, answer] = messages;
			const asked = /#(\d+)/.exec(ask.content)?.[1];
			if (asked && answer.success && /#\d+/.test(answer.content)) {
				expect(answer.content).toContain(`#${asked}`);
				checked++;
			}
			const questions = messages.filter((m) => m.role === 'user').map((m) => m.content);
			const distinct = new Set(questions).size;
			const retried = messages.filter((m) => m.error_code !== undefined).length;
			expect(distinct).toBeGreaterThanOrEqual(questions.length - retried);
		}
		expect(checked).toBeGreaterThan(20);
	});

	it('reports no model, tokens or cost for a rule-based bot', () => {
		const replies = plans('community', 50)
			.flatMap((p) => p.events.map((e) => e.event))
			.filter((e): e is Message => e.type === 'message' && e.role === 'bot');
		expect(replies.length).toBeGreaterThan(0);
		for (const r of replies) expect(r).not.toHaveProperty('model');
	});

	it('lets an LLM read the growing conversation (more input tokens on later turns)', () => {
		const long = plans('docs-agent', 200).find(
			(p) =>
				p.events.filter((e) => e.event.type === 'message' && e.event.role === 'bot').length >= 3
		)!;
		const inputs = long.events
			.map((e) => e.event)
			.filter((e): e is Message => e.type === 'message' && e.role === 'bot')
			.map((e) => e.tokens_in!);
		expect(inputs[inputs.length - 1]).toBeGreaterThan(inputs[0]);
	});
});

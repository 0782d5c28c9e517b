// Live demo traffic for `npm start`: simulated end users talk to the seeded demo bots, and the
// bots report every event through the real ingest Edge Function with their demo API keys.
import { config } from '../stack/config.ts';
import { adminSql } from '../stack/testing.ts';

interface Conversation {
	id: string;
	key: string;
	channel: string;
	user: string;
	turns: number;
	seq: number;
}

const intents = [
	'order_status',
	'refund',
	'pricing',
	'opening_hours',
	'shipping',
	'cancel',
	'greeting'
];
const models = ['gpt-4o-mini', 'claude-3-5-haiku', 'llama-3.1-8b'];
const questions = [
	'Where is my order?',
	'Can I get a refund for the blue jacket?',
	'How much is the premium plan?',
	'Are you open on Sunday?',
	'Do you ship to Portugal?',
	'Please cancel my subscription',
	'Hi there!'
];
const channels = ['web', 'whatsapp', 'telegram', 'messenger'];
const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)];

/** The seed gives each bot a key derived from its name (see supabase/seed.sql). */
async function demoKeys(): Promise<string[]> {
	const sql = adminSql();
	try {
		const rows = await sql<{ key: string }[]>`
			select 'bf_live_demo_' || lower(regexp_replace(name, '[^A-Za-z]+', '_', 'g')) as key
			from public.bots order by created_at`;
		return rows.map((r) => r.key);
	} finally {
		await sql.end();
	}
}

// While ingest fails, one line per failure streak and a growing pause (up to 30 s) between
// tries, so a broken function does not flood the terminal or the platform.
let failing: string | undefined;
let backoffMs = 0;

async function send(key: string, events: object[]): Promise<void> {
	let problem: string | undefined;
	try {
		const res = await fetch(`${config.api.url}/functions/v1/ingest`, {
			method: 'POST',
			headers: {
				'content-type': 'application/json',
				authorization: `Bearer ${key}`,
				apikey: config.keys.anon
			},
			body: JSON.stringify({ events })
		});
		if (!res.ok) problem = `ingest answered ${res.status}: ${(await res.text()).slice(0, 300)}`;
	} catch (e) {
		problem = `ingest is unreachable (${e instanceof Error ? e.message : e})`;
	}
	if (!problem) {
		if (failing) console.log('demo-traffic: ingest accepts events again');
		failing = undefined;
		backoffMs = 0;
		return;
	}
	if (!failing) console.error(`demo-traffic: ${problem}; retrying with back-off`);
	failing = problem;
	backoffMs = Math.min(30_000, Math.max(1000, backoffMs * 2));
	await new Promise((r) => setTimeout(r, backoffMs));
}

async function main() {
	const keys = await demoKeys();
	if (keys.length === 0) {
		console.error(
			'demo-traffic: no bots in the database; run `npm run stack:reset` to load the seed'
		);
		process.exit(1);
	}
	console.log(`demo-traffic: ${keys.length} bots talking; Ctrl-C stops`);
	const open: Conversation[] = [];
	let n = 0;
	for (;;) {
		const now = new Date().toISOString();
		if (open.length < 12 && Math.random() < 0.5) {
			const c: Conversation = {
				id: `demo-${Date.now().toString(36)}-${n++}`,
				key: pick(keys),
				channel: pick(channels),
				user: `visitor-${Math.floor(Math.random() * 500)}`,
				turns: 2 + Math.floor(Math.random() * 5),
				seq: 0
			};
			open.push(c);
			await send(c.key, [
				{
					type: 'conversation_started',
					conversation_id: c.id,
					timestamp: now,
					channel: c.channel,
					end_user_id: c.user
				}
			]);
		}
		const c = open[Math.floor(Math.random() * open.length)];
		if (c) {
			const i = Math.floor(Math.random() * questions.length);
			const failed = Math.random() < 0.04;
			const events: object[] = [
				{
					type: 'message',
					conversation_id: c.id,
					message_id: `${c.id}-${c.seq++}`,
					role: 'user',
					content: questions[i],
					timestamp: now
				},
				{
					type: 'message',
					conversation_id: c.id,
					message_id: `${c.id}-${c.seq++}`,
					role: 'bot',
					content: failed
						? 'Sorry, something went wrong.'
						: `Here is what I found about ${intents[i].replace('_', ' ')}.`,
					timestamp: new Date(Date.now() + 1).toISOString(),
					response_time_ms: Math.round(300 + Math.random() ** 2 * 4000),
					intent: intents[i],
					model: pick(models),
					tokens_in: 200 + Math.floor(Math.random() * 800),
					tokens_out: 50 + Math.floor(Math.random() * 300),
					cost_usd: Number((Math.random() * 0.004).toFixed(6)),
					...(failed ? { error_code: 'upstream_timeout' } : { success: true })
				}
			];
			if (--c.turns <= 0) {
				const handoff = Math.random() < 0.15;
				if (handoff)
					events.push({
						type: 'conversation_handed_off',
						conversation_id: c.id,
						timestamp: now,
						reason: 'asked for a human'
					});
				else
					events.push({
						type: 'conversation_ended',
						conversation_id: c.id,
						timestamp: now,
						status: Math.random() < 0.8 ? 'completed' : 'abandoned'
					});
				open.splice(open.indexOf(c), 1);
			}
			await send(c.key, events);
		}
		await new Promise((r) => setTimeout(r, 400 + Math.random() * 800));
	}
}

main().catch((e) => {
	console.error('demo-traffic:', e instanceof Error ? e.message : e);
	process.exit(1);
});

// Who the simulated bots are: what their users ask, which model answers, how conversations end.
// Each seeded demo bot gets the persona its name suggests; other bots take them in turn.
import type { Enums } from '../../src/lib/database.types.ts';
import type { ModelName } from './models.ts';

export type Channel = Enums<'channel'>;
export type Outcome = 'resolved' | 'failed' | 'handed_off' | 'abandoned';

export interface Topic {
	intent: string;
	weight: number;
	/** What the user opens with; `{n}` becomes a number, `{item}` a product. */
	asks: string[];
	answers: string[];
}

export interface Persona {
	id: string;
	label: string;
	/** The channel of a bot known only by its key (seeded bots have their own). */
	defaultChannel: Channel;
	/** Extra channels besides the bot's own, with weights (the bot's own weighs 1). */
	otherChannels: [Channel, number][];
	models: [ModelName, number][];
	/** Tokens of the system prompt (and retrieved documents) every call reads. */
	promptTokens: number;
	topics: Topic[];
	/** Exchanges (user message + bot reply) in a conversation. */
	minTurns: number;
	maxTurns: number;
	/** Median seconds a user takes to type the next message. */
	thinkSeconds: number;
	/** How conversations that do not fail end. */
	outcomes: [Exclude<Outcome, 'failed'>, number][];
	/** Later questions with their answers, asked in a random order without repeats. */
	followUps: [ask: string, answer: string][];
	items: string[];
}

const thanks = ['Thanks, that helps!', 'Great, thank you.', 'Perfect, thanks!', 'ok thx'];

export const personas: Persona[] = [
	{
		id: 'support',
		defaultChannel: 'whatsapp',
		label: 'customer support',
		otherChannels: [['messenger', 0.2]],
		models: [
			['gpt-4o-mini', 3],
			['claude-3-5-haiku', 1]
		],
		promptTokens: 420,
		minTurns: 1,
		maxTurns: 6,
		thinkSeconds: 12,
		outcomes: [
			['resolved', 74],
			['handed_off', 12],
			['abandoned', 14]
		],
		topics: [
			{
				intent: 'order_status',
				weight: 5,
				asks: [
					'Where is my order #{n}?',
					'My package #{n} has not arrived yet',
					'order {n} status?'
				],
				answers: [
					'Order #{n} left our warehouse yesterday and should arrive within 2 business days.',
					'I can see order #{n}: it is out for delivery today.'
				]
			},
			{
				intent: 'refund',
				weight: 3,
				asks: ['I want a refund for the {item}', 'How do I return my {item}?'],
				answers: [
					'You can return the {item} within 30 days; I have emailed you a prepaid label.',
					'Refunds reach your card 3 to 5 days after we receive the {item}.'
				]
			},
			{
				intent: 'change_address',
				weight: 2,
				asks: ['Can I change the delivery address for #{n}?'],
				answers: ['Sure, which address should we use for order #{n}?']
			},
			{
				intent: 'payment_issue',
				weight: 1,
				asks: ['My card payment failed twice', 'Why was I charged twice?'],
				answers: [
					'Sorry about that. The second charge is a pre-authorisation and disappears within 48 hours.'
				]
			}
		],
		followUps: [
			['And when will it arrive?', 'Delivery is expected within 2 business days.'],
			[
				'Can you send me the tracking link?',
				'Here is your tracking link: https://track.example/{n}'
			],
			['Is there a fee?', 'There is no fee for that.'],
			[
				'Can I pick it up in a store instead?',
				'Yes, pick-up is free; we will email you when it is ready.'
			],
			['Do I need to print anything?', 'No, showing the email with code {n} is enough.']
		],
		items: ['blue jacket', 'running shoes', 'desk lamp', 'coffee grinder', 'backpack']
	},
	{
		id: 'sales',
		defaultChannel: 'web',
		label: 'sales assistant',
		otherChannels: [['web', 0.15]],
		models: [['gpt-4o', 1]],
		promptTokens: 650,
		minTurns: 2,
		maxTurns: 8,
		thinkSeconds: 18,
		outcomes: [
			['resolved', 58],
			['handed_off', 17],
			['abandoned', 25]
		],
		topics: [
			{
				intent: 'pricing',
				weight: 4,
				asks: ['How much is the {item}?', 'Do you have a discount on the {item}?'],
				answers: [
					'The {item} is 129 EUR, and 10% off with code WELCOME10 this week.',
					'The {item} comes in two sizes, from 89 EUR.'
				]
			},
			{
				intent: 'product_question',
				weight: 3,
				asks: ['Is the {item} waterproof?', 'What colours does the {item} come in?'],
				answers: ['Yes, the {item} is rated IPX4.', 'The {item} comes in black, sand and olive.']
			},
			{
				intent: 'availability',
				weight: 2,
				asks: ['Is the {item} in stock?', 'Can I pick up the {item} in store?'],
				answers: [
					'We have {n} in stock, ready to ship today.',
					'Yes, pick-up is free in all our stores.'
				]
			},
			{
				intent: 'book_demo',
				weight: 1,
				asks: ['Can someone call me about a bulk order?'],
				answers: ['Of course! What time suits you for a call?']
			}
		],
		followUps: [
			['Can I pay in instalments?', 'Yes, in 3 instalments at no extra cost.'],
			['How fast is shipping?', 'Shipping takes 1 to 3 days in Europe.'],
			['Do you ship to Portugal?', 'Yes, we ship to Portugal in 4 days.'],
			['Is there a warranty?', 'Every {item} has a 2-year warranty.'],
			['Can I return it if it does not fit?', 'Yes, returns are free for 30 days.'],
			['Do you have it in a bigger size?', 'Yes, the {item} also comes in L and XL.'],
			['Any bundle deals?', 'Buy two and get 15% off the second one.']
		],
		items: ['travel backpack', 'rain jacket', 'smart watch', 'e-bike', 'standing desk']
	},
	{
		id: 'docs-agent',
		defaultChannel: 'api',
		label: 'LLM documentation agent',
		otherChannels: [['slack', 0.3]],
		models: [
			['claude-sonnet-4', 2],
			['claude-3-5-haiku', 1]
		],
		promptTokens: 2400,
		minTurns: 1,
		maxTurns: 5,
		thinkSeconds: 25,
		outcomes: [
			['resolved', 80],
			['handed_off', 5],
			['abandoned', 15]
		],
		topics: [
			{
				intent: 'api_usage',
				weight: 4,
				asks: [
					'How do I paginate the {item} endpoint?',
					'What does error {n} from the {item} API mean?'
				],
				answers: [
					'Pass `limit` and the `cursor` from the previous page to the {item} endpoint; a missing cursor means the last page.',
					'Error {n} means the request was throttled; retry after the Retry-After header.'
				]
			},
			{
				intent: 'sdk_setup',
				weight: 3,
				asks: ['How do I install the SDK for {item}?', 'Which SDK version supports {item}?'],
				answers: [
					'Run `npm i @acme/sdk` and call `createClient` with your key; {item} is supported since 3.{n}.'
				]
			},
			{
				intent: 'auth',
				weight: 2,
				asks: ['How do I rotate an API key?', 'Why does my token expire after an hour?'],
				answers: [
					'Create a new key, deploy it, then revoke the old one; tokens last 3600 s by default.'
				]
			}
		],
		followUps: [
			[
				'Can you show an example in Python?',
				'Here is an example:\n\n```python\nclient = Client(key)\npage = client.list(limit=100)\n```'
			],
			['Does that work with webhooks too?', 'Yes, webhooks use the same signature scheme.'],
			['What are the rate limits?', 'The default limit is 50 requests per second per project.'],
			[
				'Is there a sandbox?',
				'Yes: keys starting with test_ hit the sandbox, which resets nightly.'
			],
			[
				'How do I retry safely?',
				'Send an Idempotency-Key header; a retried request is then applied once.'
			]
		],
		items: ['orders', 'invoices', 'webhooks', 'customers', 'exports']
	},
	{
		id: 'helpdesk',
		defaultChannel: 'slack',
		label: 'IT helpdesk',
		otherChannels: [['slack', 0.4]],
		models: [
			['gpt-4o-mini', 2],
			['llama-3.1-8b', 1]
		],
		promptTokens: 380,
		minTurns: 1,
		maxTurns: 5,
		thinkSeconds: 15,
		outcomes: [
			['resolved', 66],
			['handed_off', 22],
			['abandoned', 12]
		],
		topics: [
			{
				intent: 'reset_password',
				weight: 4,
				asks: ['I forgot my password', 'My account is locked'],
				answers: ['I have sent a reset link to your work email; it is valid for 30 minutes.']
			},
			{
				intent: 'vpn',
				weight: 2,
				asks: ['The VPN keeps disconnecting', 'VPN error {n}'],
				answers: ['Please update the VPN client to version 5.{n} and reconnect.']
			},
			{
				intent: 'hardware',
				weight: 2,
				asks: ['My {item} is broken', 'Can I get a new {item}?'],
				answers: ['I opened ticket #{n} for your {item}; IT will contact you today.']
			}
		],
		followUps: [
			['It still does not work', 'Let me try something else: restart the app and sign in again.'],
			['How long will it take?', 'Usually within 4 working hours.'],
			['Can I work from my phone meanwhile?', 'Yes, mail and chat work on your phone.'],
			['Who do I call if it is urgent?', 'Call the IT hotline on extension {n}.']
		],
		items: ['laptop', 'monitor', 'headset', 'keyboard', 'badge']
	},
	{
		id: 'community',
		defaultChannel: 'telegram',
		label: 'community FAQ bot',
		otherChannels: [],
		models: [['rules-v2', 1]],
		promptTokens: 0,
		minTurns: 1,
		maxTurns: 3,
		thinkSeconds: 10,
		outcomes: [
			['resolved', 70],
			['handed_off', 6],
			['abandoned', 24]
		],
		topics: [
			{
				intent: 'opening_hours',
				weight: 3,
				asks: ['When are you open?', 'Are you open on Sunday?'],
				answers: ['We are open 9:00 to 18:00, Monday to Saturday.']
			},
			{
				intent: 'events',
				weight: 2,
				asks: ['When is the next meetup?', 'Is there an event in {n} days?'],
				answers: ['The next meetup is on Thursday at 19:00.']
			},
			{
				intent: 'membership',
				weight: 2,
				asks: ['How do I join?', 'How much is membership?'],
				answers: ['Membership is free: send /join to get started.']
			}
		],
		followUps: [
			['Where is it?', 'At the library, room {n}.'],
			['Can I bring a friend?', 'Of course, everyone is welcome.'],
			['Is it free?', 'Yes, all our events are free.']
		],
		items: ['meetup', 'workshop']
	}
];

export const closings = thanks;
export const handoffReasons = [
	'asked for a human',
	'frustrated user',
	'refund above the bot limit',
	'question outside the bot scope'
];

/** The persona a bot's name suggests (the seeded demo bots), else the next one in turn. */
export function personaFor(botName: string, index: number): Persona {
	const byName: [RegExp, string][] = [
		[/sales/i, 'sales'],
		[/agent|docs/i, 'docs-agent'],
		[/helpdesk|it\b/i, 'helpdesk'],
		[/telegram|community|faq/i, 'community'],
		[/support/i, 'support']
	];
	const match = byName.find(([re]) => re.test(botName));
	return personas.find((p) => p.id === match?.[1]) ?? personas[index % personas.length];
}

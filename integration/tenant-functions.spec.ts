// Tenant isolation through the Edge Functions, called with supabase-js `functions.invoke` as a
// bot or the dashboard calls them: a bot's API key writes only into its own bot whatever the
// request carries, export-csv never exports another tenant's rows, and anonymous export is 401.
// No tenant can stall another: ingest's rate is per bot and holds under concurrency, exports
// are limited per user and a client that stops reading is cut off.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SupabaseClient } from '@supabase/supabase-js';
import { config } from '../stack/config.ts';
import { adminSql, anonClient } from '../stack/testing.ts';
import {
	conversationEvents,
	createBot,
	ingest,
	runRollups,
	snapshot,
	statusOf,
	tenantWithTraffic,
	type TenantData
} from './fixtures.ts';

const sql = adminSql();
let a: TenantData;
let b: TenantData;

beforeAll(async () => {
	[a, b] = await Promise.all([tenantWithTraffic('Alpha', sql), tenantWithTraffic('Bravo', sql)]);
	await runRollups(sql);
});

afterAll(async () => {
	await sql.end();
});

describe('ingest with one tenant key', () => {
	it("never writes into another tenant's bot, whatever fields the batch carries", async () => {
		const bBefore = await snapshot(sql, b);
		const at = new Date(Date.now() - 60_000).toISOString();
		// The other tenant's own conversation and message ids, so any cross-bot lookup would hit.
		const bConversation = b.conversationExternalId;
		const attempts: { what: string; body: Record<string, unknown> }[] = [
			{
				what: "the other bot's ids as extra fields on events",
				body: {
					events: [
						{
							type: 'message',
							conversation_id: bConversation,
							message_id: 'forged-1',
							timestamp: at,
							role: 'user',
							content: 'forged',
							bot_id: b.botId,
							organization_id: b.organizationId
						}
					]
				}
			},
			{
				what: "the other bot's id beside the events",
				body: {
					bot_id: b.botId,
					events: [conversationEvents('forged-2', 'forged', new Date(at))[0]]
				}
			}
		];
		for (const { what, body } of attempts) {
			const { data, error } = await a.client.functions.invoke('ingest', {
				body,
				headers: { Authorization: `Bearer ${a.apiKey}` }
			});
			expect(await statusOf(error), `${what}: ${JSON.stringify(data)}`).toBe(400);
		}

		// Valid events that name the other tenant's conversation and message ids land in the
		// key's own bot as new rows; the other tenant's rows do not move.
		const collide = [
			{ type: 'conversation_handed_off', conversation_id: bConversation, timestamp: at },
			{
				type: 'message',
				conversation_id: bConversation,
				message_id: `${bConversation}-m1`,
				timestamp: at,
				role: 'user',
				content: 'same ids, other tenant'
			},
			{
				type: 'conversation_ended',
				conversation_id: bConversation,
				timestamp: at,
				status: 'abandoned'
			}
		];
		const written = await ingest(a.client, a.apiKey, collide);
		expect(written.error).toBeNull();
		expect(written.data?.accepted).toBe(3);
		const rows = await sql<{ bot_id: string }[]>`
			select bot_id from public.conversations where external_id = ${bConversation}
			union all
			select bot_id from public.messages where external_id = ${`${bConversation}-m1`}`;
		expect(rows.filter((r) => r.bot_id === a.botId)).toHaveLength(2);
		expect(rows.filter((r) => r.bot_id === b.botId)).toHaveLength(2);
		expect(await snapshot(sql, b)).toEqual(bBefore);
	});

	it("refuses a user's session token, or the other tenant's, in place of a bot key", async () => {
		for (const token of [b.accessToken, a.accessToken]) {
			const { error } = await a.client.functions.invoke('ingest', {
				body: { events: conversationEvents('jwt-as-key', 'jwt', new Date(Date.now() - 60_000)) },
				headers: { Authorization: `Bearer ${token}` }
			});
			expect(await statusOf(error)).toBe(401);
		}
		const [{ count }] = await sql<{ count: number }[]>`
			select count(*)::int as count from public.conversations where external_id = 'jwt-as-key'`;
		expect(count).toBe(0);
	});
});

/** GET /functions/v1/export-csv through supabase-js; the body is the CSV text on success. */
async function exportCsv(client: SupabaseClient, params: Record<string, string>) {
	const query = new URLSearchParams({ bom: 'false', ...params });
	const { data, error } = await client.functions.invoke(`export-csv?${query}`, { method: 'GET' });
	// On an error status the body (the JSON error) is only on the Response functions-js keeps.
	const context = (error as { context?: unknown } | null)?.context;
	const text =
		typeof data === 'string' ? data : context instanceof Response ? await context.text() : '';
	return { text, status: await statusOf(error) };
}

describe('export-csv across tenants', () => {
	const kinds = ['conversations', 'messages', 'daily'] as const;
	const window = (t: TenantData) => ({
		from: new Date(t.eventTime.getTime() - 86_400_000).toISOString(),
		to: new Date().toISOString()
	});
	/** Rows of the owner: its marker word, or for daily figures a day with messages. */
	const hasOwnerRows = (kind: (typeof kinds)[number], text: string, t: TenantData) =>
		kind === 'daily'
			? text.startsWith('day,') && text.split('\n').some((line) => /^[\d-]+,[^,]+,[1-9]/.test(line))
			: text.includes(t.marker);

	it.each(kinds)(
		"exports the owner's %s to the owner (so the calls below are meaningful)",
		async (kind) => {
			const { text, status } = await exportCsv(a.client, { bot: a.botId, kind, ...window(a) });
			expect(status).toBe(200);
			expect(hasOwnerRows(kind, text, a), text).toBe(true);
		}
	);

	it.each(kinds)("exports none of the owner's %s to another tenant", async (kind) => {
		const { text, status } = await exportCsv(b.client, { bot: a.botId, kind, ...window(a) });
		expect([403, 404]).toContain(status);
		expect(hasOwnerRows(kind, text, a), text).toBe(false);
	});

	it("answers another tenant the same for the owner's bot as for a bot that does not exist", async () => {
		const strip = (text: string) => text.replaceAll(a.botId, '<bot>').replaceAll(missing, '<bot>');
		const missing = '00000000-0000-4000-8000-000000000000';
		const theirs = await exportCsv(b.client, { bot: a.botId, ...window(a) });
		const none = await exportCsv(b.client, { bot: missing, ...window(a) });
		expect(theirs.text).not.toBe('');
		expect(theirs.status).toBe(none.status);
		expect(strip(theirs.text)).toBe(strip(none.text));
	});

	it("finds none of the owner's rows when another tenant searches its own bot for them", async () => {
		for (const kind of ['conversations', 'messages'] as const) {
			const { text, status } = await exportCsv(b.client, {
				bot: b.botId,
				kind,
				search: a.marker,
				...window(a)
			});
			expect(status).toBe(200);
			expect(text).not.toContain(a.marker);
		}
	});

	it.each(kinds)('refuses %s to an anonymous caller with 401', async (kind) => {
		const { text, status } = await exportCsv(anonClient(), { bot: a.botId, kind, ...window(a) });
		expect(status).toBe(401);
		expect(hasOwnerRows(kind, text, a), text).toBe(false);
	});
});

describe('ingest under load and odd input', () => {
	it('answers a bad key with 401 whatever the body, before reading it', async () => {
		for (const body of [{ events: [] }, { events: 'not a list' }, { nonsense: true }]) {
			const { error } = await a.client.functions.invoke('ingest', {
				body,
				headers: { Authorization: `Bearer bf_live_${'f'.repeat(64)}` }
			});
			expect(await statusOf(error), JSON.stringify(body)).toBe(401);
		}
	});

	it("refuses concurrent requests over one bot's rate, whichever of its keys they use, and leaves other tenants alone", async () => {
		const bot = await createBot(a, 'Alpha rate-limited bot');
		const { data: second } = await a.client.rpc('create_bot_api_key', {
			p_bot_id: bot.botId,
			p_name: 'second'
		});
		const keys = [bot.apiKey, (Array.isArray(second) ? second[0] : second).key as string];
		// Three requests back to back, then practically none.
		await sql`insert into private.ingest_rate_limits (bot_id, request_burst, requests_per_second)
			values (${bot.botId}, 3, 0.001)`;
		const at = new Date(Date.now() - 60_000);
		const [mine, theirs] = await Promise.all([
			Promise.all(
				Array.from({ length: 12 }, (_, i) =>
					ingest(a.client, keys[i % 2], conversationEvents(`rate-${i}`, 'rate', at).slice(0, 1))
				)
			),
			Promise.all(
				Array.from({ length: 6 }, (_, i) =>
					ingest(b.client, b.apiKey, conversationEvents(`other-${i}`, 'other', at).slice(0, 1))
				)
			)
		]);
		expect(mine.map((r) => r.status).sort()).toEqual([
			...Array(3).fill(200),
			...Array(9).fill(429)
		]);
		expect(theirs.map((r) => r.status)).toEqual(Array(6).fill(200));
		const [{ count }] = await sql<{ count: number }[]>`
			select count(*)::int as count from public.conversations where bot_id = ${bot.botId}`;
		expect(count).toBe(3);
	});

	it('rejects an event holding text Postgres cannot store with its field path, and writes the rest', async () => {
		const at = new Date(Date.now() - 60_000);
		const [start, userMessage, botMessage, end] = conversationEvents('odd-text', 'odd', at);
		const { data, error } = await ingest(a.client, a.apiKey, [
			start,
			{ ...userMessage, content: 'broken \ud800 text' },
			{ ...botMessage, intent: 'nul\u0000' },
			end
		]);
		expect(error).toBeNull();
		expect(data?.results.map((r) => r.status)).toEqual([
			'accepted',
			'rejected',
			'rejected',
			'accepted'
		]);
		expect(data?.results[1].reason).toMatch(/^events\[1\]\.content: .*surrogate/);
		expect(data?.results[2].reason).toMatch(/^events\[2\]\.intent: .*NUL/);
	});
});

describe('export-csv limits', () => {
	/** A bot of tenant a with about 80 MB of CSV: more than the sockets on the way can buffer. */
	let bigBotId: string;
	beforeAll(async () => {
		const bot = await createBot(a, 'Alpha big export bot');
		bigBotId = bot.botId;
		const [conversation] = await sql<{ id: string }[]>`
			insert into public.conversations (bot_id, external_id, started_at)
			values (${bigBotId}, 'big', now() - interval '50 minutes') returning id`;
		await sql`insert into public.messages (bot_id, conversation_id, external_id, role, content, sent_at)
			select ${bigBotId}, ${conversation.id}, 'm' || g, 'user', repeat('lorem ipsum ', 340) || g,
				now() - interval '40 minutes' + g * interval '100 milliseconds'
			from generate_series(1, 20000) g`;
	});

	/** A download whose reader took its first bytes and then stopped reading. */
	async function stalledDownload(t: TenantData) {
		const query = new URLSearchParams({ bot: bigBotId, kind: 'messages' });
		const res = await fetch(`${config.api.url}/functions/v1/export-csv?${query}`, {
			headers: { apikey: config.keys.anon, Authorization: `Bearer ${t.accessToken}` }
		});
		expect(res.status).toBe(200);
		const reader = res.body!.getReader();
		await reader.read();
		return reader;
	}

	const exportBackends = () => sql<{ pid: number; wait_event: string | null; snapshot: boolean }[]>`
		select pid, wait_event, backend_xmin is not null as snapshot
		from pg_stat_activity where application_name = 'export-csv'`;

	async function waitFor(check: () => Promise<boolean>, what: string, ms: number) {
		const deadline = Date.now() + ms;
		while (!(await check())) {
			if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
			await new Promise((r) => setTimeout(r, 100));
		}
	}
	const blockedOnClient = async (n: number) =>
		(await exportBackends()).filter((x) => x.wait_event === 'ClientWrite').length >= n;

	it("refuses a user's third concurrent export with 429 and Retry-After, while another tenant exports", async () => {
		const readers = [await stalledDownload(a), await stalledDownload(a)];
		try {
			await waitFor(() => blockedOnClient(2), 'two held exports', 10_000);
			const third = await a.client.functions.invoke(`export-csv?bot=${bigBotId}&kind=daily`, {
				method: 'GET'
			});
			expect(await statusOf(third.error)).toBe(429);
			const context = (third.error as { context: Response }).context;
			expect(Number(context.headers.get('Retry-After'))).toBeGreaterThanOrEqual(1);
			const other = await exportCsv(b.client, { bot: b.botId, kind: 'messages' });
			expect(other.status).toBe(200);
			expect(other.text).toContain(b.marker);
		} finally {
			for (const r of readers) await r.cancel();
			// Cancelled downloads end their transactions (and free their slots) promptly.
			await waitFor(
				async () => !(await exportBackends()).some((x) => x.snapshot),
				'the cancelled exports to end',
				5_000
			);
		}
	});

	it('cuts off a slow export reader and returns its connection to the pool', async () => {
		const reader = await stalledDownload(a);
		await waitFor(() => blockedOnClient(1), 'a held export', 10_000);
		const [held] = (await exportBackends()).filter((x) => x.wait_event === 'ClientWrite');
		expect(held.snapshot).toBe(true);
		// The stall timeout is 15 s by default.
		await waitFor(
			async () => !(await exportBackends()).some((x) => x.pid === held.pid || x.snapshot),
			'the stalled export to be cut off',
			30_000
		);
		// The reader gets what was on its way, then an error: never a file that looks complete.
		await expect(
			(async () => {
				for (;;) if ((await reader.read()).done) return 'complete';
			})()
		).rejects.toThrow();
		// Its slot and connection are back: two exports at once work again.
		const again = await Promise.all([
			exportCsv(a.client, { bot: a.botId, kind: 'messages' }),
			exportCsv(a.client, { bot: a.botId, kind: 'conversations' })
		]);
		expect(again.map((r) => r.status)).toEqual([200, 200]);
		expect(again[0].text).toContain(a.marker);
	}, 60_000);

	it('neutralises cells starting with fullwidth formula characters like the ASCII ones', async () => {
		const at = new Date(Date.now() - 120_000);
		const [start, message, , end] = conversationEvents('fullwidth', 'fw', at);
		const leads = ['＝', '＋', '－', '＠'];
		const events = [
			start,
			...leads.map((lead, i) => ({
				...message,
				message_id: `fullwidth-${i}`,
				content: `${lead}HYPERLINK("http://evil.test")`
			})),
			end
		];
		expect((await ingest(a.client, a.apiKey, events)).data?.accepted).toBe(events.length);
		const { text, status } = await exportCsv(a.client, { bot: a.botId, kind: 'messages' });
		expect(status).toBe(200);
		for (const lead of leads) {
			expect(text).toContain(`"'${lead}HYPERLINK(""http://evil.test"")"`);
			expect(text).not.toMatch(new RegExp(`(^|,)"?${lead}`, 'm'));
		}
	});
});

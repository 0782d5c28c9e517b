// Tenant isolation through the Edge Functions, called with supabase-js `functions.invoke` as a
// bot or the dashboard calls them: a bot's API key writes only into its own bot whatever the
// request carries, export-csv never exports another tenant's rows, and anonymous export is 401.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SupabaseClient } from '@supabase/supabase-js';
import { adminSql, anonClient } from '../stack/testing.ts';
import {
	conversationEvents,
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
		const attempts: { what: string; body: unknown }[] = [
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

// Raw events enter only through ingest: not even the owner of a bot inserts or updates its
// conversations and messages through REST, so nobody skips ingest's checks (an `ended_at` of
// -infinity, a $99,999,999 message) or chooses a row's id (e.g. one of another tenant's deleted
// conversations, whose ids Realtime DELETE events reveal). Owners may still delete raw rows,
// and what they delete leaves the dashboard's figures (unlike retention, which keeps rollups).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminSql } from '../stack/testing.ts';
import { runRollups, tenantWithTraffic, type TenantData } from './fixtures.ts';

const sql = adminSql();
let owner: TenantData;
let other: TenantData;

beforeAll(async () => {
	[owner, other] = await Promise.all([
		tenantWithTraffic('Owner', sql),
		tenantWithTraffic('Other', sql)
	]);
});

afterAll(async () => {
	if (owner) await sql`delete from public.bots where id = ${owner.botId}`;
	await sql.end();
});

async function rawRows(t: TenantData) {
	const [row] = await sql<{ rows: unknown }[]>`
		select jsonb_build_object(
			'conversations', (select jsonb_agg(c order by c.id) from public.conversations c where c.bot_id = ${t.botId}),
			'messages', (select jsonb_agg(to_jsonb(m) - 'search_vector' order by m.id) from public.messages m where m.bot_id = ${t.botId})
		) as rows`;
	return row.rows;
}

describe('raw events through REST', () => {
	it("the owner cannot insert a conversation, not even with another tenant's id", async () => {
		const before = await rawRows(owner);
		const rows: { id?: string; bot_id: string; external_id: string; started_at: string }[] = [
			{ bot_id: owner.botId, external_id: 'rest-made', started_at: new Date().toISOString() },
			{
				id: other.conversationId,
				bot_id: owner.botId,
				external_id: 'reused-id',
				started_at: new Date().toISOString()
			}
		];
		for (const row of rows) {
			const { error } = await owner.client.from('conversations').insert(row);
			expect(error?.code).toBe('42501');
		}
		expect(await rawRows(owner)).toEqual(before);
	});

	it('the owner cannot insert a message nor update raw rows past the bounds', async () => {
		const before = await rawRows(owner);
		const inserted = await owner.client.from('messages').insert({
			bot_id: owner.botId,
			conversation_id: owner.conversationId,
			external_id: 'rest-poison',
			role: 'bot',
			sent_at: new Date().toISOString(),
			cost_usd: 99_999_999
		});
		expect(inserted.error?.code).toBe('42501');
		const ended = await owner.client
			.from('conversations')
			.update({ ended_at: '-infinity' })
			.eq('id', owner.conversationId);
		expect(ended.error?.code).toBe('42501');
		const costly = await owner.client
			.from('messages')
			.update({ cost_usd: 99_999_999 })
			.eq('bot_id', owner.botId);
		expect(costly.error?.code).toBe('42501');
		expect(await rawRows(owner)).toEqual(before);
	});

	it('the owner can still delete raw rows, and the dashboard stops counting them', async () => {
		await runRollups(sql);
		const range = {
			p_bot_id: owner.botId,
			p_from: new Date(owner.eventTime.getTime() - 3_600_000).toISOString(),
			p_to: new Date().toISOString()
		};
		const cards = async () => {
			const { data, error } = await owner.client.rpc('bot_summary', range);
			expect(error).toBeNull();
			const current = (data as { period: string; conversations: number; messages: number }[]).find(
				(r) => r.period === 'current'
			)!;
			return { conversations: Number(current.conversations), messages: Number(current.messages) };
		};
		expect(await cards()).toEqual({ conversations: 1, messages: 2 });

		const deleted = await owner.client
			.from('conversations')
			.delete()
			.eq('id', owner.conversationId)
			.select('id');
		expect(deleted.data).toEqual([{ id: owner.conversationId }]);
		await runRollups(sql);
		// The hours it was rolled up into are recomputed: the cards, like the raw rows, hold nothing.
		expect(await cards()).toEqual({ conversations: 0, messages: 0 });
		const metrics = await owner.client
			.from('conversation_metrics')
			.select('conversation_id')
			.eq('conversation_id', owner.conversationId);
		expect(metrics.data).toEqual([]);
	});
});

// Raw events enter only through ingest: not even the owner of a bot inserts or updates its
// conversations and messages through REST, so nobody skips ingest's checks (an `ended_at` of
// -infinity, a $99,999,999 message) or chooses a row's id (e.g. one of another tenant's deleted
// conversations, whose ids Realtime DELETE events reveal). Owners may still delete raw rows.
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
	// The deletion below leaves rollups without raw rows (as retention does); the bot goes too,
	// so the database still rolls up to exactly its raw rows for the suites that check that.
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

	it('the owner can still delete raw rows, and the rollups keep the metrics', async () => {
		await runRollups(sql);
		const deleted = await owner.client
			.from('conversations')
			.delete()
			.eq('id', owner.conversationId)
			.select('id');
		expect(deleted.data).toEqual([{ id: owner.conversationId }]);
		const kept = await owner.client
			.from('conversation_metrics')
			.select('conversation_id')
			.eq('conversation_id', owner.conversationId);
		expect(kept.data).toEqual([{ conversation_id: owner.conversationId }]);
	});
});

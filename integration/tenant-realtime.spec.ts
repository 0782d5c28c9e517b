// Tenant isolation through Realtime Postgres Changes (supabase-js channels), on the two tables
// the dashboard subscribes to. Another tenant, subscribed without a filter and with a filter on
// the owner's bot, receives none of the owner's inserts and updates, while the owner's own
// subscriber receives them. Barriers instead of waits: the owner's subscriber receiving proves
// the owner's changes were dispatched, and the other tenant receiving its own later insert
// proves its socket has passed every earlier change.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
	RealtimeChannel,
	RealtimePostgresChangesPayload,
	SupabaseClient
} from '@supabase/supabase-js';
import { adminSql, anonClient, until } from '../stack/testing.ts';
import {
	addMember,
	conversationEvents,
	createBot,
	ingest,
	mentions,
	signUpTenant,
	tenantWithTraffic,
	type TenantData
} from './fixtures.ts';

type Payload = RealtimePostgresChangesPayload<Record<string, unknown>>;
interface Subscriber {
	label: string;
	got: Payload[];
}

const sql = adminSql();
const channels: { client: SupabaseClient; channel: RealtimeChannel }[] = [];
let a: TenantData;
let b: TenantData;

beforeAll(async () => {
	[a, b] = await Promise.all([tenantWithTraffic('Alpha', sql), tenantWithTraffic('Bravo', sql)]);
});

afterAll(async () => {
	await Promise.allSettled(channels.map(({ client, channel }) => client.removeChannel(channel)));
	for (const client of new Set(channels.map((c) => c.client))) await client.realtime.disconnect();
	await sql.end();
});

/** Subscribes and resolves once the server confirmed, or fails with the server's reason. */
function subscribe(
	client: SupabaseClient,
	label: string,
	table: 'messages' | 'conversations',
	filter?: string
): Promise<Subscriber> {
	const subscriber: Subscriber = { label, got: [] };
	const channel = client
		.channel(`${label}-${table}-${filter ?? 'all'}-${Math.random()}`)
		.on(
			'postgres_changes',
			{ event: '*', schema: 'public', table, ...(filter ? { filter } : {}) },
			(payload: Payload) => subscriber.got.push(payload)
		);
	channels.push({ client, channel });
	return new Promise((resolve, reject) => {
		channel.subscribe((status, err) => {
			if (status === 'SUBSCRIBED') resolve(subscriber);
			else if (status !== 'CLOSED') reject(err ?? new Error(`${label}: ${status}`));
		});
	});
}

const rowOf = (p: Payload) => ({ ...(p.old ?? {}), ...(p.new ?? {}) }) as Record<string, unknown>;
const isOf = (t: TenantData) => (p: Payload) =>
	rowOf(p).bot_id === t.botId || mentions(p, t) || rowOf(p).id === t.conversationId;

describe('Realtime postgres_changes across tenants', () => {
	it("delivers the owner's inserts and updates to the owner and none to another tenant or anonymous", async () => {
		const ownA = `bot_id=eq.${a.botId}`;
		const [aMessages, aConversations, ...others] = await Promise.all([
			subscribe(a.client, 'owner', 'messages', ownA),
			subscribe(a.client, 'owner', 'conversations', ownA),
			subscribe(b.client, 'other', 'messages'),
			subscribe(b.client, 'other', 'messages', ownA),
			subscribe(b.client, 'other', 'conversations'),
			subscribe(b.client, 'other', 'conversations', ownA),
			subscribe(anonClient(), 'anonymous', 'messages'),
			subscribe(anonClient(), 'anonymous', 'conversations', ownA)
		]);
		const bOwnMessages = others[0];

		const marker = `${a.marker}live`;
		const sent = await ingest(
			a.client,
			a.apiKey,
			conversationEvents(`live-${marker}`, marker, new Date(Date.now() - 60_000))
		);
		expect(sent.data?.accepted).toBe(4);
		await until(
			() => aMessages.got.length >= 2 && aConversations.got.some((p) => p.eventType === 'UPDATE'),
			"the owner's subscriber to receive the owner's messages and the conversation's end"
		);
		expect(
			aMessages.got.every((p) => p.eventType === 'INSERT' && rowOf(p).bot_id === a.botId)
		).toBe(true);
		expect(aMessages.got.map((p) => rowOf(p).content)).toContain(`it ships today ${marker}`);

		// The other tenant's own later traffic arrives on its socket after everything before it.
		const later = await ingest(
			b.client,
			b.apiKey,
			conversationEvents(`live-${b.marker}`, b.marker, new Date(Date.now() - 60_000))
		);
		expect(later.data?.accepted).toBe(4);
		await until(
			() => bOwnMessages.got.filter((p) => rowOf(p).bot_id === b.botId).length >= 2,
			"the other tenant's subscriber to receive its own later messages"
		);

		for (const subscriber of others) {
			const leaked = subscriber.got.filter(isOf(a));
			expect(leaked, `${subscriber.label} received the owner's changes`).toEqual([]);
		}
		// Anonymous subscribers see no tenant's rows at all.
		for (const subscriber of others.slice(4)) expect(subscriber.got).toEqual([]);
	});

	it("sends another tenant nothing of the owner's deleted rows beyond their primary key", async () => {
		const [aConversations, bConversations, bMessages] = await Promise.all([
			subscribe(a.client, 'owner', 'conversations'),
			subscribe(b.client, 'other', 'conversations'),
			subscribe(b.client, 'other', 'messages')
		]);
		const id = await liveConversation(a, 'gone');
		const { error } = await a.client.from('conversations').delete().eq('id', id);
		expect(error).toBeNull();
		await until(
			() => aConversations.got.some((p) => p.eventType === 'DELETE' && rowOf(p).id === id),
			"the owner's subscriber to receive the delete"
		);
		await otherTenantBarrier(bMessages);

		// Hosted Realtime sends DELETE to every subscriber without an RLS check, key only.
		for (const p of [...bConversations.got, ...bMessages.got].filter(
			(p) => p.eventType === 'DELETE'
		)) {
			expect(Object.keys(p.old ?? {})).toEqual(['id']);
			expect(p.new ?? {}).toEqual({});
		}
	});

	// Bug pinned here (not fixed by this suite): conversations has replica identity full, and
	// Realtime evaluates a subscription's filter on a deleted row's old values without RLS, so
	// another tenant learns whether the owner's deleted rows matched any value it guesses; with
	// lt/gt filters it can bisect a column (end_user_id, started_at, status) of every purge.
	it("does not let another tenant probe the columns of the owner's deleted conversations with filters", async () => {
		const endUser = `end-user-${a.marker}probe`;
		const [aConversations, bProbe, bDecoy, bMessages] = await Promise.all([
			subscribe(a.client, 'owner', 'conversations'),
			subscribe(b.client, 'probe', 'conversations', `end_user_id=eq.${endUser}`),
			subscribe(b.client, 'decoy', 'conversations', `end_user_id=eq.not-${endUser}`),
			subscribe(b.client, 'other', 'messages')
		]);
		const id = await liveConversation(a, 'probe');
		expect((await sql`select end_user_id from public.conversations where id = ${id}`)[0]).toEqual({
			end_user_id: endUser
		});
		const { error } = await a.client.from('conversations').delete().eq('id', id);
		expect(error).toBeNull();
		await until(
			() => aConversations.got.some((p) => p.eventType === 'DELETE' && rowOf(p).id === id),
			"the owner's subscriber to receive the delete"
		);
		await otherTenantBarrier(bMessages);
		// Deletes pass through filters as on hosted Realtime, key only: a matching and a
		// non-matching filter see exactly the same, so the filter reveals nothing.
		const deletesOf = (s: typeof bProbe) =>
			s.got.filter((p) => p.eventType === 'DELETE' && rowOf(p).id === id);
		expect(deletesOf(bProbe).length, 'the probe learned whether its filter matched').toBe(
			deletesOf(bDecoy).length
		);
		for (const p of [...deletesOf(bProbe), ...deletesOf(bDecoy)]) {
			expect(Object.keys(p.old as object)).toEqual(['id']);
			expect(p.new).toEqual({});
		}
	});
});

describe('Realtime after a membership ends', () => {
	it("stops delivering the organization's changes to a viewer removed while subscribed", async () => {
		const viewer = await signUpTenant('Viewer');
		const own = await createBot(viewer, 'Viewer bot');
		await addMember(a, viewer, 'viewer');
		const ownA = `bot_id=eq.${a.botId}`;
		const [owner, watching, ownFeed] = await Promise.all([
			subscribe(a.client, 'owner', 'messages', ownA),
			subscribe(viewer.client, 'viewer', 'messages', ownA),
			subscribe(viewer.client, 'viewer', 'messages', `bot_id=eq.${own.botId}`)
		]);
		await liveConversation(a, 'before');
		await until(
			() => watching.got.length >= 2,
			"the viewer to receive the organization's messages"
		);

		const removed = await a.client
			.from('organization_members')
			.delete()
			.eq('organization_id', a.organizationId)
			.eq('user_id', viewer.userId)
			.select();
		expect(removed.data).toHaveLength(1);
		const seen = { owner: owner.got.length, watching: watching.got.length };
		await liveConversation(a, 'after');
		await until(
			() => owner.got.length >= seen.owner + 2,
			"the owner's subscriber to receive the new messages"
		);
		// The viewer's own later message reaching the same socket proves it passed the owner's.
		const sent = await ingest(
			viewer.client,
			own.apiKey,
			conversationEvents('own-conv', 'own', new Date(Date.now() - 60_000))
		);
		expect(sent.data?.accepted).toBe(4);
		await until(() => ownFeed.got.length >= 2, "the viewer's own messages");
		expect(watching.got.slice(seen.watching)).toEqual([]);
	});
});

/** A fresh conversation of the tenant, ingested through the Edge Function; returns its id. */
async function liveConversation(t: TenantData, word: string): Promise<string> {
	const marker = `${t.marker}${word}`;
	const externalId = `live-${marker}`;
	const sent = await ingest(
		t.client,
		t.apiKey,
		conversationEvents(externalId, marker, new Date(Date.now() - 60_000))
	);
	expect(sent.data?.accepted).toBe(4);
	const [row] = await sql<{ id: string }[]>`
		select id from public.conversations where bot_id = ${t.botId} and external_id = ${externalId}`;
	return row.id;
}

/** The other tenant's own later insert reaching it proves its socket passed all before it. */
async function otherTenantBarrier(subscriber: Subscriber) {
	const seen = subscriber.got.length;
	await liveConversation(b, `barrier${Math.random().toString(36).slice(2, 8)}`);
	await until(
		() =>
			subscriber.got
				.slice(seen)
				.some((p) => p.eventType === 'INSERT' && rowOf(p).bot_id === b.botId),
		"the other tenant's subscriber to receive its own later insert"
	);
}

// Two real tenants for the cross-tenant specs: users signed up through supabase-js (the sign-up
// trigger gives each a personal organization), bots and API keys made through REST and RPC as
// the dashboard makes them, events written through the real `ingest` Edge Function.
import { randomUUID } from 'node:crypto';
import type { SupabaseClient } from '@supabase/supabase-js';
import { adminSql, signUpAndSignIn } from '../stack/testing.ts';

export type Sql = ReturnType<typeof adminSql>;

export interface Tenant {
	client: SupabaseClient;
	userId: string;
	email: string;
	accessToken: string;
	organizationId: string;
}

export interface TenantData extends Tenant {
	botId: string;
	apiKey: string;
	apiKeyId: string;
	/** the conversation's id in the database and the bot's own id for it */
	conversationId: string;
	conversationExternalId: string;
	/** a word only this tenant's messages contain, to spot leaks in any payload */
	marker: string;
	/** when the tenant's traffic happened: two days ago, so hourly and daily rollups cover it */
	eventTime: Date;
}

/** A new user through the real sign-up, with the personal organization the trigger created. */
export async function signUpTenant(label: string): Promise<Tenant> {
	const { client, user, email, session } = await signUpAndSignIn({
		data: { full_name: `${label} ${randomUUID().slice(0, 8)}` }
	});
	const { data, error } = await client
		.from('organizations')
		.select('id')
		.eq('is_personal', true)
		.single();
	if (error) throw new Error(`personal organization of ${label} not found: ${error.message}`);
	return {
		client,
		userId: user.id,
		email,
		accessToken: session.access_token,
		organizationId: data.id
	};
}

/** A bot with an API key, made by the owner through REST and RPC. */
export async function createBot(tenant: Tenant, name: string) {
	const { data: bot, error } = await tenant.client
		.from('bots')
		.insert({ organization_id: tenant.organizationId, name, timezone: 'UTC' })
		.select('id')
		.single();
	if (error) throw new Error(`creating bot ${name} failed: ${error.message}`);
	const { data: keys, error: keyError } = await tenant.client.rpc('create_bot_api_key', {
		p_bot_id: bot.id,
		p_name: 'integration'
	});
	if (keyError) throw new Error(`create_bot_api_key failed: ${keyError.message}`);
	const key = (Array.isArray(keys) ? keys[0] : keys) as { id: string; key: string };
	return { botId: bot.id as string, apiKey: key.key, apiKeyId: key.id };
}

/** POST /functions/v1/ingest through supabase-js, authenticated by the bot key alone. */
export async function ingest(client: SupabaseClient, apiKey: string, events: unknown[]) {
	const { data, error } = await client.functions.invoke('ingest', {
		body: { events },
		headers: { Authorization: `Bearer ${apiKey}` }
	});
	return { data: data as IngestAnswer | null, error, status: await statusOf(error) };
}

export type IngestAnswer = {
	accepted: number;
	duplicate: number;
	rejected: number;
	results: { index: number; status: string; reason?: string }[];
};

/** The HTTP status behind a functions-js error (FunctionsHttpError carries the Response). */
export async function statusOf(error: unknown): Promise<number | null> {
	if (!error) return 200;
	const context = (error as { context?: Response }).context;
	return context instanceof Response ? context.status : null;
}

/** A conversation with a user message, a bot reply and an end, as a bot reports it. */
export function conversationEvents(externalId: string, marker: string, at: Date) {
	const t = (seconds: number) => new Date(at.getTime() + seconds * 1000).toISOString();
	return [
		{
			type: 'conversation_started',
			conversation_id: externalId,
			timestamp: t(0),
			channel: 'web',
			end_user_id: `end-user-${marker}`
		},
		{
			type: 'message',
			conversation_id: externalId,
			message_id: `${externalId}-m1`,
			timestamp: t(1),
			role: 'user',
			content: `where is my order ${marker}`,
			intent: `intent_${marker}`
		},
		{
			type: 'message',
			conversation_id: externalId,
			message_id: `${externalId}-m2`,
			timestamp: t(2),
			role: 'bot',
			content: `it ships today ${marker}`,
			response_time_ms: 850,
			success: true,
			tokens_in: 120,
			tokens_out: 40,
			cost_usd: 0.002,
			model: `model_${marker}`,
			intent: `intent_${marker}`
		},
		{
			type: 'conversation_ended',
			conversation_id: externalId,
			timestamp: t(3),
			status: 'completed'
		}
	];
}

/**
 * A tenant with a bot, a key and one conversation ingested through the Edge Function two days
 * ago (on an hour boundary plus a few minutes, so the hour and the day are complete).
 */
export async function tenantWithTraffic(label: string, sql: Sql): Promise<TenantData> {
	const tenant = await signUpTenant(label);
	const bot = await createBot(tenant, `${label} support bot`);
	const marker = `${label.toLowerCase()}${randomUUID().replaceAll('-', '').slice(0, 12)}`;
	const hour = 3_600_000;
	const eventTime = new Date(Math.floor((Date.now() - 48 * hour) / hour) * hour + 5 * 60_000);
	const conversationExternalId = `conv-${marker}`;
	const answer = await ingest(
		tenant.client,
		bot.apiKey,
		conversationEvents(conversationExternalId, marker, eventTime)
	);
	if (answer.error || answer.data?.accepted !== 4) {
		throw new Error(
			`ingest for ${label} failed: ${answer.error?.message} ${JSON.stringify(answer.data)}`
		);
	}
	const [conversation] = await sql<{ id: string }[]>`
		select id from public.conversations where bot_id = ${bot.botId} and external_id = ${conversationExternalId}`;
	return {
		...tenant,
		...bot,
		conversationId: conversation.id,
		conversationExternalId,
		marker,
		eventTime
	};
}

/** Runs the pg_cron rollups now (as the cron jobs would), so the metrics tables hold rows. */
export async function runRollups(sql: Sql) {
	for (const job of ['hourly', 'daily', 'current_hour'] as const) {
		for (;;) {
			const [{ result }] = await sql<{ result: { skipped?: string } }[]>`
				select case ${job} when 'hourly' then private.run_hourly_rollup()
					when 'daily' then private.run_daily_rollup() else private.run_current_hour_rollup() end as result`;
			if (!result.skipped) break;
			// The cron job is running this rollup right now: wait for its lock, then run ours.
			await sql.begin(
				(tx) => tx`select pg_advisory_xact_lock(hashtext(${'botflow.rollup.' + job}))`
			);
		}
	}
}

/**
 * A member of the tenant's organization with the given role, the way people join: the owner
 * invites the member's email and the member, signed in, accepts.
 */
export async function addMember(
	owner: Tenant,
	member: Tenant,
	role: 'viewer' | 'admin' | 'owner',
	organizationId = owner.organizationId
) {
	const invited = await owner.client.rpc('invite_member', {
		p_organization_id: organizationId,
		p_email: member.email,
		p_role: role
	});
	if (invited.error) throw new Error(`invite_member failed: ${invited.error.message}`);
	const accepted = await member.client.rpc('accept_invitation', {
		p_invitation_id: invited.data as string
	});
	if (accepted.error) throw new Error(`accept_invitation failed: ${accepted.error.message}`);
}

/** Every row of a tenant across the public tables, as the database (not the API) sees them. */
export async function snapshot(sql: Sql, t: TenantData) {
	const [row] = await sql<{ snapshot: unknown }[]>`
		select jsonb_build_object(
			'organizations', (select jsonb_agg(o order by o.id) from public.organizations o where o.id = ${t.organizationId}),
			'organization_members', (select jsonb_agg(m order by m.user_id) from public.organization_members m where m.organization_id = ${t.organizationId}),
			'organization_invitations', (select jsonb_agg(i order by i.id) from public.organization_invitations i where i.organization_id = ${t.organizationId}),
			'bots', (select jsonb_agg(b order by b.id) from public.bots b where b.organization_id = ${t.organizationId}),
			'bot_api_keys', (select jsonb_agg(to_jsonb(k) - 'last_used_at' order by k.id) from public.bot_api_keys k where k.bot_id = ${t.botId}),
			'conversations', (select jsonb_agg(c order by c.id) from public.conversations c where c.bot_id = ${t.botId}),
			'messages', (select jsonb_agg(to_jsonb(m) - 'search_vector' order by m.id) from public.messages m where m.bot_id = ${t.botId}),
			'usage_analytics', (select jsonb_agg(to_jsonb(u) - 'rolled_up_at' order by u.hour_start) from public.usage_analytics u where u.bot_id = ${t.botId}),
			'usage_breakdowns', (select jsonb_agg(to_jsonb(u) - 'rolled_up_at' order by u.hour_start, u.dimension, u.value) from public.usage_breakdowns u where u.bot_id = ${t.botId}),
			'bot_performance_metrics', (select jsonb_agg(to_jsonb(d) - 'rolled_up_at' order by d.day) from public.bot_performance_metrics d where d.bot_id = ${t.botId}),
			'conversation_metrics', (select jsonb_agg(to_jsonb(c) - 'rolled_up_at' order by c.conversation_id) from public.conversation_metrics c where c.bot_id = ${t.botId})
		) as snapshot`;
	// last_used_at and rolled_up_at move with the tenant's own traffic and the cron jobs.
	return row.snapshot as Record<string, unknown[] | null>;
}

/** True when a payload mentions any of the tenant's identifiers or its marker word. */
export function mentions(payload: unknown, t: TenantData): boolean {
	const text = JSON.stringify(payload ?? null);
	return [t.organizationId, t.botId, t.apiKeyId, t.conversationId, t.marker, t.email].some((id) =>
		text.includes(id)
	);
}

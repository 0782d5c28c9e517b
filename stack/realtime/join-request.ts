// A `phx_join` payload as realtime-js sends it, read into what the server acts on. Pure: every
// field is type-checked here, so the server never trusts the client's shapes; what only the
// database can judge (is the table published?) is left to the server.
import { FilterError, parseFilter, type Condition } from './filters.ts';

/** A postgres_changes entry the client asked for, checked as far as its own text allows. */
export interface ChangesRequest {
	/** The id hosted Realtime hands out, echoed in the reply and in every change frame. */
	id: number;
	/** The entry as the reply echoes it (the client matches on these fields). */
	reply: Record<string, unknown>;
	event: string;
	schema: string;
	table: string | null;
	filter: string | undefined;
	conds: Condition[];
	select: string[] | null;
	/** Why the entry cannot be subscribed (sent as a `system` error), or null. */
	error: string | null;
}

export interface JoinRequest {
	/** The channel token (`access_token` or `user_token`); opaque sb_ keys are not tokens. */
	token: string | null;
	private: boolean;
	self: boolean;
	ack: boolean;
	replicationReady: boolean;
	/** The client's presence key, or null for a server-chosen one. */
	presenceKey: string | null;
	presenceEnabled: boolean;
	/** Whether the client sent a postgres_changes list (even an empty one does not count). */
	wantsChanges: boolean;
	changes: ChangesRequest[];
}

const events = ['*', 'INSERT', 'UPDATE', 'DELETE'];

const asRecord = (v: unknown): Record<string, unknown> =>
	v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {};

/** 27 bits of FNV-1a, like the ids hosted Realtime hands out. */
export function subscriptionId(s: string): number {
	let h = 0x811c9dc5;
	for (let i = 0; i < s.length; i++) {
		h ^= s.charCodeAt(i);
		h = Math.imul(h, 0x01000193);
	}
	return (h >>> 0) % 134217728;
}

function readChanges(p: Record<string, unknown>): ChangesRequest {
	const event = typeof p.event === 'string' ? p.event.toUpperCase() : '*';
	const schema = typeof p.schema === 'string' ? p.schema : 'public';
	const table = typeof p.table === 'string' && p.table !== '*' ? p.table : null;
	const filter = typeof p.filter === 'string' && p.filter ? p.filter : undefined;
	const id = subscriptionId(JSON.stringify([p.event, p.schema, p.table, p.filter, p.select]));
	const reply = {
		id,
		event: p.event,
		schema: p.schema,
		table: p.table,
		...(p.filter !== undefined ? { filter: p.filter } : {})
	};
	const select = Array.isArray(p.select)
		? p.select.filter((c): c is string => typeof c === 'string')
		: null;
	const request = { id, reply, event, schema, table, filter, select, conds: [], error: null };
	try {
		const conds = parseFilter(filter);
		if (!events.includes(event))
			return { ...request, error: `Invalid event "${p.event}": use *, INSERT, UPDATE or DELETE` };
		return { ...request, conds };
	} catch (e) {
		if (!(e instanceof FilterError)) throw e;
		return { ...request, error: `Error parsing \`filter\` params: ${e.message}` };
	}
}

export function readJoin(payload: unknown): JoinRequest {
	const params = asRecord(payload);
	const config = asRecord(params.config);
	const broadcast = asRecord(config.broadcast);
	const presence = asRecord(config.presence);
	let token =
		typeof params.access_token === 'string'
			? params.access_token
			: typeof params.user_token === 'string'
				? params.user_token
				: null;
	if (token?.startsWith('sb_')) token = null;
	const list = Array.isArray(config.postgres_changes)
		? config.postgres_changes.filter((x) => x !== null && typeof x === 'object').map(asRecord)
		: [];
	return {
		token,
		private: config.private === true,
		self: broadcast.self === true,
		ack: broadcast.ack === true,
		replicationReady: broadcast.replication_ready === true,
		presenceKey: typeof presence.key === 'string' && presence.key ? presence.key : null,
		presenceEnabled: presence.enabled === true,
		wantsChanges: list.length > 0,
		changes: list.map(readChanges)
	};
}

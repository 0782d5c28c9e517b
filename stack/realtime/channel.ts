// What the server keeps per socket and per joined channel, and the postgres_changes bindings
// the dispatcher matches changes against. Types only: the server and the dispatcher share them.
import type { WebSocket } from 'ws';
import type { Condition } from './filters.ts';
import type { Tracked } from './presence.ts';
import type { Vsn } from './protocol.ts';

export interface Connection {
	ws: WebSocket;
	vsn: Vsn;
	apikey: string | null;
	channels: Map<string, Channel>;
	/** Frames of one socket are handled one after the other. */
	chain: Promise<void>;
	lastSeen: number;
	closed: boolean;
}

export interface Channel {
	conn: Connection;
	topic: string;
	subTopic: string;
	joinRef: string | null;
	/** topic plus public/private namespace: who hears broadcasts and presence */
	scope: string;
	token: string | null;
	claims: Record<string, unknown> & { role: string; exp: number };
	/** JSON of the claims: identities with equal claims share one RLS check */
	claimsKey: string;
	self: boolean;
	ack: boolean;
	presenceKey: string;
	presenceEnabled: boolean;
	tracked: Tracked | null;
	bindings: Binding[];
	expiryTimer: NodeJS.Timeout | null;
	open: boolean;
}

/** One `postgres_changes` subscription of a channel. */
export interface Binding {
	id: number;
	channel: Channel;
	event: string;
	schema: string;
	table: string | null;
	filter: string | undefined;
	conds: Condition[];
	/** columns to send (`select`), null for all */
	select: string[] | null;
}

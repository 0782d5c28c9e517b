// Who hears what: the channels joined to each scope (a topic in its public/private namespace)
// receive its broadcasts and presence. Broadcasts are encoded once per serializer, not per socket.
import type { Channel, Connection } from './channel.ts';
import { PresenceTopic, diff, newRef, type PresenceMap, type Tracked } from './presence.ts';
import {
	broadcastPayload,
	encodeFrame,
	encodeUserBroadcast,
	type UserBroadcast
} from './protocol.ts';

export interface ScopeSender {
	send(conn: Connection, data: string | Buffer): void;
	push(ch: Channel, event: string, payload: unknown): void;
}

export class Scopes {
	private members = new Map<string, Set<Channel>>();
	private presence = new Map<string, PresenceTopic>();

	constructor(private readonly out: ScopeSender) {}

	add(ch: Channel) {
		let members = this.members.get(ch.scope);
		if (!members) this.members.set(ch.scope, (members = new Set()));
		members.add(ch);
	}

	/** Takes a closing channel out of its scope; what it tracked leaves presence. */
	remove(ch: Channel) {
		const members = this.members.get(ch.scope);
		members?.delete(ch);
		if (members?.size === 0) this.members.delete(ch.scope);
		this.untrack(ch);
	}

	/** Sends a broadcast to every member of a scope (but `except`). */
	relay(scope: string, topic: string, b: UserBroadcast, except: Channel | null) {
		const members = this.members.get(scope);
		if (!members) return;
		let v1: string | null | undefined;
		let v2: Buffer | null | undefined;
		for (const m of members) {
			if (m === except) continue;
			if (m.conn.vsn === '2.0.0') {
				if (v2 === undefined) v2 = encodeUserBroadcast(topic, b);
				if (v2) this.out.send(m.conn, v2);
			} else {
				if (v1 === undefined) {
					const payload = broadcastPayload(b);
					v1 = payload
						? encodeFrame('1.0.0', { joinRef: null, ref: null, topic, event: 'broadcast', payload })
						: null;
				}
				if (v1) this.out.send(m.conn, v1);
			}
		}
	}

	presenceState(scope: string): PresenceMap {
		return this.presence.get(scope)?.state() ?? {};
	}

	/** A channel's presence meta replaces the one it tracked before; tracking turns presence on. */
	track(ch: Channel, meta: object) {
		const leaves = ch.tracked ? [ch.tracked] : [];
		const t: Tracked = { key: ch.presenceKey, meta: { ...meta, phx_ref: newRef() } };
		ch.tracked = t;
		if (!ch.presenceEnabled) {
			// a channel that starts following presence needs the current state first
			ch.presenceEnabled = true;
			this.out.push(ch, 'presence_state', this.presenceState(ch.scope));
		}
		this.presenceChange(ch.scope, [t], leaves);
	}

	untrack(ch: Channel) {
		const t = ch.tracked;
		ch.tracked = null;
		if (t) this.presenceChange(ch.scope, [], [t]);
	}

	/** Applies joins and leaves, and sends the diff to every member that follows presence. */
	private presenceChange(scope: string, joins: Tracked[], leaves: Tracked[]) {
		let topic = this.presence.get(scope);
		if (!topic) this.presence.set(scope, (topic = new PresenceTopic()));
		for (const t of leaves) topic.remove(t);
		for (const t of joins) topic.add(t);
		if (topic.empty) this.presence.delete(scope);
		const payload = diff(joins, leaves);
		for (const m of this.members.get(scope) ?? [])
			if (m.presenceEnabled) this.out.push(m, 'presence_diff', payload);
	}
}

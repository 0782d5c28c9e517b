// The Realtime server: Phoenix channels over `ws` (noServer, so the gateway or the standalone
// entry point hands it upgrades), broadcast, presence, and postgres_changes fed by the
// replication stream and filtered per subscriber (filters in memory, RLS in batched queries).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import postgres from 'postgres';
import { WebSocketServer, type WebSocket } from 'ws';
import { checkToken, opaqueKeyClaims, type TokenResult } from './auth.ts';
import { FilterError, parseFilter, type Condition } from './filters.ts';
import { PresenceTopic, diff, newRef, type Tracked } from './presence.ts';
import {
	FrameError,
	broadcastPayload,
	decodeFrame,
	encodeFrame,
	encodeReply,
	encodeUserBroadcast,
	userBroadcastFromJson,
	type Frame,
	type UserBroadcast,
	type Vsn
} from './protocol.ts';
import { Dispatcher } from './dispatcher.ts';

export interface RealtimeOptions {
	dbUrl: string;
	/** Durable slot name; one consumer per slot, so a second server needs its own. */
	slot: string;
	publication?: string;
	/** Largest frame accepted; bigger ones close the socket with 1009 as hosted does. */
	maxFrameBytes?: number;
	/** Largest broadcast payload relayed. */
	maxBroadcastBytes?: number;
	/** Unsent bytes a connection may hold before it is disconnected as too slow. */
	maxBufferedBytes?: number;
	maxChannelsPerClient?: number;
	/** Disconnect sockets that send nothing (not even heartbeats) for this long. */
	idleTimeoutMs?: number;
	log?: (msg: string) => void;
}

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

export interface Connection {
	ws: WebSocket;
	vsn: Vsn;
	apikey: string | null;
	channels: Map<string, Channel>;
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

const textEncoder = new TextEncoder();

/** The phx_join payload as realtime-js sends it; every field is checked before use. */
interface JoinParams {
	config?: unknown;
	access_token?: unknown;
	user_token?: unknown;
}

interface JoinConfig {
	broadcast?: { self?: unknown; ack?: unknown; replication_ready?: unknown };
	presence?: { key?: unknown; enabled?: unknown };
	postgres_changes?: unknown;
	private?: unknown;
}

function fnv(s: string): number {
	let h = 0x811c9dc5;
	for (let i = 0; i < s.length; i++) {
		h ^= s.charCodeAt(i);
		h = Math.imul(h, 0x01000193);
	}
	return (h >>> 0) % 134217728; // 27 bits, like the ids hosted Realtime hands out
}

export class RealtimeServer {
	readonly wss: WebSocketServer;
	readonly sql: postgres.Sql;
	readonly conns = new Set<Connection>();
	private scopes = new Map<string, Set<Channel>>();
	private presence = new Map<string, PresenceTopic>();
	readonly dispatcher: Dispatcher;
	private sweep: NodeJS.Timeout;
	private publishedCache: { at: number; tables: Set<string> } | null = null;
	readonly o: Required<RealtimeOptions>;

	constructor(opts: RealtimeOptions) {
		this.o = {
			publication: 'supabase_realtime',
			maxFrameBytes: 1024 * 1024,
			maxBroadcastBytes: 256 * 1024,
			maxBufferedBytes: 8 * 1024 * 1024,
			maxChannelsPerClient: 100,
			idleTimeoutMs: 60_000,
			log: (m) => console.error(`[realtime] ${m}`),
			...opts
		};
		this.wss = new WebSocketServer({
			noServer: true,
			maxPayload: this.o.maxFrameBytes,
			perMessageDeflate: false,
			clientTracking: false
		});
		this.sql = postgres(this.o.dbUrl, {
			max: 6,
			onnotice: (n) => n.severity === 'WARNING' && this.o.log(`database warning: ${n.message}`),
			idle_timeout: 60,
			connection: { application_name: 'botflow_realtime_rls' }
		});
		this.dispatcher = new Dispatcher(this);
		this.sweep = setInterval(() => this.closeIdle(), 5000);
		this.sweep.unref();
	}

	async start() {
		await this.dispatcher.start();
	}

	handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
		const url = new URL(req.url ?? '/', 'http://localhost');
		if (!/\/websocket\/?$/.test(url.pathname)) {
			socket.end(
				'HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\n\r\n{"message":"Use /realtime/v1/websocket"}'
			);
			return;
		}
		const vsnParam = url.searchParams.get('vsn') ?? '1.0.0';
		if (vsnParam !== '1.0.0' && vsnParam !== '2.0.0') {
			socket.end(
				'HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n\r\n' +
					JSON.stringify({ message: `unsupported serializer vsn=${vsnParam}: use 1.0.0 or 2.0.0` })
			);
			return;
		}
		this.wss.handleUpgrade(req, socket, head, (ws) =>
			this.onConnection(ws, vsnParam, url.searchParams.get('apikey'))
		);
	}

	private onConnection(ws: WebSocket, vsn: Vsn, apikey: string | null) {
		const conn: Connection = {
			ws,
			vsn,
			apikey,
			channels: new Map(),
			chain: Promise.resolve(),
			lastSeen: Date.now(),
			closed: false
		};
		this.conns.add(conn);
		ws.on('message', (data: Buffer, isBinary: boolean) => {
			conn.lastSeen = Date.now();
			let frame: Frame & { broadcast?: UserBroadcast };
			try {
				frame = decodeFrame(vsn, data, isBinary);
			} catch (e) {
				// Phoenix drops a socket whose frame it cannot decode; say why in the close reason.
				const why = e instanceof FrameError ? e.message : 'invalid frame';
				ws.close(1011, `invalid message: ${why}`.slice(0, 120));
				return;
			}
			conn.chain = conn.chain
				.then(() => this.onFrame(conn, frame))
				.catch((e) => this.o.log(`frame handling failed: ${(e as Error).stack}`));
		});
		ws.on('error', () => {});
		ws.on('close', () => this.onClose(conn));
	}

	private onClose(conn: Connection) {
		if (conn.closed) return;
		conn.closed = true;
		this.conns.delete(conn);
		for (const ch of [...conn.channels.values()]) this.removeChannel(ch);
	}

	private closeIdle() {
		const limit = Date.now() - this.o.idleTimeoutMs;
		for (const c of this.conns)
			if (c.lastSeen < limit)
				c.ws.close(1000, 'heartbeat timeout: send a heartbeat at least every 60 s');
	}

	/** Sends one frame, disconnecting a client that lets its queue grow past the bound. */
	send(conn: Connection, data: string | Buffer, text = false) {
		if (conn.closed) return;
		if (conn.ws.bufferedAmount > this.o.maxBufferedBytes) {
			this.o.log('disconnecting a slow client: its send queue exceeded the bound');
			conn.closed = true;
			conn.ws.close(1013, 'send queue full: the client is not reading fast enough');
			setTimeout(() => conn.ws.terminate(), 1000).unref();
			this.conns.delete(conn);
			for (const ch of [...conn.channels.values()]) this.removeChannel(ch);
			return;
		}
		// `text` marks bytes that are UTF-8 JSON: sent as a text frame, as Phoenix does.
		if (text) conn.ws.send(data, { binary: false });
		else conn.ws.send(data);
	}

	private reply(conn: Connection, f: Frame, status: 'ok' | 'error', response: unknown) {
		this.send(conn, encodeReply(conn.vsn, f.joinRef, f.ref, f.topic, status, response));
	}

	push(ch: Channel, event: string, payload: unknown) {
		this.send(
			ch.conn,
			encodeFrame(ch.conn.vsn, { joinRef: ch.joinRef, ref: null, topic: ch.topic, event, payload })
		);
	}

	private async onFrame(conn: Connection, f: Frame & { broadcast?: UserBroadcast }) {
		if (conn.closed) return;
		if (f.topic === 'phoenix') {
			if (f.event === 'heartbeat') this.reply(conn, f, 'ok', {});
			else this.reply(conn, f, 'error', { reason: 'unmatched topic' });
			return;
		}
		if (f.event === 'phx_join') return this.join(conn, f);
		const ch = conn.channels.get(f.topic);
		if (!ch || (f.joinRef && ch.joinRef && f.joinRef !== ch.joinRef)) {
			this.reply(conn, f, 'error', { reason: 'unmatched topic' });
			return;
		}
		switch (f.event) {
			case 'phx_leave':
				this.reply(conn, f, 'ok', {});
				this.removeChannel(ch);
				return;
			case 'access_token':
				return this.refreshToken(ch, f);
			case 'broadcast':
				return this.broadcast(ch, f);
			case 'presence':
				return this.presenceIn(ch, f);
			default:
				// hosted Realtime ignores unexpected events without replying
				return;
		}
	}

	private async join(conn: Connection, f: Frame) {
		if (!f.topic.startsWith('realtime:')) {
			this.reply(conn, f, 'error', { reason: 'unmatched topic' });
			return;
		}
		const subTopic = f.topic.slice('realtime:'.length);
		const fail = (code: string, message: string) =>
			this.reply(conn, f, 'error', { reason: `${code}: ${message}` });
		if (!subTopic) return fail('TopicNameRequired', 'You must provide a topic name');
		const existing = conn.channels.get(f.topic);
		if (existing) {
			// A rejoin of the same topic replaces the old channel, as Phoenix does.
			this.push(existing, 'phx_close', {});
			this.removeChannel(existing);
		}
		if (conn.channels.size >= this.o.maxChannelsPerClient) {
			this.reply(conn, f, 'error', { reason: 'ChannelRateLimitReached: Too many channels' });
			return;
		}
		const params = (f.payload && typeof f.payload === 'object' ? f.payload : {}) as JoinParams;
		const config = (
			params.config && typeof params.config === 'object' ? params.config : {}
		) as JoinConfig;
		let token: string | null =
			typeof params.access_token === 'string'
				? params.access_token
				: typeof params.user_token === 'string'
					? params.user_token
					: null;
		if (token?.startsWith('sb_')) token = null;
		let auth: TokenResult;
		if (token) auth = await checkToken(token);
		else if (conn.apikey) auth = opaqueKeyClaims(conn.apikey) ?? (await checkToken(conn.apikey));
		else
			auth = {
				ok: false,
				code: 'InvalidJWTToken',
				message: 'Fields `role` and `exp` are required in JWT'
			};
		if (!auth.ok) return fail(auth.code, auth.message);
		if (conn.closed) return;
		if (config.private === true) {
			// Private channels are authorized by policies on realtime.messages, which this local
			// platform does not carry; refuse as hosted does when no policy allows the read.
			return fail(
				'Unauthorized',
				`You do not have permissions to read from this Channel topic: ${subTopic}`
			);
		}
		const scope = `public:${f.topic}`;
		const presenceCfg = (config.presence ?? {}) as Record<string, unknown>;
		const ch: Channel = {
			conn,
			topic: f.topic,
			subTopic,
			joinRef: f.joinRef ?? f.ref,
			scope,
			token: token ?? conn.apikey,
			claims: auth.claims as Channel['claims'],
			claimsKey: JSON.stringify(auth.claims),
			self: config.broadcast?.self === true,
			ack: config.broadcast?.ack === true,
			presenceKey:
				typeof presenceCfg.key === 'string' && presenceCfg.key ? presenceCfg.key : newRef(),
			presenceEnabled: presenceCfg.enabled === true,
			tracked: null,
			bindings: [],
			expiryTimer: null,
			open: true
		};
		const pgChanges = Array.isArray(config.postgres_changes)
			? config.postgres_changes.filter((x: unknown) => x && typeof x === 'object')
			: [];
		const systemErrors: string[] = [];
		const replyList: Record<string, unknown>[] = [];
		for (const p of pgChanges as Record<string, unknown>[]) {
			const event = typeof p.event === 'string' ? p.event.toUpperCase() : '*';
			const schema = typeof p.schema === 'string' ? p.schema : 'public';
			const table = typeof p.table === 'string' && p.table !== '*' ? p.table : null;
			const filter = typeof p.filter === 'string' && p.filter ? p.filter : undefined;
			const id = fnv(JSON.stringify([p.event, p.schema, p.table, p.filter, p.select]));
			replyList.push({
				id,
				event: p.event,
				schema: p.schema,
				table: p.table,
				...(p.filter !== undefined ? { filter: p.filter } : {})
			});
			let conds: Condition[];
			try {
				conds = parseFilter(filter);
			} catch (e) {
				if (!(e instanceof FilterError)) throw e;
				systemErrors.push(`Error parsing \`filter\` params: ${e.message}`);
				continue;
			}
			if (!['*', 'INSERT', 'UPDATE', 'DELETE'].includes(event)) {
				systemErrors.push(`Invalid event "${p.event}": use *, INSERT, UPDATE or DELETE`);
				continue;
			}
			if (table && schema !== '*' && !(await this.isPublished(schema, table))) {
				systemErrors.push(
					`Unable to subscribe to changes with given parameters. Please check Realtime is enabled for the given connect parameters: [schema: ${schema}, table: ${table}, filters: [${filter ?? ''}]]`
				);
				continue;
			}
			const select = Array.isArray(p.select)
				? p.select.filter((c): c is string => typeof c === 'string')
				: null;
			ch.bindings.push({ id, channel: ch, event, schema, table, filter, conds, select });
		}
		if (conn.closed) return;
		// Register before replying: a row committed after the client sees SUBSCRIBED is dispatched
		// after this point, so it finds this subscription.
		conn.channels.set(f.topic, ch);
		let members = this.scopes.get(scope);
		if (!members) this.scopes.set(scope, (members = new Set()));
		members.add(ch);
		for (const b of ch.bindings) this.dispatcher.addBinding(b);
		this.armExpiry(ch);
		this.reply(conn, f, 'ok', { postgres_changes: replyList });
		if (pgChanges.length > 0) {
			if (systemErrors.length === 0) {
				this.push(ch, 'system', {
					extension: 'postgres_changes',
					status: 'ok',
					message: 'Subscribed to PostgreSQL',
					channel: subTopic
				});
			}
			for (const message of systemErrors)
				this.push(ch, 'system', {
					extension: 'postgres_changes',
					status: 'error',
					message,
					channel: subTopic
				});
		}
		if (config.broadcast?.replication_ready === true) {
			this.push(ch, 'system', {
				extension: 'system',
				status: 'ok',
				message: 'Replication connection established',
				channel: subTopic
			});
		}
		if (ch.presenceEnabled)
			this.push(ch, 'presence_state', this.presence.get(scope)?.state() ?? {});
	}

	private async isPublished(schema: string, table: string): Promise<boolean> {
		const key = `${schema}.${table}`;
		const c = this.publishedCache;
		if (c && Date.now() - c.at < 2000 && c.tables.has(key)) return true;
		let rows;
		try {
			rows = await this
				.sql`select schemaname || '.' || tablename as t from pg_publication_tables where pubname = ${this.o.publication}`;
		} catch (e) {
			// database briefly away (restart): accept the subscription; the slot decides later
			this.o.log(`publication lookup failed (${(e as Error).message}); accepting ${key}`);
			return true;
		}
		this.publishedCache = { at: Date.now(), tables: new Set(rows.map((r) => r.t as string)) };
		return this.publishedCache.tables.has(key);
	}

	private armExpiry(ch: Channel) {
		if (ch.expiryTimer) clearTimeout(ch.expiryTimer);
		const ms = ch.claims.exp * 1000 - Date.now();
		// setTimeout caps at ~24.8 days; re-arm rather than overflow.
		ch.expiryTimer = setTimeout(
			() => {
				if (!ch.open) return;
				if (ch.claims.exp * 1000 > Date.now()) return this.armExpiry(ch);
				const ago = Math.max(0, Math.floor(Date.now() / 1000) - ch.claims.exp);
				this.shutdown(ch, `Token has expired ${ago} seconds ago`);
			},
			Math.min(Math.max(ms, 0), 2 ** 31 - 1)
		);
		ch.expiryTimer.unref();
	}

	/** Closes a channel with a reason, as hosted Realtime does: a `system` error, then phx_close. */
	shutdown(ch: Channel, message: string) {
		this.push(ch, 'system', {
			extension: 'system',
			status: 'error',
			message,
			channel: ch.subTopic
		});
		this.push(ch, 'phx_close', {});
		this.removeChannel(ch);
	}

	private async refreshToken(ch: Channel, f: Frame) {
		const token = (f.payload as Record<string, unknown> | null)?.access_token;
		if (typeof token !== 'string' || token.startsWith('sb_') || token === ch.token) return;
		const auth = await checkToken(token);
		if (!ch.open) return;
		if (!auth.ok) return this.shutdown(ch, auth.message);
		ch.token = token;
		ch.claims = auth.claims as Channel['claims'];
		ch.claimsKey = JSON.stringify(auth.claims);
		this.armExpiry(ch);
	}

	removeChannel(ch: Channel) {
		if (!ch.open) return;
		ch.open = false;
		if (ch.expiryTimer) clearTimeout(ch.expiryTimer);
		if (ch.conn.channels.get(ch.topic) === ch) ch.conn.channels.delete(ch.topic);
		const members = this.scopes.get(ch.scope);
		members?.delete(ch);
		if (members?.size === 0) this.scopes.delete(ch.scope);
		for (const b of ch.bindings) this.dispatcher.removeBinding(b);
		if (ch.tracked) {
			const t = ch.tracked;
			ch.tracked = null;
			this.presenceChange(ch.scope, [], [t]);
		}
	}

	private broadcast(ch: Channel, f: Frame & { broadcast?: UserBroadcast }) {
		let b = f.broadcast;
		if (!b) {
			const p = f.payload as Record<string, unknown> | null;
			if (!p || typeof p !== 'object') return;
			b = userBroadcastFromJson(p);
		}
		if (b.body.length > this.o.maxBroadcastBytes) {
			if (ch.ack)
				this.reply(ch.conn, f, 'error', {
					reason: `payload_size_exceeded: broadcast payloads are limited to ${this.o.maxBroadcastBytes} bytes`
				});
			return;
		}
		this.relay(ch.scope, ch.topic, b, ch.self ? null : ch);
		if (ch.ack) this.reply(ch.conn, f, 'ok', {});
	}

	/** Sends a broadcast to every member of a scope (but `except`), encoded once per serializer. */
	private relay(scope: string, topic: string, b: UserBroadcast, except: Channel | null) {
		const members = this.scopes.get(scope);
		if (!members) return;
		let v1: string | null | undefined;
		let v2: Buffer | null | undefined;
		for (const m of members) {
			if (m === except) continue;
			if (m.conn.vsn === '2.0.0') {
				if (v2 === undefined) v2 = encodeUserBroadcast(topic, b);
				if (v2) this.send(m.conn, v2);
			} else {
				if (v1 === undefined) {
					const payload = broadcastPayload(b);
					v1 = payload
						? encodeFrame('1.0.0', { joinRef: null, ref: null, topic, event: 'broadcast', payload })
						: null;
				}
				if (v1) this.send(m.conn, v1);
			}
		}
	}

	/**
	 * The HTTP side of Broadcast (`channel.httpSend()` and the REST fallback of `send()`):
	 * POST .../api/broadcast with {messages: [...]}, or .../api/broadcast/<topic>/events/<event>
	 * with the payload as body. Answers 202 as hosted Realtime does.
	 */
	async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
		const json = (status: number, body: unknown) => {
			res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
		};
		const path = new URL(req.url ?? '/', 'http://localhost').pathname;
		const m = /\/api\/broadcast(?:\/([^/]+)\/events\/([^/]+))?\/?$/.exec(path);
		if (!m) return json(404, { message: 'Not found: use POST /realtime/v1/api/broadcast' });
		if (req.method !== 'POST') return json(405, { message: 'Use POST to broadcast' });
		const chunks: Buffer[] = [];
		let size = 0;
		for await (const c of req as AsyncIterable<Buffer>) {
			size += c.length;
			if (size > this.o.maxBroadcastBytes + 4096) {
				return json(413, {
					message: `Payload too large: the limit is ${this.o.maxBroadcastBytes} bytes`
				});
			}
			chunks.push(c);
		}
		const body = Buffer.concat(chunks);
		const isPrivate =
			new URL(req.url ?? '/', 'http://localhost').searchParams.get('private') === 'true';
		const unauthorized = () =>
			json(403, { message: 'Private channels are not available on the local platform' });
		if (m[1]) {
			if (isPrivate) return unauthorized();
			const topic = `realtime:${decodeURIComponent(m[1])}`;
			const binary = (req.headers['content-type'] ?? '').startsWith('application/octet-stream');
			if (!binary) {
				try {
					JSON.parse(body.toString('utf8'));
				} catch {
					return json(400, {
						message: 'The body must be JSON (or application/octet-stream bytes)'
					});
				}
			}
			this.relay(
				`public:${topic}`,
				topic,
				{ event: decodeURIComponent(m[2]), encoding: binary ? 0 : 1, body, meta: '' },
				null
			);
			return json(202, {});
		}
		let messages: unknown;
		try {
			messages = (JSON.parse(body.toString('utf8')) as { messages?: unknown }).messages;
		} catch {
			return json(400, {
				message: 'The body must be JSON: {"messages": [{"topic", "event", "payload"}]}'
			});
		}
		if (!Array.isArray(messages)) {
			return json(400, {
				message: 'The body must be JSON: {"messages": [{"topic", "event", "payload"}]}'
			});
		}
		for (const msg of messages as Record<string, unknown>[]) {
			if (!msg || typeof msg.topic !== 'string' || typeof msg.event !== 'string') {
				return json(400, { message: 'Each message needs a string topic and event' });
			}
			if (msg.private === true) return unauthorized();
		}
		for (const msg of messages as Record<string, unknown>[]) {
			const topic = `realtime:${msg.topic as string}`;
			this.relay(`public:${topic}`, topic, userBroadcastFromJson(msg), null);
		}
		return json(202, {});
	}

	private presenceIn(ch: Channel, f: Frame) {
		const p = (f.payload ?? {}) as Record<string, unknown>;
		if (p.event === 'track') {
			const meta = p.payload;
			if (!meta || typeof meta !== 'object' || Array.isArray(meta)) {
				this.reply(ch.conn, f, 'error', { reason: 'Presence track payload must be a map' });
				return;
			}
			if (textEncoder.encode(JSON.stringify(meta)).length > 10_000)
				return this.shutdown(ch, 'Track message size exceeded');
			const leaves = ch.tracked ? [ch.tracked] : [];
			const t: Tracked = { key: ch.presenceKey, meta: { ...(meta as object), phx_ref: newRef() } };
			ch.tracked = t;
			this.reply(ch.conn, f, 'ok', {});
			if (!ch.presenceEnabled) {
				// tracking enables presence for this channel: it needs the current state first
				ch.presenceEnabled = true;
				this.push(ch, 'presence_state', this.presence.get(ch.scope)?.state() ?? {});
			}
			this.presenceChange(ch.scope, [t], leaves);
		} else if (p.event === 'untrack') {
			const t = ch.tracked;
			ch.tracked = null;
			this.reply(ch.conn, f, 'ok', {});
			if (t) this.presenceChange(ch.scope, [], [t]);
		} else {
			this.reply(ch.conn, f, 'error', { reason: 'presence event must be track or untrack' });
		}
	}

	private presenceChange(scope: string, joins: Tracked[], leaves: Tracked[]) {
		let topic = this.presence.get(scope);
		if (!topic) this.presence.set(scope, (topic = new PresenceTopic()));
		for (const t of leaves) topic.remove(t);
		for (const t of joins) topic.add(t);
		if (topic.empty) this.presence.delete(scope);
		const payload = diff(joins, leaves);
		for (const m of this.scopes.get(scope) ?? [])
			if (m.presenceEnabled) this.push(m, 'presence_diff', payload);
	}

	async close() {
		clearInterval(this.sweep);
		for (const c of this.conns) c.ws.terminate();
		await this.dispatcher.close();
		await this.sql.end({ timeout: 1 }).catch(() => {});
	}
}

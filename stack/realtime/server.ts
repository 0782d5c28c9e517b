// The Realtime server: Phoenix channels over `ws` (noServer, so the gateway or the standalone
// entry point hands it upgrades), broadcast, presence, and postgres_changes fed by the
// replication stream and filtered per subscriber (filters in memory, RLS in batched queries).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import postgres from 'postgres';
import { WebSocketServer, type WebSocket } from 'ws';
import { armExpiry, checkJoin, checkToken } from './auth.ts';
import type { Channel, Connection } from './channel.ts';
import { Dispatcher } from './dispatcher.ts';
import { serveHttpBroadcast } from './http-broadcast.ts';
import { readJoin } from './join-request.ts';
import { PublishedTables } from './publication.ts';
import { Scopes } from './scopes.ts';
import { newRef } from './presence.ts';
import {
	FrameError,
	decodeFrame,
	encodeFrame,
	encodeReply,
	userBroadcastFromJson,
	type Frame,
	type UserBroadcast,
	type Vsn
} from './protocol.ts';

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

const textEncoder = new TextEncoder();

export class RealtimeServer {
	readonly conns = new Set<Connection>();
	readonly dispatcher: Dispatcher;
	private readonly options: Required<RealtimeOptions>;
	private readonly wss: WebSocketServer;
	private readonly sql: postgres.Sql;
	private readonly scopes: Scopes;
	private readonly published: PublishedTables;
	private sweep: NodeJS.Timeout;

	constructor(opts: RealtimeOptions) {
		const options = (this.options = {
			publication: 'supabase_realtime',
			maxFrameBytes: 1024 * 1024,
			maxBroadcastBytes: 256 * 1024,
			maxBufferedBytes: 8 * 1024 * 1024,
			maxChannelsPerClient: 100,
			idleTimeoutMs: 60_000,
			log: (m: string) => console.error(`[realtime] ${m}`),
			...opts
		});
		this.wss = new WebSocketServer({
			noServer: true,
			maxPayload: options.maxFrameBytes,
			perMessageDeflate: false,
			clientTracking: false
		});
		this.sql = postgres(options.dbUrl, {
			max: 6,
			onnotice: (n) => n.severity === 'WARNING' && options.log(`database warning: ${n.message}`),
			idle_timeout: 60,
			connection: { application_name: 'botflow_realtime_rls' }
		});
		this.dispatcher = new Dispatcher({
			dbUrl: options.dbUrl,
			slot: options.slot,
			publication: options.publication,
			sql: this.sql,
			log: options.log,
			// Change frames are UTF-8 JSON: sent as text frames.
			deliver: (conn, frame) => this.send(conn, frame, true),
			maxBufferedBytes: options.maxBufferedBytes
		});
		this.scopes = new Scopes({
			send: (conn, data) => this.send(conn, data),
			push: (ch, event, payload) => this.push(ch, event, payload)
		});
		this.published = new PublishedTables(this.sql, options.publication, options.log);
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

	/** The HTTP broadcast endpoint (POST /realtime/v1/api/broadcast...). */
	handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
		return serveHttpBroadcast(req, res, this.options.maxBroadcastBytes, (topic, b) =>
			this.scopes.relay(`public:${topic}`, topic, b, null)
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
				.catch((e) => this.options.log(`frame handling failed: ${(e as Error).stack}`));
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
		const limit = Date.now() - this.options.idleTimeoutMs;
		for (const c of this.conns)
			if (c.lastSeen < limit)
				c.ws.close(1000, 'heartbeat timeout: send a heartbeat at least every 60 s');
	}

	/** Sends one frame, disconnecting a client that lets its queue grow past the bound. */
	private send(conn: Connection, data: string | Buffer, text = false) {
		if (conn.closed) return;
		if (conn.ws.bufferedAmount > this.options.maxBufferedBytes) {
			this.options.log('disconnecting a slow client: its send queue exceeded the bound');
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

	private push(ch: Channel, event: string, payload: unknown) {
		this.send(
			ch.conn,
			encodeFrame(ch.conn.vsn, { joinRef: ch.joinRef, ref: null, topic: ch.topic, event, payload })
		);
	}

	/** A `system` message on a channel (`extension` is postgres_changes or system). */
	private system(ch: Channel, extension: string, status: 'ok' | 'error', message: string) {
		this.push(ch, 'system', { extension, status, message, channel: ch.subTopic });
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
		if (conn.channels.size >= this.options.maxChannelsPerClient) {
			this.reply(conn, f, 'error', { reason: 'ChannelRateLimitReached: Too many channels' });
			return;
		}
		const request = readJoin(f.payload);
		const token = request.token;
		const auth = await checkJoin(token, conn.apikey);
		if (!auth.ok) return fail(auth.code, auth.message);
		if (conn.closed) return;
		if (request.private) {
			// Private channels are authorized by policies on realtime.messages, which this local
			// platform does not carry; refuse as hosted does when no policy allows the read.
			return fail(
				'Unauthorized',
				`You do not have permissions to read from this Channel topic: ${subTopic}`
			);
		}
		const scope = `public:${f.topic}`;
		const ch: Channel = {
			conn,
			topic: f.topic,
			subTopic,
			joinRef: f.joinRef ?? f.ref,
			scope,
			token: token ?? conn.apikey,
			claims: auth.claims as Channel['claims'],
			claimsKey: JSON.stringify(auth.claims),
			self: request.self,
			ack: request.ack,
			presenceKey: request.presenceKey ?? newRef(),
			presenceEnabled: request.presenceEnabled,
			tracked: null,
			bindings: [],
			expiryTimer: null,
			open: true
		};
		const systemErrors: string[] = [];
		for (const { id, event, schema, table, filter, conds, select, error } of request.changes) {
			if (error) {
				systemErrors.push(error);
				continue;
			}
			if (table && schema !== '*' && !(await this.published.has(schema, table))) {
				systemErrors.push(
					`Unable to subscribe to changes with given parameters. Please check Realtime is enabled for the given connect parameters: [schema: ${schema}, table: ${table}, filters: [${filter ?? ''}]]`
				);
				continue;
			}
			ch.bindings.push({ id, channel: ch, event, schema, table, filter, conds, select });
		}
		if (conn.closed) return;
		// Register before replying: a row committed after the client sees SUBSCRIBED is dispatched
		// after this point, so it finds this subscription.
		conn.channels.set(f.topic, ch);
		this.scopes.add(ch);
		for (const b of ch.bindings) this.dispatcher.addBinding(b);
		this.expireWithToken(ch);
		this.reply(conn, f, 'ok', { postgres_changes: request.changes.map((c) => c.reply) });
		if (request.wantsChanges) {
			if (systemErrors.length === 0)
				this.system(ch, 'postgres_changes', 'ok', 'Subscribed to PostgreSQL');
			for (const message of systemErrors) this.system(ch, 'postgres_changes', 'error', message);
		}
		if (request.replicationReady)
			this.system(ch, 'system', 'ok', 'Replication connection established');
		if (ch.presenceEnabled) this.push(ch, 'presence_state', this.scopes.presenceState(scope));
	}

	private expireWithToken(ch: Channel) {
		armExpiry(ch, (message) => this.shutdown(ch, message));
	}

	/** Closes a channel with a reason, as hosted Realtime does: a `system` error, then phx_close. */
	private shutdown(ch: Channel, message: string) {
		this.system(ch, 'system', 'error', message);
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
		this.expireWithToken(ch);
	}

	private removeChannel(ch: Channel) {
		if (!ch.open) return;
		ch.open = false;
		if (ch.expiryTimer) clearTimeout(ch.expiryTimer);
		if (ch.conn.channels.get(ch.topic) === ch) ch.conn.channels.delete(ch.topic);
		for (const b of ch.bindings) this.dispatcher.removeBinding(b);
		this.scopes.remove(ch);
	}

	private broadcast(ch: Channel, f: Frame & { broadcast?: UserBroadcast }) {
		let b = f.broadcast;
		if (!b) {
			const p = f.payload as Record<string, unknown> | null;
			if (!p || typeof p !== 'object') return;
			b = userBroadcastFromJson(p);
		}
		const max = this.options.maxBroadcastBytes;
		if (b.body.length > max) {
			if (ch.ack)
				this.reply(ch.conn, f, 'error', {
					reason: `payload_size_exceeded: broadcast payloads are limited to ${max} bytes`
				});
			return;
		}
		this.scopes.relay(ch.scope, ch.topic, b, ch.self ? null : ch);
		if (ch.ack) this.reply(ch.conn, f, 'ok', {});
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
			this.reply(ch.conn, f, 'ok', {});
			this.scopes.track(ch, meta);
		} else if (p.event === 'untrack') {
			this.reply(ch.conn, f, 'ok', {});
			this.scopes.untrack(ch);
		} else {
			this.reply(ch.conn, f, 'error', { reason: 'presence event must be track or untrack' });
		}
	}

	async close() {
		clearInterval(this.sweep);
		for (const c of this.conns) c.ws.terminate();
		await this.dispatcher.close();
		await this.sql.end({ timeout: 1 }).catch(() => {});
	}
}

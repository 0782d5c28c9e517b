// The HTTP side of Broadcast (`channel.httpSend()` and the REST fallback of `send()`):
// POST .../api/broadcast with {messages: [...]}, or .../api/broadcast/<topic>/events/<event>
// with the payload as body. Answers 202 as hosted Realtime does.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { userBroadcastFromJson, type UserBroadcast } from './protocol.ts';

/** Relays one broadcast to every channel joined to `topic` (`realtime:<name>`). */
export type Relay = (topic: string, broadcast: UserBroadcast) => void;

const messagesShape = 'The body must be JSON: {"messages": [{"topic", "event", "payload"}]}';

export async function serveHttpBroadcast(
	req: IncomingMessage,
	res: ServerResponse,
	maxBroadcastBytes: number,
	relay: Relay
): Promise<void> {
	const json = (status: number, body: unknown) => {
		res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
	};
	const url = new URL(req.url ?? '/', 'http://localhost');
	const m = /\/api\/broadcast(?:\/([^/]+)\/events\/([^/]+))?\/?$/.exec(url.pathname);
	if (!m) return json(404, { message: 'Not found: use POST /realtime/v1/api/broadcast' });
	if (req.method !== 'POST') return json(405, { message: 'Use POST to broadcast' });
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const c of req as AsyncIterable<Buffer>) {
		size += c.length;
		if (size > maxBroadcastBytes + 4096) {
			return json(413, { message: `Payload too large: the limit is ${maxBroadcastBytes} bytes` });
		}
		chunks.push(c);
	}
	const body = Buffer.concat(chunks);
	const unauthorized = () =>
		json(403, { message: 'Private channels are not available on the local platform' });
	if (m[1]) {
		if (url.searchParams.get('private') === 'true') return unauthorized();
		const binary = (req.headers['content-type'] ?? '').startsWith('application/octet-stream');
		if (!binary) {
			try {
				JSON.parse(body.toString('utf8'));
			} catch {
				return json(400, { message: 'The body must be JSON (or application/octet-stream bytes)' });
			}
		}
		const event = decodeURIComponent(m[2]);
		relay(`realtime:${decodeURIComponent(m[1])}`, {
			event,
			encoding: binary ? 0 : 1,
			body,
			meta: ''
		});
		return json(202, {});
	}
	let messages: unknown;
	try {
		messages = (JSON.parse(body.toString('utf8')) as { messages?: unknown }).messages;
	} catch {
		return json(400, { message: messagesShape });
	}
	if (!Array.isArray(messages)) return json(400, { message: messagesShape });
	for (const msg of messages as Record<string, unknown>[]) {
		if (!msg || typeof msg.topic !== 'string' || typeof msg.event !== 'string') {
			return json(400, { message: 'Each message needs a string topic and event' });
		}
		if (msg.private === true) return unauthorized();
	}
	for (const msg of messages as Record<string, unknown>[])
		relay(`realtime:${msg.topic as string}`, userBroadcastFromJson(msg));
	return json(202, {});
}

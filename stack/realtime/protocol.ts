// Phoenix channel frames as @supabase/realtime-js speaks them: serializer 1.0.0 (JSON objects)
// and 2.0.0 (JSON arrays, plus binary user broadcast frames in both directions).

export type Vsn = '1.0.0' | '2.0.0';

export interface Frame {
	joinRef: string | null;
	ref: string | null;
	topic: string;
	event: string;
	payload: unknown;
}

/** A user broadcast, kept in its wire form so it can be relayed without re-encoding. */
export interface UserBroadcast {
	event: string;
	/** 1 = JSON text, 0 = opaque bytes */
	encoding: 0 | 1;
	body: Buffer;
	meta: string;
}

export class FrameError extends Error {}

const KIND_USER_BROADCAST_PUSH = 3;
const KIND_USER_BROADCAST = 4;

function str(v: unknown): string | null {
	if (v === null || v === undefined) return null;
	if (typeof v === 'string') return v;
	if (typeof v === 'number') return String(v);
	throw new FrameError('ref and join_ref must be strings or null');
}

/** Decodes one incoming WebSocket message; throws FrameError on anything malformed. */
export function decodeFrame(
	vsn: Vsn,
	data: Buffer,
	isBinary: boolean
): Frame & { broadcast?: UserBroadcast } {
	if (isBinary) {
		if (vsn !== '2.0.0') throw new FrameError('binary frames need serializer vsn=2.0.0');
		return decodeBinary(data);
	}
	let parsed: unknown;
	try {
		parsed = JSON.parse(data.toString('utf8'));
	} catch {
		throw new FrameError('frame is not valid JSON');
	}
	if (vsn === '2.0.0') {
		if (!Array.isArray(parsed) || parsed.length !== 5) {
			throw new FrameError('vsn 2.0.0 frames are [join_ref, ref, topic, event, payload]');
		}
		const [joinRef, ref, topic, event, payload] = parsed;
		if (typeof topic !== 'string' || typeof event !== 'string') {
			throw new FrameError('topic and event must be strings');
		}
		return { joinRef: str(joinRef), ref: str(ref), topic, event, payload };
	}
	if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
		throw new FrameError('vsn 1.0.0 frames are {topic, event, payload, ref}');
	}
	const m = parsed as Record<string, unknown>;
	if (typeof m.topic !== 'string' || typeof m.event !== 'string') {
		throw new FrameError('topic and event must be strings');
	}
	return {
		joinRef: str(m.join_ref),
		ref: str(m.ref),
		topic: m.topic,
		event: m.event,
		payload: m.payload
	};
}

function decodeBinary(buf: Buffer): Frame & { broadcast: UserBroadcast } {
	if (buf.length < 7 || buf[0] !== KIND_USER_BROADCAST_PUSH) {
		throw new FrameError(
			'unsupported binary frame: only user broadcast pushes (kind 3) are accepted'
		);
	}
	const [joinRefLen, refLen, topicLen, eventLen, metaLen, encoding] = buf.subarray(1, 7);
	let off = 7;
	const take = (n: number) => {
		if (off + n > buf.length) throw new FrameError('binary frame is truncated');
		const s = buf.toString('utf8', off, off + n);
		off += n;
		return s;
	};
	const joinRef = take(joinRefLen);
	const ref = take(refLen);
	const topic = take(topicLen);
	const event = take(eventLen);
	const meta = take(metaLen);
	if (encoding !== 0 && encoding !== 1)
		throw new FrameError('binary frame payload encoding must be 0 or 1');
	const body = buf.subarray(off);
	return {
		joinRef: joinRef || null,
		ref: ref || null,
		topic,
		event: 'broadcast',
		payload: null,
		broadcast: { event, encoding: encoding as 0 | 1, body, meta }
	};
}

/** Encodes a server message for one serializer (1.0.0 has no join_ref). */
export function encodeFrame(vsn: Vsn, f: Frame): string {
	if (vsn === '2.0.0') return JSON.stringify([f.joinRef, f.ref, f.topic, f.event, f.payload]);
	return JSON.stringify({ topic: f.topic, event: f.event, payload: f.payload, ref: f.ref });
}

export function encodeReply(
	vsn: Vsn,
	joinRef: string | null,
	ref: string | null,
	topic: string,
	status: 'ok' | 'error',
	response: unknown
): string {
	return encodeFrame(vsn, {
		joinRef,
		ref,
		topic,
		event: 'phx_reply',
		payload: { status, response }
	});
}

/** A broadcast as a vsn 2.0.0 client receives it (kind 4), or null if it cannot be framed. */
export function encodeUserBroadcast(topic: string, b: UserBroadcast): Buffer | null {
	const t = Buffer.from(topic);
	const e = Buffer.from(b.event);
	const m = Buffer.from(b.meta);
	if (t.length > 255 || e.length > 255 || m.length > 255) return null;
	const head = Buffer.from([KIND_USER_BROADCAST, t.length, e.length, m.length, b.encoding]);
	return Buffer.concat([head, t, e, m, b.body]);
}

/** The same broadcast for a vsn 1.0.0 client; bytes payloads cannot be expressed in JSON. */
export function broadcastPayload(b: UserBroadcast): Record<string, unknown> | null {
	if (b.encoding !== 1) return null;
	const out: Record<string, unknown> = {
		type: 'broadcast',
		event: b.event,
		payload: JSON.parse(b.body.toString('utf8'))
	};
	if (b.meta) out.meta = JSON.parse(b.meta);
	return out;
}

/** Wraps a JSON broadcast (as a vsn 1.0.0 client sends it) in the relay form. */
export function userBroadcastFromJson(payload: Record<string, unknown>): UserBroadcast {
	const event = typeof payload.event === 'string' ? payload.event : '';
	return { event, encoding: 1, body: Buffer.from(JSON.stringify(payload.payload ?? {})), meta: '' };
}

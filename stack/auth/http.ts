// Request and response plumbing shared by the auth endpoints, with GoTrue's error shape.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** GoTrue's API version: clients read it to know errors carry a string `code`. */
const apiVersion = '2024-01-01';
const maxBody = 1024 * 1024;
/** How much of an oversized body is read and dropped before the connection is cut instead. */
const drainLimit = 16 * 1024 * 1024;

/** An error a client caused, answered with GoTrue's status, code and message. */
export class AuthError extends Error {
	constructor(
		readonly status: number,
		readonly code: string,
		message: string,
		readonly extra: Record<string, unknown> = {}
	) {
		super(message);
	}
}

export function sendJson(
	res: ServerResponse,
	status: number,
	body: unknown,
	headers: Record<string, string> = {}
) {
	const text = JSON.stringify(body);
	res.writeHead(status, {
		'content-type': 'application/json',
		'content-length': String(Buffer.byteLength(text)),
		'x-supabase-api-version': apiVersion,
		...headers
	});
	res.end(text);
}

export function sendNoContent(res: ServerResponse) {
	res.writeHead(204, { 'x-supabase-api-version': apiVersion }).end();
}

/** Newer clients send the API version header and get `{code, message}`; older ones the legacy body. */
export function sendError(req: IncomingMessage, res: ServerResponse, e: AuthError) {
	const modern = (req.headers['x-supabase-api-version'] ?? '') >= apiVersion;
	const body = modern
		? { code: e.code, message: e.message, ...e.extra }
		: { code: e.status, error_code: e.code, msg: e.message, ...e.extra };
	const headers: Record<string, string> = {};
	if (e.status === 429) headers['retry-after'] = '300';
	sendJson(res, e.status, body, headers);
}

/** The request's JSON object; each endpoint checks the fields it uses. */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
	if (req.method === 'GET' || req.method === 'HEAD') return {};
	const declared = Number(req.headers['content-length'] ?? 0);
	if (declared > maxBody) throw tooLarge(req);
	const text = await new Promise<string>((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		const onData = (chunk: Buffer) => {
			size += chunk.length;
			if (size <= maxBody) return void chunks.push(chunk);
			req.off('data', onData);
			reject(tooLarge(req));
		};
		req.on('data', onData);
		req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
		req.once('error', reject);
	});
	if (text === '') return {};
	try {
		const body = JSON.parse(text);
		if (body === null || typeof body !== 'object' || Array.isArray(body)) {
			throw new Error('expected a JSON object');
		}
		return body;
	} catch (e) {
		throw new AuthError(
			400,
			'bad_json',
			`Could not parse request body as JSON: ${(e as Error).message}`
		);
	}
}

/**
 * Answers before the rest of an oversized body arrives. The rest is read and dropped, so a
 * client still uploading gets the answer rather than a reset connection; a body far past the
 * limit has its connection cut instead.
 */
function tooLarge(req: IncomingMessage) {
	let dropped = 0;
	req.on('data', (chunk: Buffer) => {
		dropped += chunk.length;
		if (dropped > drainLimit) req.socket.destroy();
	});
	req.resume();
	return new AuthError(413, 'request_too_large', 'Request body is larger than 1 MB: send less');
}

export function bearer(req: IncomingMessage): string | undefined {
	const h = req.headers.authorization;
	if (!h) return undefined;
	const m = /^bearer\s+(.+)$/i.exec(h);
	return m ? m[1].trim() : undefined;
}

export function clientAddress(req: IncomingMessage): string {
	return req.socket.remoteAddress ?? 'unknown';
}

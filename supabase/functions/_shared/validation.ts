import type { z } from 'zod';
import { HttpError } from './errors.ts';

/** `events[3].role` style path, as a bot developer would write it in their own code. */
export function formatPath(path: readonly PropertyKey[]): string {
	let out = '';
	for (const part of path) {
		if (typeof part === 'number') out += `[${part}]`;
		else out += out === '' ? String(part) : `.${String(part)}`;
	}
	return out === '' ? '(body)' : out;
}

export type FieldIssue = { path: string; message: string };

/** The 400 for a request that breaks its schema: every issue (up to 20) with its field path. */
export function invalidRequest(issues: FieldIssue[]): HttpError {
	const listed = issues.slice(0, 20);
	const first = listed[0];
	return new HttpError(400, 'invalid_request', `${first.path}: ${first.message}`, {
		issues: listed
	});
}

/** Parses with zod; on failure a 400 listing every issue with its exact field path. */
export function parseOr400<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
	const result = schema.safeParse(input);
	if (result.success) return result.data;
	const issues = result.error.issues.flatMap((issue) =>
		// Unknown keys are reported on the parent object; point at the key itself instead.
		issue.code === 'unrecognized_keys'
			? issue.keys.map((key) => ({
					path: formatPath([...issue.path, key]),
					message: 'unknown field; remove it'
				}))
			: [{ path: formatPath(issue.path), message: issue.message }]
	);
	throw invalidRequest(issues);
}

/**
 * Reads a request body as text, refusing with 413 as soon as it passes maxBytes, so an
 * oversized upload is never buffered whole.
 */
export async function readTextLimited(req: Request, maxBytes: number): Promise<string> {
	const tooLarge = () =>
		new HttpError(
			413,
			'payload_too_large',
			`Request body exceeds ${maxBytes} bytes; split the batch into smaller requests.`,
			{ max_bytes: maxBytes }
		);
	const declared = Number(req.headers.get('Content-Length') ?? NaN);
	if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();
	if (!req.body) return '';
	const reader = req.body.getReader();
	const chunks: Uint8Array[] = [];
	let size = 0;
	for (;;) {
		const { done, value } = await reader.read();
		if (done) break;
		size += value.byteLength;
		if (size > maxBytes) {
			await reader.cancel().catch(() => {});
			throw tooLarge();
		}
		chunks.push(value);
	}
	const body = new Uint8Array(size);
	let offset = 0;
	for (const chunk of chunks) {
		body.set(chunk, offset);
		offset += chunk.byteLength;
	}
	try {
		return new TextDecoder('utf-8', { fatal: true }).decode(body);
	} catch {
		throw new HttpError(400, 'invalid_encoding', 'Request body is not valid UTF-8.');
	}
}

export function parseJson(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch (err) {
		throw new HttpError(
			400,
			'invalid_json',
			`Request body is not valid JSON (${(err as Error).message}); send a JSON object.`
		);
	}
}

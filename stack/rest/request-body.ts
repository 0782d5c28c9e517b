// Request bodies: read with a size cap (PostgREST sits behind a gateway that has one) and
// parsed as JSON with PostgREST's PGRST102 on failure.
import type { IncomingMessage } from 'node:http';
import { ApiError } from './errors.ts';

/** Hosted Supabase's gateway refuses bodies above this; so do we, before parsing. */
export const maxBodyBytes = 10 * 1024 * 1024;

/**
 * Reads the body up to maxBodyBytes. A larger body is drained (not kept) before the 413 so
 * the client, still uploading, reads the answer instead of a reset connection.
 */
export function readBody(req: IncomingMessage): Promise<string> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		req.on('data', (chunk: Buffer) => {
			size += chunk.length;
			if (size <= maxBodyBytes) chunks.push(chunk);
			else if (size > maxBodyBytes * 8) req.destroy();
		});
		req.on('end', () =>
			size > maxBodyBytes ? reject(tooLarge()) : resolve(Buffer.concat(chunks).toString('utf8'))
		);
		req.on('error', reject);
	});
}

export function tooLarge(): ApiError {
	return new ApiError(
		413,
		'PGRST413',
		'Request size limit exceeded',
		`The request body is larger than ${maxBodyBytes / 1024 / 1024} MB.`,
		'Send fewer rows per request.',
		{ connection: 'close' }
	);
}

export function parseJson(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch (e) {
		throw new ApiError(400, 'PGRST102', 'Empty or invalid json', (e as Error).message);
	}
}

export function isObject(v: unknown): v is Record<string, unknown> {
	return typeof v === 'object' && v !== null && !Array.isArray(v);
}

import { corsHeaders } from './cors.ts';

/** An error the caller can fix; its message says what to change. */
export class HttpError extends Error {
	constructor(
		readonly status: number,
		readonly code: string,
		message: string,
		readonly details: Record<string, unknown> = {},
		readonly headers: Record<string, string> = {}
	) {
		super(message);
	}
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
	return new Response(JSON.stringify(body), {
		status,
		headers: { ...corsHeaders, 'Content-Type': 'application/json', ...headers }
	});
}

/** Turns any thrown value into a JSON error; unexpected ones are logged, never shown raw. */
export function errorResponse(err: unknown, context: string): Response {
	if (err instanceof HttpError) {
		return json(
			{ error: { code: err.code, message: err.message, ...err.details } },
			err.status,
			err.headers
		);
	}
	console.error(`${context}:`, err);
	return json(
		{ error: { code: 'internal_error', message: 'Internal error; try again later.' } },
		500
	);
}

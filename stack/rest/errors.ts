// PostgREST's error body ({ code, details, hint, message }) and its HTTP status mapping, so
// supabase-js surfaces exactly what a hosted project would.

export class ApiError extends Error {
	constructor(
		readonly status: number,
		readonly code: string,
		message: string,
		readonly details: string | null = null,
		readonly hint: string | null = null,
		readonly headers: Record<string, string> = {}
	) {
		super(message);
	}

	body(): string {
		return JSON.stringify({
			code: this.code,
			details: this.details,
			hint: this.hint,
			message: this.message
		});
	}
}

/** A malformed query string (PostgREST's PGRST100). */
export function parseError(message: string, details: string): ApiError {
	return new ApiError(400, 'PGRST100', message, details);
}

export function columnNotFound(table: string, column: string): ApiError {
	return new ApiError(400, '42703', `column ${table}.${column} does not exist`);
}

/** Status PostgREST gives a Postgres SQLSTATE (see its "HTTP status codes" docs). */
function statusForSqlState(code: string, anonymous: boolean): number {
	if (/^PT\d{3}$/.test(code)) return Number(code.slice(2));
	switch (code) {
		case '23503':
		case '23505':
			return 409;
		case '25006':
			return 405;
		case '42883':
		case '42P01':
			return 404;
		case '42P17':
			return 500;
		case '42501':
			return anonymous ? 401 : 403;
		case 'P0001':
			return 400;
	}
	const prefix = code.slice(0, 2);
	if (prefix === '08' || prefix === '53') return 503;
	if (prefix === '0L' || prefix === '0P' || prefix === '28') return 403;
	if (
		[
			'09',
			'25',
			'2D',
			'38',
			'39',
			'3B',
			'40',
			'54',
			'55',
			'57',
			'58',
			'F0',
			'HV',
			'P0',
			'XX'
		].includes(prefix)
	) {
		return 500;
	}
	return 400;
}

/** A database error as either client reports it. */
export interface DbErrorFields {
	code: string;
	message: string;
	detail?: string;
	hint?: string;
}

export function fromPostgres(e: DbErrorFields, anonymous: boolean): ApiError {
	return new ApiError(
		statusForSqlState(e.code, anonymous),
		e.code,
		e.message,
		e.detail ?? null,
		e.hint ?? null
	);
}

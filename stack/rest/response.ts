// Turning a statement's (total, page_total, body) into PostgREST's response: status (200,
// 206 for a partial page, 406 for single), Content-Range, content type and body.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { config } from '../config.ts';
import type { BodyFormat } from './statements.ts';
import { ApiError } from './errors.ts';

export const jsonType = 'application/json; charset=utf-8';
const objectType = 'application/vnd.pgrst.object+json; charset=utf-8';
const csvType = 'text/csv; charset=utf-8';

/** The one row every statement returns. */
export interface Result {
	total: string | null;
	page_total: number;
	body: string | null;
}

/** What the response carries, decided before the statement runs. */
export interface Shape {
	status: number;
	single: boolean;
	csv: boolean;
	/** Send the body at all (not for HEAD, return=minimal, headers-only). */
	send: boolean;
	/** A function returning one value or row: unwrap the one-element array. */
	unwrap?: boolean;
	offset: number;
	countKind: string | null;
	headers: Record<string, string>;
	location?: { table: string; pk: string[] };
}

export function respond(res: ServerResponse, shape: Shape, row: Result, planned: number | null) {
	const headers: Record<string, string> = { ...shape.headers };
	const n = row.page_total;
	let total: number | null = row.total === null ? null : Number(row.total);
	if (shape.countKind === 'planned' && planned !== null) total = planned;
	// estimated: exact up to max_rows (the statement counts no further), the planner beyond.
	if (
		shape.countKind === 'estimated' &&
		planned !== null &&
		total !== null &&
		total > config.api.maxRows
	)
		total = planned;
	let status = shape.status;
	if (total !== null && status === 200) {
		if (shape.offset > 0 && shape.offset > total) {
			throw new ApiError(
				416,
				'PGRST103',
				'Requested range not satisfiable',
				`An offset of ${shape.offset} was requested, but there are only ${total} rows.`,
				null,
				{
					'content-range': `*/${total}`
				}
			);
		}
		if (n < total) status = 206;
	}
	headers['content-range'] =
		`${n > 0 ? `${shape.offset}-${shape.offset + n - 1}` : '*'}/${total ?? '*'}`;
	if (shape.single && n !== 1) {
		throw new ApiError(
			406,
			'PGRST116',
			'Cannot coerce the result to a single JSON object',
			`The result contains ${n} rows`
		);
	}
	if (shape.location && row.body) {
		const first = (JSON.parse(row.body) as Record<string, unknown>[])[0];
		if (first) {
			const q = shape.location.pk
				.map((c) => `${encodeURIComponent(c)}=eq.${encodeURIComponent(String(first[c]))}`)
				.join('&');
			headers.location = `/${shape.location.table}?${q}`;
		}
	}
	if (!shape.send || row.body === null) {
		res.writeHead(status, headers).end();
		return;
	}
	let body = row.body;
	if (shape.csv) {
		headers['content-type'] = csvType;
	} else if (shape.single || shape.unwrap) {
		headers['content-type'] = shape.single ? objectType : jsonType;
		body = n === 0 ? 'null' : body.slice(1, -1);
	} else headers['content-type'] = jsonType;
	res.writeHead(status, headers).end(body);
}

export function shapeFor(
	req: IncomingMessage,
	prefer: Map<string, string>,
	status: number,
	send: boolean,
	offset = 0
): Shape {
	const accept = req.headers.accept ?? '';
	return {
		status,
		single: accept.includes('application/vnd.pgrst.object'),
		csv: accept.startsWith('text/csv'),
		send: send && req.method !== 'HEAD',
		offset,
		countKind: prefer.get('count') ?? null,
		headers: {}
	};
}

/** The body format the Accept header asks for; 406 PGRST107 for one we cannot produce. */
export function bodyFormat(req: IncomingMessage): BodyFormat {
	const accept = (req.headers.accept ?? '').toLowerCase();
	if (accept.startsWith('text/csv')) return 'csv';
	if (accept.includes('nulls=stripped')) return 'stripped';
	const acceptable = [
		'*/*',
		'application/json',
		'application/vnd.pgrst.object',
		'application/vnd.pgrst.array',
		'application/*',
		''
	];
	const types = accept.split(',').map((t) => t.split(';')[0].trim());
	if (!types.some((t) => acceptable.some((a) => t === a || (a && t.startsWith(a))))) {
		throw new ApiError(406, 'PGRST107', `None of these media types are available: ${accept}`);
	}
	return 'json';
}

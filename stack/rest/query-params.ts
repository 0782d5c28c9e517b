// The query string and headers that shape a read: filters, logic trees, order and paging per
// level (top or embedded), the Range header, max_rows, `columns` and `Prefer: count`.
import type { IncomingMessage } from 'node:http';
import { config } from '../config.ts';
import { emptyLevel, type Level } from './build-sql.ts';
import { ApiError } from './errors.ts';
import { parseFieldKey, parseFilter, parseLogic, parseOrder } from './parse.ts';
import type { Relation } from './schema-cache.ts';

/** Top-level and embedded filters / order / paging from the query string. */
export function levels(url: URL, skip: Set<string>): { top: Level; embeds: Map<string, Level> } {
	const top = emptyLevel();
	const embeds = new Map<string, Level>();
	for (const [k, v] of url.searchParams) {
		// Kong lets the key ride in the query string; it is not a filter.
		if (skip.has(k) || k === 'apikey') continue;
		let level = top;
		let name = k;
		const dot = k.indexOf('.');
		if (dot > 0 && !k.startsWith('not.') && !k.slice(0, dot).includes('->')) {
			const label = k.slice(0, dot);
			level = embeds.get(label) ?? emptyLevel();
			embeds.set(label, level);
			name = k.slice(dot + 1);
		}
		if (name === 'order') level.order.push(...parseOrder(v));
		else if (name === 'limit' || name === 'offset') {
			const n = Number(v);
			if (!Number.isInteger(n) || n < 0) {
				throw new ApiError(
					400,
					'PGRST100',
					`"failed to parse ${name} parameter (${v})"`,
					`${name} must be a non-negative integer`
				);
			}
			level[name] = n;
		} else if (['or', 'and', 'not.or', 'not.and'].includes(name)) {
			const negate = name.startsWith('not.');
			level.conditions.push(
				parseLogic(negate ? (name.slice(4) as 'or' | 'and') : (name as 'or' | 'and'), negate, v)
			);
		} else level.conditions.push({ ...parseFilter(parseFieldKey(name), v) });
	}
	return { top, embeds };
}

/** Applies the Range header and max_rows to the top level. */
export function page(req: IncomingMessage, level: Level) {
	const range = req.headers.range;
	if (range && level.limit === undefined && level.offset === undefined) {
		const m = /^(?:items=)?(\d+)-(\d*)$/.exec(range.trim());
		if (m) {
			level.offset = Number(m[1]);
			if (m[2] !== '') level.limit = Math.max(0, Number(m[2]) - Number(m[1]) + 1);
		}
	}
	if (level.limit === undefined || level.limit > config.api.maxRows)
		level.limit = config.api.maxRows;
}

export function checkColumns(rel: Relation, columns: string[]) {
	for (const c of columns) {
		if (!rel.columns.has(c)) {
			throw new ApiError(
				400,
				'PGRST204',
				`Could not find the '${c}' column of '${rel.name}' in the schema cache`
			);
		}
	}
}

export function countKind(prefer: Map<string, string>): 'exact' | 'planned' | 'estimated' | null {
	const c = prefer.get('count');
	return c === 'exact' || c === 'planned' || c === 'estimated' ? c : null;
}

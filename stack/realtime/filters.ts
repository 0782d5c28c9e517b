// Postgres Changes `filter` strings (`col=op.value`, comma-joined conditions meaning AND, an
// optional `not.` prefix), parsed once at join and evaluated per change in memory.

export type Op =
	| 'eq'
	| 'neq'
	| 'lt'
	| 'lte'
	| 'gt'
	| 'gte'
	| 'in'
	| 'is'
	| 'like'
	| 'ilike'
	| 'match'
	| 'imatch'
	| 'isdistinct';

const OPS = new Set<Op>([
	'eq',
	'neq',
	'lt',
	'lte',
	'gt',
	'gte',
	'in',
	'is',
	'like',
	'ilike',
	'match',
	'imatch',
	'isdistinct'
]);

export interface Condition {
	column: string;
	op: Op;
	negate: boolean;
	/** `in` holds several values; every other operator one. */
	values: (string | null)[];
	regex?: RegExp;
}

export class FilterError extends Error {}

/** Splits on `sep` outside double quotes and parentheses. */
function splitTop(s: string, sep: string): string[] {
	const out: string[] = [];
	let depth = 0;
	let quoted = false;
	let cur = '';
	for (let i = 0; i < s.length; i++) {
		const c = s[i];
		if (quoted) {
			if (c === '\\' && i + 1 < s.length) {
				cur += c + s[++i];
				continue;
			}
			if (c === '"') quoted = false;
			cur += c;
			continue;
		}
		if (c === '"') quoted = true;
		else if (c === '(') depth++;
		else if (c === ')') depth--;
		if (c === sep && depth === 0) {
			out.push(cur);
			cur = '';
		} else cur += c;
	}
	out.push(cur);
	return out;
}

function unquote(v: string): string {
	const t = v.trim();
	if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) {
		return t.slice(1, -1).replace(/\\(.)/g, '$1');
	}
	return t;
}

function likeToRegex(pattern: string, flags: string): RegExp {
	let re = '';
	for (const ch of pattern) {
		if (ch === '%' || ch === '*') re += '.*';
		else if (ch === '_') re += '.';
		else re += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
	}
	return new RegExp(`^${re}$`, flags + 's');
}

export function parseFilter(filter: string | undefined | null): Condition[] {
	if (!filter) return [];
	return splitTop(filter, ',').map((part) => {
		const eq = part.indexOf('=');
		if (eq <= 0)
			throw new FilterError(`filter "${part}" must look like column=operator.value, e.g. id=eq.1`);
		const column = part.slice(0, eq).trim();
		let rest = part.slice(eq + 1);
		let negate = false;
		if (rest.startsWith('not.')) {
			negate = true;
			rest = rest.slice(4);
		}
		const dot = rest.indexOf('.');
		const op = (dot < 0 ? rest : rest.slice(0, dot)) as Op;
		if (!OPS.has(op)) {
			throw new FilterError(
				`filter operator "${op}" is not supported: use one of ${[...OPS].join(', ')}`
			);
		}
		const raw = dot < 0 ? '' : rest.slice(dot + 1);
		const cond: Condition = { column, op, negate, values: [] };
		if (op === 'in') {
			const m = raw.trim().match(/^\((.*)\)$/s);
			if (!m) throw new FilterError(`filter "${part}": in takes a list, e.g. ${column}=in.(1,2,3)`);
			cond.values = splitTop(m[1], ',').map(unquote);
		} else if (op === 'is') {
			const v = raw.trim().toLowerCase();
			if (!['null', 'true', 'false', 'unknown'].includes(v)) {
				throw new FilterError(`filter "${part}": is takes null, true, false or unknown`);
			}
			cond.values = [v];
		} else {
			cond.values = [unquote(raw)];
		}
		if (op === 'like' || op === 'ilike')
			cond.regex = likeToRegex(cond.values[0] ?? '', op === 'ilike' ? 'i' : '');
		if (op === 'match' || op === 'imatch') {
			try {
				cond.regex = new RegExp(cond.values[0] ?? '', op === 'imatch' ? 'i' : '');
			} catch {
				throw new FilterError(`filter "${part}": the pattern is not a valid regular expression`);
			}
		}
		return cond;
	});
}

const NUMERIC = new Set(['int2', 'int4', 'int8', 'float4', 'float8', 'numeric', 'oid', 'money']);

/** Compares a record value with a filter literal using the column's type; null if incomparable. */
function compare(value: unknown, literal: string, type: string): number | null {
	if (value === null || value === undefined) return null;
	if (NUMERIC.has(type)) {
		const a = Number(value);
		const b = Number(literal);
		if (Number.isNaN(a) || Number.isNaN(b)) return null;
		return a === b ? 0 : a < b ? -1 : 1;
	}
	if (type === 'bool') {
		const a = value === true || value === 't' || value === 'true';
		const b = ['t', 'true', '1', 'yes', 'on'].includes(literal.toLowerCase());
		return a === b ? 0 : a ? 1 : -1;
	}
	if (type === 'timestamptz' || type === 'timestamp' || type === 'date') {
		const a = Date.parse(String(value));
		const b = Date.parse(literal);
		if (!Number.isNaN(a) && !Number.isNaN(b)) return a === b ? 0 : a < b ? -1 : 1;
	}
	const a = typeof value === 'object' ? JSON.stringify(value) : String(value);
	if (type === 'uuid') {
		const x = a.toLowerCase();
		const y = literal.toLowerCase();
		return x === y ? 0 : x < y ? -1 : 1;
	}
	return a === literal ? 0 : a < literal ? -1 : 1;
}

function test(c: Condition, value: unknown, type: string): boolean {
	const lit = c.values[0] ?? '';
	switch (c.op) {
		case 'eq':
			return compare(value, lit, type) === 0;
		case 'neq': {
			const r = compare(value, lit, type);
			return r !== null && r !== 0;
		}
		case 'lt': {
			const r = compare(value, lit, type);
			return r !== null && r < 0;
		}
		case 'lte': {
			const r = compare(value, lit, type);
			return r !== null && r <= 0;
		}
		case 'gt': {
			const r = compare(value, lit, type);
			return r !== null && r > 0;
		}
		case 'gte': {
			const r = compare(value, lit, type);
			return r !== null && r >= 0;
		}
		case 'in':
			return c.values.some((v) => v !== null && compare(value, v, type) === 0);
		case 'is':
			if (lit === 'null' || lit === 'unknown') return value === null || value === undefined;
			return value !== null && value !== undefined && compare(value, lit, 'bool') === 0;
		case 'isdistinct':
			if (value === null || value === undefined) return lit.toLowerCase() !== 'null';
			return compare(value, lit, type) !== 0;
		case 'like':
		case 'ilike':
		case 'match':
		case 'imatch':
			return value !== null && value !== undefined && c.regex!.test(String(value));
	}
}

/** True when every condition holds for the record; SQL semantics: null never matches. */
export function matches(
	conds: Condition[],
	record: Record<string, unknown>,
	types: Map<string, string>
): boolean {
	for (const c of conds) {
		const value = record[c.column];
		const ok = test(c, value, types.get(c.column) ?? 'text');
		if (c.negate ? ok || value === null || value === undefined : !ok) return false;
	}
	return true;
}

// Parsers for PostgREST's query language: `select`, filters (`col=op.value`), logic trees
// (`or=(...)`, `and=(...)`, nested), `order`, and the `Prefer` header. They produce plain
// trees; nothing here touches SQL.
import { parseError } from './errors.ts';

export interface PathStep {
	op: '->' | '->>';
	key: string;
}

export interface Field {
	name: string;
	path: PathStep[];
}

export type SelectItem =
	| { kind: 'star' }
	| { kind: 'field'; field: Field; alias?: string; cast?: string }
	| {
			kind: 'embed';
			name: string;
			alias?: string;
			hint?: string;
			inner: boolean;
			select: SelectItem[];
			/** `...rel(cols)`: the to-one parent's columns merged into this row. */
			spread?: boolean;
	  };

export interface Filter {
	kind: 'filter';
	field: Field;
	negate: boolean;
	op: string;
	/** fts config, or `any` / `all` for the list forms of like and friends. */
	modifier?: string;
	value: string;
	list?: string[];
}

export interface Logic {
	kind: 'logic';
	op: 'and' | 'or';
	negate: boolean;
	children: Condition[];
}

export type Condition = Filter | Logic;

export interface OrderTerm {
	field: Field;
	desc: boolean;
	nulls?: 'first' | 'last';
}

const operators = new Set([
	'eq',
	'neq',
	'gt',
	'gte',
	'lt',
	'lte',
	'like',
	'ilike',
	'match',
	'imatch',
	'in',
	'is',
	'isdistinct',
	'cs',
	'cd',
	'ov',
	'sl',
	'sr',
	'nxl',
	'nxr',
	'adj',
	'fts',
	'plfts',
	'phfts',
	'wfts'
]);

/** Reads an identifier (plain or double-quoted) at `s[i]`; returns it and the next index. */
function readName(s: string, i: number, stop: RegExp): [string, number] {
	if (s[i] === '"') {
		let out = '';
		let j = i + 1;
		while (j < s.length) {
			if (s[j] === '"') {
				if (s[j + 1] === '"') {
					out += '"';
					j += 2;
					continue;
				}
				return [out, j + 1];
			}
			out += s[j++];
		}
		throw parseError(`"failed to parse select parameter (${s})"`, 'unterminated quoted identifier');
	}
	let j = i;
	while (j < s.length && !stop.test(s[j]) && !s.startsWith('->', j) && !s.startsWith('::', j)) j++;
	return [s.slice(i, j), j];
}

/** `data->a->>b` into a column name and JSON path steps. */
function readField(s: string, i: number, stop: RegExp, what: string): [Field, number] {
	const [name, start] = readName(s, i, stop);
	let j = start;
	if (!name)
		throw parseError(
			`"failed to parse ${what}"`,
			`unexpected "${s[j] ?? 'end of input'}" expecting field name`
		);
	const path: PathStep[] = [];
	while (s.startsWith('->', j)) {
		const op = s.startsWith('->>', j) ? '->>' : '->';
		j += op.length;
		let k: string;
		[k, j] = readName(s, j, stop);
		if (!k) throw parseError(`"failed to parse ${what}"`, 'expecting a JSON key after ' + op);
		path.push({ op, key: k });
	}
	return [{ name, path }, j];
}

export function parseSelect(input: string): SelectItem[] {
	const s = input.replace(/\s+(?=(?:[^"]*"[^"]*")*[^"]*$)/g, '');
	const stop = /[,:()!]/;
	let i = 0;
	const fail = (expecting: string) =>
		parseError(
			`"failed to parse select parameter (${input})"`,
			`unexpected "${s[i] ?? 'end of input'}" expecting ${expecting}`
		);

	function items(): SelectItem[] {
		const out: SelectItem[] = [];
		for (;;) {
			out.push(item());
			if (s[i] !== ',') return out;
			i++;
		}
	}

	function item(): SelectItem {
		if (s[i] === '*') {
			i++;
			return { kind: 'star' };
		}
		if (s.startsWith('...', i)) {
			i += 3;
			const embedded = item();
			if (embedded.kind !== 'embed') throw fail('an embedded resource after "..."');
			return { ...embedded, spread: true };
		}
		let alias: string | undefined;
		let [name, j] = readName(s, i, stop);
		if (!name) throw fail('field name');
		if (s[j] === ':' && s[j + 1] !== ':') {
			alias = name;
			i = j + 1;
			[name, j] = readName(s, i, stop);
			if (!name) throw fail('field name');
		}
		if (s[j] === '!' || s[j] === '(') {
			let hint: string | undefined;
			let inner = false;
			i = j;
			while (s[i] === '!') {
				let h: string;
				[h, i] = readName(s, i + 1, stop);
				if (h === 'inner') inner = true;
				else if (h !== 'left') hint = h;
			}
			if (s[i] !== '(') throw fail('"("');
			i++;
			const select = s[i] === ')' ? [] : items();
			if (s[i] !== ')') throw fail('")"');
			i++;
			return { kind: 'embed', name, alias, hint, inner, select };
		}
		let field: Field;
		[field, i] = readField(s, i, stop, `select parameter (${input})`);
		if (alias === undefined && field.path.length > 0) alias = field.path.at(-1)!.key;
		let cast: string | undefined;
		if (s.startsWith('::', i)) {
			const m = /^[A-Za-z_][A-Za-z0-9_ ]*(\[\])?/.exec(s.slice(i + 2));
			if (!m) throw fail('a type name after "::"');
			cast = m[0];
			i += 2 + m[0].length;
		}
		return { kind: 'field', field, alias, cast };
	}

	if (s === '') return [{ kind: 'star' }];
	const out = items();
	if (i !== s.length) throw fail('"," or end of input');
	return out;
}

/** Splits at top-level commas, leaving parentheses, braces and double quotes intact. */
function splitTopLevel(s: string): string[] {
	const parts: string[] = [];
	let depth = 0;
	let quoted = false;
	let start = 0;
	for (let i = 0; i < s.length; i++) {
		const c = s[i];
		if (c === '\\' && quoted) i++;
		else if (c === '"') quoted = !quoted;
		else if (!quoted && (c === '(' || c === '{')) depth++;
		else if (!quoted && (c === ')' || c === '}')) depth--;
		else if (!quoted && depth === 0 && c === ',') {
			parts.push(s.slice(start, i));
			start = i + 1;
		}
	}
	parts.push(s.slice(start));
	return parts;
}

function unquote(v: string): string {
	if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) {
		return v.slice(1, -1).replace(/\\(.)/g, '$1');
	}
	return v;
}

/** `(a,"b,c",d)` or `{a,b}` into its items. */
function parseList(raw: string, open: string, close: string, context: string): string[] {
	if (!raw.startsWith(open) || !raw.endsWith(close)) {
		throw parseError(
			`"failed to parse filter (${context})"`,
			`expecting a list like ${open}a,b${close}`
		);
	}
	const inner = raw.slice(1, -1);
	if (inner === '') return [];
	return splitTopLevel(inner).map((v) => unquote(v.trim()));
}

/** The right-hand side of a filter: `[not.]op[(modifier)].value`. */
export function parseFilter(field: Field, raw: string, inLogic = false): Filter {
	let rest = raw;
	let negate = false;
	if (rest.startsWith('not.')) {
		negate = true;
		rest = rest.slice(4);
	}
	const m = /^([a-z]+)(?:\(([A-Za-z0-9_]+)\))?\.([\s\S]*)$/.exec(rest);
	if (!m || !operators.has(m[1])) {
		const op = m?.[1] ?? rest.split('.')[0];
		throw parseError(
			`"failed to parse filter (${raw})"`,
			`unexpected "${op}" expecting a filter operator (eq, neq, gt, gte, lt, lte, like, ilike, in, is, cs, cd, ov, fts, ...)`
		);
	}
	const [, op, modifier, rawValue] = m;
	const value = inLogic ? unquote(rawValue) : rawValue;
	const filter: Filter = { kind: 'filter', field, negate, op, modifier, value };
	if (op === 'in') filter.list = parseList(rawValue, '(', ')', raw);
	if (modifier === 'any' || modifier === 'all') filter.list = parseList(rawValue, '{', '}', raw);
	if (
		op === 'is' &&
		!['null', 'not_null', 'true', 'false', 'unknown'].includes(value.toLowerCase())
	) {
		throw parseError(
			`"failed to parse filter (${raw})"`,
			'unexpected value for is: expecting null, not_null, true, false or unknown'
		);
	}
	return filter;
}

/** A filter's left-hand side (`col`, `data->>key`). */
export function parseFieldKey(key: string): Field {
	const [field, end] = readField(key, 0, /[,()]/, `filter (${key})`);
	if (end !== key.length)
		throw parseError(`"failed to parse filter (${key})"`, 'unexpected characters in column name');
	return field;
}

/** `(a.eq.1,or(b.gt.2,c.is.null))` into a logic tree. */
export function parseLogic(op: 'and' | 'or', negate: boolean, raw: string): Logic {
	if (!raw.startsWith('(') || !raw.endsWith(')')) {
		throw parseError(`"failed to parse logic tree (${raw})"`, 'expecting "(" ... ")"');
	}
	const children = splitTopLevel(raw.slice(1, -1)).map((part): Condition => {
		const nested = /^(not\.)?(and|or)(\([\s\S]*\))$/.exec(part);
		if (nested) return parseLogic(nested[2] as 'and' | 'or', !!nested[1], nested[3]);
		const [field, end] = readField(part, 0, /[.,()]/, `logic tree (${raw})`);
		if (part[end] !== '.') {
			throw parseError(
				`"failed to parse logic tree (${raw})"`,
				`unexpected "${part}" expecting a filter like col.eq.value`
			);
		}
		return parseFilter(field, part.slice(end + 1), true);
	});
	return { kind: 'logic', op, negate, children };
}

export function parseOrder(raw: string): OrderTerm[] {
	return splitTopLevel(raw).map((term) => {
		const [field, end] = readField(term, 0, /[.,]/, `order (${raw})`);
		const mods = term.slice(end).split('.').filter(Boolean);
		const out: OrderTerm = { field, desc: false };
		for (const mod of mods) {
			if (mod === 'asc' || mod === 'desc') out.desc = mod === 'desc';
			else if (mod === 'nullsfirst' || mod === 'nullslast')
				out.nulls = mod === 'nullsfirst' ? 'first' : 'last';
			else {
				throw parseError(
					`"failed to parse order (${raw})"`,
					`unexpected "${mod}" expecting "asc", "desc", "nullsfirst" or "nullslast"`
				);
			}
		}
		return out;
	});
}

/** `Prefer: return=representation, count=exact` (repeated headers arrive comma-joined). */
export function parsePrefer(header: string | string[] | undefined): Map<string, string> {
	const out = new Map<string, string>();
	const text = Array.isArray(header) ? header.join(',') : (header ?? '');
	for (const part of text.split(',')) {
		const [k, v] = part.trim().split('=');
		if (k) out.set(k.trim().toLowerCase(), (v ?? '').trim());
	}
	return out;
}

// Turns parsed requests into one SQL statement each. Identifiers come only from the schema
// cache (quoted), values only ever as bound parameters (`$n::text`, cast to the column's
// catalog type), and rows are turned into JSON by Postgres so node never re-serializes them.
import { ApiError, columnNotFound, parseError } from './errors.ts';
import {
	ident,
	key,
	literal,
	type Column,
	type DbFunction,
	type ForeignKey,
	type Relation,
	type SchemaCache
} from './schema-cache.ts';
import type { Condition, Field, Filter, OrderTerm, SelectItem } from './parse.ts';

export class Params {
	readonly values: (string | number)[] = [];
	/** A text parameter; the caller casts it to what the expression needs. */
	text(v: string): string {
		this.values.push(v);
		return `$${this.values.length}::text`;
	}
	int(v: number): string {
		this.values.push(v);
		return `$${this.values.length}::bigint`;
	}
}

/** Filters, order and paging that apply to one level of a (possibly embedded) query. */
export interface Level {
	conditions: Condition[];
	order: OrderTerm[];
	limit?: number;
	offset?: number;
}

export const emptyLevel = (): Level => ({ conditions: [], order: [] });

/** How an embed reaches its target: one foreign key, or two through a junction table. */
export interface Relationship {
	target: Relation;
	/** The key between parent and target, or between junction and target. */
	fk: ForeignKey;
	toOne: boolean;
	junction?: { relation: Relation; toParent: ForeignKey };
}

/** A readable source: a table or view, or a function call's rows. */
export interface Source {
	relation: Relation;
	/** `from` clause text that binds alias `_t0` (or the alias given). */
	from: (alias: string) => string;
	/** A common table expression the `from` reads (`name as (...)`). */
	cte?: string;
}

export class Builder {
	/** Per statement, so the same request shape always yields the same (prepared) SQL text. */
	private aliasCounter = 0;
	private nextAlias = () => `_t${++this.aliasCounter}`;
	/** `exists (...)` per embed (by `parentAlias.label`), for `embed=is.null` filters. */
	private embedExists = new Map<string, string>();

	constructor(
		readonly cache: SchemaCache,
		readonly schema: string,
		readonly params: Params,
		/** Query params addressed to embeds (`alias.col=eq.x`, `alias.order=...`), by alias. */
		readonly embedLevels: Map<string, Level> = new Map()
	) {}

	relation(name: string): Relation {
		const rel = this.cache.relations.get(key(this.schema, name));
		if (!rel) {
			throw new ApiError(
				404,
				'PGRST205',
				`Could not find the table '${this.schema}.${name}' in the schema cache`,
				null,
				this.suggestTable(name)
			);
		}
		return rel;
	}

	private suggestTable(name: string): string | null {
		const lower = name.toLowerCase();
		for (const rel of this.cache.relations.values()) {
			if (
				rel.schema === this.schema &&
				(rel.name.toLowerCase().includes(lower) || lower.includes(rel.name.toLowerCase()))
			) {
				return `Perhaps you meant the table '${rel.schema}.${rel.name}'`;
			}
		}
		return null;
	}

	column(rel: Relation, name: string): Column {
		const col = rel.columns.get(name);
		if (!col) throw columnNotFound(rel.name, name);
		return col;
	}

	/** The SQL for `col` or `col->a->>b` on `alias`, with the type the result has. */
	field(rel: Relation, alias: string, field: Field): { sql: string; type: string } {
		const col = this.column(rel, field.name);
		let sql = `${alias}.${ident(col.name)}`;
		let type = col.type;
		for (const step of field.path) {
			const k = /^-?\d+$/.test(step.key)
				? `${this.params.int(Number(step.key))}::int`
				: this.params.text(step.key);
			sql = `(${sql}${step.op}${k})`;
			type = step.op === '->>' ? 'text' : col.type === 'json' ? 'json' : 'jsonb';
		}
		return { sql, type };
	}

	castType(name: string): string {
		const array = name.endsWith('[]');
		const base = (array ? name.slice(0, -2) : name).trim().toLowerCase();
		const sqlName = this.cache.types.get(base);
		if (!sqlName) throw new ApiError(400, '42704', `type "${base}" does not exist`);
		return array ? `${sqlName}[]` : sqlName;
	}

	filter(rel: Relation, alias: string, f: Filter): string {
		const related = this.embedExists.get(`${alias}.${f.field.name}`);
		if (related && !rel.columns.has(f.field.name) && f.op === 'is' && f.field.path.length === 0) {
			// `embed=is.null` / `not.is.null`: parents without (or with) a matching related row.
			const present = f.value.toLowerCase() === 'null' ? f.negate : !f.negate;
			return present ? related : `not ${related}`;
		}
		const { sql: expr, type } = this.field(rel, alias, f.field);
		const p = (v: string) => `${this.params.text(v)}::${type}`;
		const txt = (v: string) => this.params.text(v);
		let out: string;
		const likeOp = { like: 'like', ilike: 'ilike', match: '~', imatch: '~*' }[f.op];
		const cmp = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' }[f.op];
		const rangeOp = {
			cs: '@>',
			cd: '<@',
			ov: '&&',
			sl: '<<',
			sr: '>>',
			nxl: '&>',
			nxr: '&<',
			adj: '-|-'
		}[f.op];
		const ftsFn = {
			fts: 'to_tsquery',
			plfts: 'plainto_tsquery',
			phfts: 'phraseto_tsquery',
			wfts: 'websearch_to_tsquery'
		}[f.op];
		if (f.list && likeOp) {
			const pattern = (v: string) => (f.op.endsWith('like') ? v.replaceAll('*', '%') : v);
			const items = f.list.map((v) => txt(pattern(v))).join(', ');
			out = `${expr} ${likeOp} ${f.modifier}(array[${items}]::text[])`;
		} else if (cmp) {
			out = `${expr} ${cmp} ${f.list ? `${f.modifier}(array[${f.list.map(p).join(', ')}])` : p(f.value)}`;
		} else if (likeOp) {
			out = `${expr} ${likeOp} ${txt(f.op.endsWith('like') ? f.value.replaceAll('*', '%') : f.value)}`;
		} else if (f.op === 'in') {
			out = f.list!.length === 0 ? 'false' : `${expr} in (${f.list!.map(p).join(', ')})`;
		} else if (f.op === 'is') {
			const v = f.value.toLowerCase();
			out = `${expr} is ${v === 'not_null' ? 'not null' : v}`;
		} else if (f.op === 'isdistinct') {
			out = `${expr} is distinct from ${p(f.value)}`;
		} else if (rangeOp) {
			out = `${expr} ${rangeOp} ${p(f.value)}`;
		} else if (ftsFn) {
			const config = f.modifier ? `${txt(f.modifier)}::regconfig, ` : '';
			out = `${expr} @@ ${ftsFn}(${config}${txt(f.value)})`;
		} else {
			throw parseError(`"failed to parse filter (${f.op})"`, `unknown operator ${f.op}`);
		}
		return f.negate ? `not (${out})` : out;
	}

	condition(rel: Relation, alias: string, c: Condition): string {
		if (c.kind === 'filter') return this.filter(rel, alias, c);
		const parts = c.children.map((child) => this.condition(rel, alias, child));
		const joined =
			parts.length === 0 ? 'true' : `(${parts.join(c.op === 'and' ? ' and ' : ' or ')})`;
		return c.negate ? `not ${joined}` : joined;
	}

	where(rel: Relation, alias: string, conditions: Condition[], extra: string[] = []): string {
		const parts = [...conditions.map((c) => this.condition(rel, alias, c)), ...extra];
		return parts.length ? ` where ${parts.join(' and ')}` : '';
	}

	orderBy(rel: Relation, alias: string, order: OrderTerm[], select: SelectItem[] = []): string {
		if (order.length === 0) return '';
		const terms = order.map((o) => {
			const related = /^([^()]+)\(([^()]+)\)$/.exec(o.field.name);
			const sql = related
				? this.relatedColumn(rel, alias, related[1], { ...o.field, name: related[2] }, select)
				: this.field(rel, alias, o.field).sql;
			return `${sql} ${o.desc ? 'desc' : 'asc'}${o.nulls ? ` nulls ${o.nulls}` : ''}`;
		});
		return ` order by ${terms.join(', ')}`;
	}

	/** `order=bot(name)`: a to-one embed's column (the embed named by alias or table). */
	private relatedColumn(
		rel: Relation,
		alias: string,
		label: string,
		field: Field,
		select: SelectItem[]
	): string {
		const embed = select.find((i) => i.kind === 'embed' && (i.alias ?? i.name) === label);
		const name = embed?.kind === 'embed' ? embed.name : label;
		const { target, fk, toOne } = this.relationship(
			rel,
			name,
			embed?.kind === 'embed' ? embed.hint : undefined
		);
		if (!toOne) {
			throw new ApiError(
				400,
				'PGRST118',
				`A related order on '${label}' is not possible`,
				`'${rel.name}' and '${label}' do not form a many-to-one or one-to-one relationship`
			);
		}
		const child = this.nextAlias();
		const join = fk.to.columns.map(
			(c, i) => `${child}.${ident(c)} = ${alias}.${ident(fk.from.columns[i])}`
		);
		const { sql } = this.field(target, child, field);
		return `(select ${sql} from ${ident(target.schema)}.${ident(target.name)} ${child} where ${join.join(' and ')})`;
	}

	paging(level: Level): string {
		let out = '';
		if (level.limit !== undefined) out += ` limit ${this.params.int(level.limit)}`;
		if (level.offset) out += ` offset ${this.params.int(level.offset)}`;
		return out;
	}

	/** Finds the foreign key that links `parent` to the embed named `name`. */
	relationship(parent: Relation, name: string, hint?: string): Relationship {
		const candidates: Relationship[] = [];
		const sameTable = (side: ForeignKey['from'], rel: Relation) =>
			side.schema === rel.schema && side.table === rel.name;
		const targetByName = this.cache.relations.get(key(this.schema, name));
		for (const fk of this.cache.foreignKeys) {
			if (targetByName) {
				if (sameTable(fk.from, parent) && sameTable(fk.to, targetByName)) {
					candidates.push({ target: targetByName, fk, toOne: true });
				} else if (sameTable(fk.to, parent) && sameTable(fk.from, targetByName)) {
					candidates.push({ target: targetByName, fk, toOne: false });
				}
			} else if (
				sameTable(fk.from, parent) &&
				(fk.name === name || (fk.from.columns.length === 1 && fk.from.columns[0] === name))
			) {
				// `bot:bot_id(name)` names the foreign key column (or constraint) instead of the table.
				const target = this.cache.relations.get(key(fk.to.schema, fk.to.table));
				if (target) candidates.push({ target, fk, toOne: true });
			}
		}
		if (targetByName && candidates.length === 0) {
			// Many-to-many: a junction table with a foreign key to each side.
			for (const toParent of this.cache.foreignKeys) {
				if (!sameTable(toParent.to, parent)) continue;
				const junction = this.cache.relations.get(key(toParent.from.schema, toParent.from.table));
				if (!junction || junction === parent || junction === targetByName) continue;
				for (const toTarget of this.cache.foreignKeys) {
					if (
						toTarget !== toParent &&
						sameTable(toTarget.from, junction) &&
						sameTable(toTarget.to, targetByName)
					) {
						candidates.push({
							target: targetByName,
							fk: toTarget,
							toOne: false,
							junction: { relation: junction, toParent }
						});
					}
				}
			}
		}
		const matching = hint
			? candidates.filter(
					(c) =>
						c.fk.name === hint ||
						c.fk.from.columns.includes(hint) ||
						c.target.name === hint ||
						c.junction?.relation.name === hint
				)
			: candidates;
		if (matching.length === 0) {
			throw new ApiError(
				400,
				'PGRST200',
				`Could not find a relationship between '${parent.name}' and '${name}' in the schema cache`,
				`Searched for a foreign key relationship between '${parent.name}' and '${name}'${hint ? ` using the hint '${hint}'` : ''} in the schema '${this.schema}', but no matches were found.`,
				null
			);
		}
		if (matching.length > 1) {
			throw new ApiError(
				300,
				'PGRST201',
				`Could not embed because more than one relationship was found for '${parent.name}' and '${name}'`,
				matching
					.map(
						(c) =>
							`${c.fk.name} (${c.fk.from.table}(${c.fk.from.columns.join(', ')}) -> ${c.fk.to.table})`
					)
					.join('; '),
				`Try changing '${name}' to one of: ${matching.map((c) => `'${name}!${c.fk.name}'`).join(', ')}. Find the desired relationship in the 'details' key.`
			);
		}
		return matching[0];
	}

	/** `...parent(cols)`: one scalar subquery per column of a to-one parent. */
	private spread(
		rel: Relation,
		alias: string,
		item: Extract<SelectItem, { kind: 'embed' }>,
		target: Relation,
		fk: ForeignKey,
		toOne: boolean
	): string[] {
		if (!toOne) {
			throw new ApiError(
				400,
				'PGRST119',
				`A spread operation on '${item.name}' is not possible`,
				`'${rel.name}' and '${item.name}' do not form a many-to-one or one-to-one relationship`
			);
		}
		const child = this.nextAlias();
		const join = fk.to.columns.map(
			(c, i) => `${child}.${ident(c)} = ${alias}.${ident(fk.from.columns[i])}`
		);
		const level = this.embedLevels.get(item.alias ?? item.name) ?? emptyLevel();
		const from = `${ident(target.schema)}.${ident(target.name)} ${child}`;
		const requested: SelectItem[] = item.select.length ? item.select : [{ kind: 'star' }];
		const items = requested.flatMap((i): SelectItem[] =>
			i.kind === 'star'
				? [...target.columns.keys()].map((name) => ({ kind: 'field', field: { name, path: [] } }))
				: [i]
		);
		return items.map((sub) => {
			if (sub.kind === 'embed' && sub.spread)
				throw parseError('"failed to parse select parameter"', 'nested spreads are not supported');
			const label =
				sub.kind === 'field'
					? (sub.alias ?? sub.field.name)
					: sub.kind === 'embed'
						? (sub.alias ?? sub.name)
						: '';
			const { list } = this.selectList(target, child, [sub]);
			const where = this.where(target, child, level.conditions, join);
			return `(select ${list} from ${from}${where}) as ${ident(label)}`;
		});
	}

	/**
	 * The select list for `rel` bound to `alias`, plus `exists` conditions that `!inner`
	 * embeds add to the enclosing query's where clause.
	 */
	selectList(rel: Relation, alias: string, items: SelectItem[]): { list: string; inner: string[] } {
		const out: string[] = [];
		const inner: string[] = [];
		for (const item of items) {
			if (item.kind === 'star') {
				out.push(`${alias}.*`);
			} else if (item.kind === 'field') {
				const { sql } = this.field(rel, alias, item.field);
				const cast = item.cast ? `::${this.castType(item.cast)}` : '';
				out.push(`${sql}${cast} as ${ident(item.alias ?? item.field.name)}`);
			} else {
				const label = item.alias ?? item.name;
				const { target, fk, toOne, junction } = this.relationship(rel, item.name, item.hint);
				if (item.spread) {
					out.push(...this.spread(rel, alias, item, target, fk, toOne));
					continue;
				}
				const child = this.nextAlias();
				let from = `${ident(target.schema)}.${ident(target.name)} ${child}`;
				let join: string[];
				if (junction) {
					const j = this.nextAlias();
					const on = fk.from.columns.map(
						(c, i) => `${j}.${ident(c)} = ${child}.${ident(fk.to.columns[i])}`
					);
					from += ` join ${ident(junction.relation.schema)}.${ident(junction.relation.name)} ${j} on ${on.join(' and ')}`;
					const p = junction.toParent;
					join = p.from.columns.map(
						(c, i) => `${j}.${ident(c)} = ${alias}.${ident(p.to.columns[i])}`
					);
				} else {
					const [childCols, parentCols] = toOne
						? [fk.to.columns, fk.from.columns]
						: [fk.from.columns, fk.to.columns];
					join = childCols.map((c, i) => `${child}.${ident(c)} = ${alias}.${ident(parentCols[i])}`);
				}
				const level = this.embedLevels.get(label) ?? emptyLevel();
				let rows: string;
				let where: string;
				if (isCountOnly(target, item.select)) {
					// `rel(count)`: the number of related rows, as supabase-js documents it.
					where = this.where(target, child, level.conditions, join);
					rows = `select count(*) as "count" from ${from}${where}`;
				} else {
					const sub = this.selectList(
						target,
						child,
						item.select.length ? item.select : [{ kind: 'star' }]
					);
					where = this.where(target, child, level.conditions, [...join, ...sub.inner]);
					rows = `select ${sub.list} from ${from}${where}${this.orderBy(target, child, level.order)}${this.paging(level)}`;
				}
				const e = this.nextAlias();
				out.push(
					toOne
						? `(select row_to_json(${e}) from (${rows}) ${e}) as ${ident(label)}`
						: `(select coalesce(json_agg(${e}), '[]') from (${rows}) ${e}) as ${ident(label)}`
				);
				const exists = `exists (select 1 from ${from}${where})`;
				this.embedExists.set(`${alias}.${label}`, exists);
				if (item.inner) inner.push(exists);
			}
		}
		return { list: out.length ? out.join(', ') : `${alias}.*`, inner };
	}
}

/** `(count)` or `(count())` as an embed's whole select, unless `count` is a real column. */
function isCountOnly(target: Relation, select: SelectItem[]): boolean {
	if (select.length !== 1 || target.columns.has('count')) return false;
	const [item] = select;
	return (
		(item.kind === 'field' && item.field.name === 'count' && item.field.path.length === 0) ||
		(item.kind === 'embed' && item.name === 'count' && item.select.length === 0)
	);
}

export interface ReadPlan {
	select: SelectItem[];
	level: Level;
	count: 'exact' | 'planned' | 'estimated' | null;
	body: BodyFormat;
	maxRows: number;
}

/** How Postgres renders the rows: nothing (HEAD, return=minimal), JSON, or CSV. */
export type BodyFormat = 'none' | 'json' | 'stripped' | 'csv';

const bodySql: Record<BodyFormat, string> = {
	none: 'null::text',
	json: `coalesce(json_agg(_t), '[]')::text`,
	stripped: `coalesce(json_agg(json_strip_nulls(row_to_json(_t))), '[]')::text`,
	// PostgREST's CSV: the first row's keys as header, then each row's record text without its
	// parentheses (record output quotes fields the way CSV does).
	csv:
		`coalesce((select string_agg(k, ',') from json_object_keys(json_agg(row_to_json(_t)) -> 0) k) || chr(10) || ` +
		`string_agg(substring(_t::text, 2, length(_t::text) - 2), chr(10)), '')`
};

/** `total`, `page_total`, `body` over the rows `rowsSql` produces for alias `_t0`. */
function envelope(totalSql: string, rowsSql: string, body: BodyFormat): string {
	return `select ${totalSql} as total, count(*)::int as page_total, ${bodySql[body]} as body from (${rowsSql}) _t`;
}

/** One statement that reads a source; `countSql` is returned for `count=planned` explains. */
export function readSql(
	b: Builder,
	source: Source,
	plan: ReadPlan
): { sql: string; countSql: string } {
	const rel = source.relation;
	const { list, inner } = b.selectList(rel, '_t0', plan.select);
	const where = b.where(rel, '_t0', plan.level.conditions, inner);
	const countSql = `select 1 from ${source.from('_t0')}${where}`;
	const total =
		plan.count === 'exact'
			? `(select count(*) from (${countSql}) _c)`
			: plan.count === 'estimated'
				? `(select count(*) from (${countSql} limit ${Math.trunc(plan.maxRows) + 1}) _c)`
				: 'null::bigint';
	const rows = `select ${list} from ${source.from('_t0')}${where}${b.orderBy(rel, '_t0', plan.level.order, plan.select)}${b.paging(plan.level)}`;
	const sql = envelope(total, rows, plan.body);
	return { sql: source.cte ? `with ${source.cte} ${sql}` : sql, countSql };
}

export function tableSource(rel: Relation): Source {
	return { relation: rel, from: (alias) => `${ident(rel.schema)}.${ident(rel.name)} ${alias}` };
}

export interface WritePlan {
	select: SelectItem[];
	body: BodyFormat;
	count: boolean;
}

function returning(b: Builder, rel: Relation, dml: string, plan: WritePlan): string {
	const { list } = b.selectList(rel, '_t0', plan.select);
	return (
		`with _src as (${dml}) ` +
		envelope(plan.count ? 'count(*)' : 'null::bigint', `select ${list} from _src _t0`, plan.body)
	);
}

export interface InsertOptions {
	columns: string[];
	/** `$n::text` holding a JSON array of row objects. */
	rowsParam: string;
	missingDefault: boolean;
	onConflict?: { columns: string[]; action: 'merge' | 'ignore' };
}

export function insertSql(b: Builder, rel: Relation, o: InsertOptions, plan: WritePlan): string {
	const table = `${ident(rel.schema)}.${ident(rel.name)}`;
	const cols = o.columns.map((c) => b.column(rel, c));
	let source: string;
	if (o.missingDefault) {
		// Keys absent from an object take the column default rather than null.
		const values = cols.map((c) =>
			c.default
				? `case when _e.j -> ${literal(c.name)} is not null then _r.${ident(c.name)} else ${c.default} end`
				: `_r.${ident(c.name)}`
		);
		source = `select ${values.join(', ')} from json_array_elements(${o.rowsParam}::json) _e(j) cross join lateral json_populate_record(null::${table}, _e.j) _r`;
	} else {
		source = `select ${cols.map((c) => `_r.${ident(c.name)}`).join(', ')} from json_populate_recordset(null::${table}, ${o.rowsParam}::json) _r`;
	}
	let conflict = '';
	if (o.onConflict) {
		const target = o.onConflict.columns.map((c) => ident(b.column(rel, c).name)).join(', ');
		const updates = cols.map((c) => `${ident(c.name)} = excluded.${ident(c.name)}`);
		conflict =
			o.onConflict.action === 'ignore' || updates.length === 0
				? ` on conflict (${target}) do nothing`
				: ` on conflict (${target}) do update set ${updates.join(', ')}`;
	}
	const colList = cols.map((c) => ident(c.name)).join(', ');
	const dml = cols.length
		? `insert into ${table} (${colList}) ${source}${conflict} returning ${table}.*`
		: `insert into ${table} select from json_array_elements(${o.rowsParam}::json)${conflict} returning ${table}.*`;
	return returning(b, rel, dml, plan);
}

export function updateSql(
	b: Builder,
	rel: Relation,
	columns: string[],
	bodyParam: string,
	conditions: Condition[],
	plan: WritePlan
): string {
	const table = `${ident(rel.schema)}.${ident(rel.name)}`;
	const sets = columns.map((c) => {
		const col = b.column(rel, c);
		return `${ident(col.name)} = _r.${ident(col.name)}`;
	});
	const where = b.where(rel, '_t0', conditions);
	const dml = `update ${table} _t0 set ${sets.join(', ')} from json_populate_record(null::${table}, ${bodyParam}::json) _r${where} returning _t0.*`;
	return returning(b, rel, dml, plan);
}

export function deleteSql(
	b: Builder,
	rel: Relation,
	conditions: Condition[],
	plan: WritePlan
): string {
	const table = `${ident(rel.schema)}.${ident(rel.name)}`;
	const dml = `delete from ${table} _t0${b.where(rel, '_t0', conditions)} returning _t0.*`;
	return returning(b, rel, dml, plan);
}

/** The call expression and the `from` it needs for a function and the arguments given. */
export function functionCall(
	b: Builder,
	fn: DbFunction,
	given: string[],
	argsParam: string | null,
	singleJson: boolean
): { call: string; from: string } {
	const name = `${ident(fn.schema)}.${ident(fn.name)}`;
	if (singleJson) return { call: `${name}(${argsParam}::${fn.args[0].type})`, from: '' };
	const args = fn.args.filter((a) => given.includes(a.name));
	if (args.length === 0) return { call: `${name}()`, from: '' };
	const record = `json_to_record(${argsParam}::json) as _a(${args.map((a) => `${ident(a.name)} ${a.type}`).join(', ')})`;
	const call = `${name}(${args.map((a) => `${ident(a.name)} => _a.${ident(a.name)}`).join(', ')})`;
	return { call, from: record };
}

/** A function returning rows, read like a table (select, filters, order, paging apply). */
export function functionSource(
	fn: DbFunction,
	call: { call: string; from: string },
	cache: SchemaCache,
	counted: boolean
): Source {
	const columns = new Map<string, Column>();
	for (const c of fn.returnColumns ?? []) columns.set(c.name, c);
	// A function returning a table's row type can embed through that table's foreign keys.
	const tableRel = fn.returnTable ? cache.relations.get(fn.returnTable) : undefined;
	const relation: Relation = tableRel ?? {
		schema: fn.schema,
		name: fn.name,
		kind: 'f',
		columns,
		primaryKey: []
	};
	const from = (alias: string) =>
		call.from ? `${call.from} cross join lateral ${call.call} ${alias}` : `${call.call} ${alias}`;
	if (!counted) return { relation, from };
	// Called once even though the count reads the rows again (functions may have side effects).
	return {
		relation,
		cte: `_f as materialized (select _fn.* from ${from('_fn')})`,
		from: (alias) => `_f ${alias}`
	};
}

/** A function returning a scalar (or a set of scalars, or void). */
export function scalarCallSql(
	b: Builder,
	call: { call: string; from: string },
	isVoid: boolean,
	page: { level: Level; count: boolean }
): string {
	// Materialized so a count reads the same rows instead of calling the function again.
	const rows = `select ${call.call} as v${call.from ? ` from ${call.from}` : ''}`;
	const total = page.count ? '(select count(*) from _f)' : 'null::bigint';
	return (
		`with _f as materialized (${rows}) select ${total} as total, count(*)::int as page_total, ` +
		`${isVoid ? 'null::text' : `coalesce(json_agg(_t.v), '[]')::text`} as body ` +
		`from (select v from _f${b.paging(page.level)}) _t`
	);
}

// The SQL expressions of a request: filters, select lists with their embeds, order and paging
// (statements.ts assembles them). Identifiers come only from the schema cache (quoted), values
// only ever as bound parameters (`$n::text`, cast to the column's catalog type).
import { ApiError, columnNotFound, parseError } from './errors.ts';
import type { Condition, Field, Filter, OrderTerm, SelectItem } from './parse.ts';
import { findRelationship, type Relationship } from './relationships.ts';
import {
	ident,
	key,
	type Column,
	type ForeignKey,
	type Relation,
	type SchemaCache
} from './schema-cache.ts';

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
		return findRelationship(this.cache, this.schema, parent, name, hint);
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

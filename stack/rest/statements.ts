// One statement per request shape: reads with their count and body built by Postgres, writes
// with `returning` read back the same way, and function calls. Expressions (filters, select
// lists, order) come from the Builder.
import { Builder, type Level, type Source } from './build-sql.ts';
import type { Condition, SelectItem } from './parse.ts';
import {
	ident,
	literal,
	type Column,
	type DbFunction,
	type Relation,
	type SchemaCache
} from './schema-cache.ts';

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

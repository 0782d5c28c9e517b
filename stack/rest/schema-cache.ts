// What PostgREST calls the schema cache: every identifier a request may name (tables, views,
// columns, functions and their arguments, keys, foreign keys, types), read from pg_catalog.
// SQL is only ever built from names found here; request values are always bound parameters.
import type postgres from 'postgres';

export interface Column {
	name: string;
	type: string;
	/** Default expression as the catalog prints it (trusted: it comes from pg_catalog). */
	default: string | null;
}

export interface Relation {
	schema: string;
	name: string;
	kind: string;
	columns: Map<string, Column>;
	primaryKey: string[];
}

export interface ForeignKey {
	name: string;
	from: { schema: string; table: string; columns: string[] };
	to: { schema: string; table: string; columns: string[] };
}

export interface FunctionArg {
	name: string;
	type: string;
	hasDefault: boolean;
}

export interface DbFunction {
	schema: string;
	name: string;
	args: FunctionArg[];
	returnsSet: boolean;
	/** Columns when the function returns rows (composite type, `table(...)` or out params). */
	returnColumns: Column[] | null;
	returnsVoid: boolean;
	volatile: boolean;
	/** `schema.table` when the function returns that table's row type. */
	returnTable: string | null;
}

export interface SchemaCache {
	relations: Map<string, Relation>;
	foreignKeys: ForeignKey[];
	functions: Map<string, DbFunction[]>;
	/** Type names a `::cast` may use, lower-cased, mapped to their SQL spelling. */
	types: Map<string, string>;
	/** statement_timeout set on each API role (`alter role ... set`), applied per request. */
	roleTimeouts: Map<string, string>;
}

export const key = (schema: string, name: string) => `${schema}.${name}`;

/** Quotes a name taken from the schema cache. */
export function ident(name: string): string {
	return '"' + name.replaceAll('"', '""') + '"';
}

export function literal(text: string): string {
	return "'" + text.replaceAll("'", "''") + "'";
}

const relationsSql = `
select n.nspname as schema, c.relname as name, c.relkind as kind,
	coalesce((
		select json_agg(json_build_object(
			'name', a.attname,
			'type', format_type(a.atttypid, a.atttypmod),
			'default', pg_get_expr(d.adbin, d.adrelid)
		) order by a.attnum)
		from pg_attribute a
		left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
		where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
	), '[]') as columns,
	coalesce((
		select json_agg(a.attname order by k.ord)
		from pg_index i
		cross join unnest(i.indkey::int2[]) with ordinality k(attnum, ord)
		join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
		where i.indrelid = c.oid and i.indisprimary
	), '[]') as primary_key
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
where n.nspname = any($1) and c.relkind in ('r', 'v', 'm', 'f', 'p')`;

const foreignKeysSql = `
select con.conname as name,
	sn.nspname as from_schema, sc.relname as from_table,
	(select json_agg(a.attname order by k.ord) from unnest(con.conkey) with ordinality k(attnum, ord)
		join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum) as from_columns,
	tn.nspname as to_schema, tc.relname as to_table,
	(select json_agg(a.attname order by k.ord) from unnest(con.confkey) with ordinality k(attnum, ord)
		join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.attnum) as to_columns
from pg_constraint con
join pg_class sc on sc.oid = con.conrelid
join pg_namespace sn on sn.oid = sc.relnamespace
join pg_class tc on tc.oid = con.confrelid
join pg_namespace tn on tn.oid = tc.relnamespace
where con.contype = 'f' and (sn.nspname = any($1) or tn.nspname = any($1))`;

const functionsSql = `
select n.nspname as schema, p.proname as name, p.proretset as returns_set,
	p.provolatile = 'v' as volatile,
	p.prorettype = 'void'::regtype as returns_void,
	p.pronargdefaults as n_defaults,
	p.proargnames as arg_names,
	p.proargmodes::text[] as arg_modes,
	array(select format_type(t, null) from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[]))
		with ordinality u(t, ord) order by ord) as arg_types,
	case when t.typrelid <> 0 then (
		select json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod))
			order by a.attnum)
		from pg_attribute a where a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped
	) end as composite_columns,
	(select rn.nspname || '.' || rc.relname from pg_class rc join pg_namespace rn on rn.oid = rc.relnamespace
		where rc.oid = t.typrelid and rc.relkind in ('r', 'v', 'm', 'f', 'p')) as return_table
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
join pg_type t on t.oid = p.prorettype
where n.nspname = any($1) and p.prokind = 'f'`;

const typesSql = `
select t.typname as name, format_type(t.oid, null) as sql_name
from pg_type t join pg_namespace n on n.oid = t.typnamespace
where n.nspname = any($1) and t.typtype in ('b', 'd', 'e', 'r', 'c', 'm') and t.typname !~ '^_'`;

const roleSettingsSql = `
select r.rolname as role, s.setting
from pg_db_role_setting d
join pg_roles r on r.oid = d.setrole
cross join unnest(d.setconfig) s(setting)
where d.setdatabase in (0, (select oid from pg_database where datname = current_database()))
	and s.setting like 'statement_timeout=%'`;

/** Common spellings PostgreSQL accepts that are not pg_type names. */
const typeAliases: Record<string, string> = {
	int: 'integer',
	integer: 'integer',
	smallint: 'smallint',
	bigint: 'bigint',
	real: 'real',
	float: 'double precision',
	'double precision': 'double precision',
	boolean: 'boolean',
	decimal: 'numeric',
	varchar: 'character varying',
	'character varying': 'character varying',
	char: 'character',
	timestamp: 'timestamp without time zone',
	timestamptz: 'timestamp with time zone',
	'timestamp with time zone': 'timestamp with time zone',
	'timestamp without time zone': 'timestamp without time zone'
};

export async function loadSchemaCache(sql: postgres.Sql, schemas: string[]): Promise<SchemaCache> {
	const searchable = [...new Set([...schemas, 'pg_catalog', 'extensions'])];
	const [rels, fks, fns, types, timeouts] = await Promise.all([
		sql.unsafe(relationsSql, [schemas]),
		sql.unsafe(foreignKeysSql, [schemas]),
		sql.unsafe(functionsSql, [schemas]),
		sql.unsafe(typesSql, [searchable]),
		sql.unsafe(roleSettingsSql)
	]);

	const relations = new Map<string, Relation>();
	for (const r of rels) {
		const columns = new Map<string, Column>();
		for (const c of r.columns as Column[]) columns.set(c.name, c);
		relations.set(key(r.schema, r.name), {
			schema: r.schema,
			name: r.name,
			kind: r.kind,
			columns,
			primaryKey: r.primary_key
		});
	}

	const foreignKeys: ForeignKey[] = fks.map((f) => ({
		name: f.name,
		from: { schema: f.from_schema, table: f.from_table, columns: f.from_columns },
		to: { schema: f.to_schema, table: f.to_table, columns: f.to_columns }
	}));

	const functions = new Map<string, DbFunction[]>();
	for (const f of fns) {
		const names: string[] = f.arg_names ?? [];
		const modes: string[] = f.arg_modes ?? f.arg_types.map(() => 'i');
		const inputs: FunctionArg[] = [];
		const outputs: Column[] = [];
		modes.forEach((mode, i) => {
			const name = names[i] ?? '';
			const type = f.arg_types[i] as string;
			if (mode === 'i' || mode === 'b' || mode === 'v')
				inputs.push({ name, type, hasDefault: false });
			if (mode === 'o' || mode === 'b' || mode === 't') outputs.push({ name, type, default: null });
		});
		// Defaults belong to the last n input arguments.
		for (let i = inputs.length - f.n_defaults; i < inputs.length; i++) inputs[i].hasDefault = true;
		const fn: DbFunction = {
			schema: f.schema,
			name: f.name,
			args: inputs,
			returnsSet: f.returns_set,
			returnColumns: outputs.length > 0 ? outputs : (f.composite_columns ?? null),
			returnsVoid: f.returns_void,
			volatile: f.volatile,
			returnTable: f.return_table
		};
		const k = key(f.schema, f.name);
		functions.set(k, [...(functions.get(k) ?? []), fn]);
	}

	const typeMap = new Map<string, string>(Object.entries(typeAliases));
	for (const t of types) {
		if (!typeMap.has(t.name)) typeMap.set(t.name.toLowerCase(), t.sql_name);
	}
	for (const t of [...typeMap.values()]) typeMap.set(t.toLowerCase(), t);

	const roleTimeouts = new Map<string, string>();
	for (const t of timeouts) roleTimeouts.set(t.role, String(t.setting).split('=')[1]);

	return { relations, foreignKeys, functions, types: typeMap, roleTimeouts };
}

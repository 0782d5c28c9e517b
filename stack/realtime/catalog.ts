// What the dispatcher reads from pg_catalog about the tables it decodes: type names for the
// payload's `columns`, and per table its RLS flag and primary key (briefly cached).
import type postgres from 'postgres';
import type { Change, RelationInfo } from './pgoutput.ts';

export interface TableMeta {
	at: number;
	rls: boolean;
	primaryKey: string[];
}

export class Catalog {
	private typeNames = new Map<number, string>();
	private tableMeta = new Map<number, TableMeta>();

	constructor(private readonly sql: postgres.Sql) {}

	async loadTypes() {
		const types = await this.sql`select oid::int as oid, typname from pg_type`;
		for (const t of types) this.typeNames.set(t.oid, t.typname);
	}

	/** RLS flag and primary key, by table oid (a dropped and recreated table is another). */
	async meta(relation: RelationInfo): Promise<TableMeta> {
		const m = this.tableMeta.get(relation.oid);
		if (m && Date.now() - m.at < 2000) return m;
		const [row] = await this.sql`
			select c.relrowsecurity as rls,
				array(select a.attname::text from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
					where i.indrelid = c.oid and i.indisprimary order by array_position(i.indkey, a.attnum)) as pk
			from pg_class c where c.oid = ${relation.oid}`;
		// A table dropped since: assume RLS (safest) and take the key the WAL flagged.
		const fresh = {
			at: Date.now(),
			rls: row?.rls ?? true,
			primaryKey: (row?.pk as string[]) ?? relation.columns.filter((c) => c.key).map((c) => c.name)
		};
		if (this.tableMeta.size > 10_000) this.tableMeta.clear();
		this.tableMeta.set(relation.oid, fresh);
		return fresh;
	}

	/** Column name -> type name for a change's relation (types created since start looked up). */
	async typesFor(change: Change): Promise<Map<string, string>> {
		const missing = change.relation.columns
			.filter((c) => !this.typeNames.has(c.typeOid))
			.map((c) => c.typeOid);
		if (missing.length > 0) {
			const rows = await this
				.sql`select oid::int as oid, typname from pg_type where oid = any(${missing}::oid[])`;
			for (const r of rows) this.typeNames.set(r.oid, r.typname);
		}
		return new Map(
			change.relation.columns.map((c) => [c.name, this.typeNames.get(c.typeOid) ?? 'text'])
		);
	}
}

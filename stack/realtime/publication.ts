// Which tables are in the publication, for refusing subscriptions to tables whose changes
// would never come. Cached briefly: a burst of joins costs one catalog read.
import type postgres from 'postgres';

export class PublishedTables {
	private cache: { at: number; tables: Set<string> } | null = null;

	constructor(
		private readonly sql: postgres.Sql,
		private readonly publication: string,
		private readonly log: (msg: string) => void
	) {}

	async has(schema: string, table: string): Promise<boolean> {
		const key = `${schema}.${table}`;
		const c = this.cache;
		if (c && Date.now() - c.at < 2000 && c.tables.has(key)) return true;
		let rows;
		try {
			rows = await this
				.sql`select schemaname || '.' || tablename as t from pg_publication_tables where pubname = ${this.publication}`;
		} catch (e) {
			// database briefly away (restart): accept the subscription; the slot decides later
			this.log(`publication lookup failed (${(e as Error).message}); accepting ${key}`);
			return true;
		}
		this.cache = { at: Date.now(), tables: new Set(rows.map((r) => r.t as string)) };
		return this.cache.tables.has(key);
	}
}

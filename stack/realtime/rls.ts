// Row Level Security per subscriber, checked in batches: for one table and one batch of changed
// rows, a single statement loops over the distinct JWT claim sets in the database (set role +
// request.jwt.claims, then a join of the batch's keys against the table under RLS). So the cost
// is one round trip per (table, batch), never one query per subscriber per row.
import type postgres from 'postgres';

export const helperSchema = '_realtime_local';

export interface VisibilityRequest {
	schema: string;
	table: string;
	keyColumns: string[];
	/** one object per row, key column -> text value */
	keys: Record<string, string | null>[];
	/** distinct claim sets (JSON text) with their role */
	identities: { claims: string; role: string }[];
}

function ident(s: string) {
	return '"' + s.replace(/"/g, '""') + '"';
}

/** Idempotent setup the service needs in the database. */
export async function ensureHelpers(sql: postgres.Sql) {
	await sql.unsafe(`
		create schema if not exists ${helperSchema};
		comment on schema ${helperSchema} is 'Local Realtime service internals (RLS visibility checks); not exposed to the API';
		revoke all on schema ${helperSchema} from public;
	`);
}

/**
 * Creates (once per process and table shape) a function whose static query keeps a cached
 * plan: it returns (identity index, row index) pairs the identity may select.
 */
export class VisibilityChecker {
	private ready = new Map<string, Promise<string>>();

	constructor(private readonly sql: postgres.Sql) {}

	private fnFor(schema: string, table: string, keyColumns: string[]): Promise<string> {
		const id = `${schema}.${table}(${keyColumns.join(',')})`;
		let p = this.ready.get(id);
		if (!p) {
			p = this.create(schema, table, keyColumns).catch((e) => {
				this.ready.delete(id);
				throw e;
			});
			this.ready.set(id, p);
		}
		return p;
	}

	private async create(schema: string, table: string, keyColumns: string[]): Promise<string> {
		const [{ h }] = await this.sql`select md5(${schema + '.' + table + '(' + keyColumns.join(',') + ')'}) as h`;
		const name = `${helperSchema}.${ident('visible_' + h)}`;
		const rel = `${ident(schema)}.${ident(table)}`;
		const on = keyColumns.map((c) => `t.${ident(c)} = k.${ident(c)}`).join(' and ');
		// Roles are switched only when the identity's role changes (callers sort by role), and
		// an error under one identity (e.g. a policy calling a function it may not execute)
		// hides the batch from that identity only.
		await this.sql.unsafe(`
			create or replace function ${name}(keys jsonb, claims text[], roles text[])
			returns table(identity_idx int, row_idx int)
			language plpgsql volatile set search_path = '' as $fn$
			declare
				i int;
				cur text := '';
			begin
				for i in 1 .. coalesce(array_length(claims, 1), 0) loop
					begin
						if roles[i] is distinct from cur then
							execute 'set local role ' || quote_ident(roles[i]);
							cur := roles[i];
						end if;
						perform pg_catalog.set_config('request.jwt.claims', claims[i], true);
						return query
							select i, k.ordinality::int
							from pg_catalog.jsonb_populate_recordset(null::${rel}, keys) with ordinality k
							join ${rel} t on ${on};
					exception when others then
						raise warning 'realtime RLS check for % failed: %', claims[i], sqlerrm;
						cur := '';
					end;
				end loop;
			end
			$fn$;
			revoke all on function ${name}(jsonb, text[], text[]) from public;
		`);
		return name;
	}

	/** For each identity, the set of row indexes (0-based) it can see. */
	async check(req: VisibilityRequest): Promise<Set<number>[]> {
		const out = req.identities.map(() => new Set<number>());
		if (req.identities.length === 0 || req.keys.length === 0) return out;
		const fn = await this.fnFor(req.schema, req.table, req.keyColumns);
		const order = req.identities.map((_, i) => i).sort((a, b) => (req.identities[a].role < req.identities[b].role ? -1 : 1));
		// Split large identity lists across pool connections so Postgres can use several cores.
		const chunks = order.length > 64 ? 4 : 1;
		const size = Math.ceil(order.length / chunks);
		const keys = JSON.stringify(req.keys);
		await Promise.all(
			Array.from({ length: chunks }, async (_, c) => {
				const part = order.slice(c * size, (c + 1) * size);
				if (part.length === 0) return;
				const rows = await this.sql.unsafe(
					`select identity_idx, row_idx from ${fn}($1::text::jsonb, $2::text[], $3::text[])`,
					[keys, part.map((i) => req.identities[i].claims), part.map((i) => req.identities[i].role)],
					{ prepare: true }
				);
				for (const r of rows) out[part[r.identity_idx - 1]].add(r.row_idx - 1);
			})
		);
		return out;
	}
}

// Row Level Security per subscriber, checked in batches. For one table, one role and one batch
// of changed rows, a single statement loops over the distinct JWT claim sets in the database
// (request.jwt.claims per identity) and evaluates the table's SELECT policies on the rows as
// they were committed (from the WAL, not re-read from the table, so a row updated or deleted
// right after its commit is still judged on what was committed). One round trip per
// (table, role, batch); never one query per subscriber per row.
import { createHash } from 'node:crypto';
import type postgres from 'postgres';

export const helperSchema = '_realtime_local';

export interface VisibilityRequest {
	oid: number;
	/** one object per row: column -> text value as committed */
	rows: Record<string, string | null>[];
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

interface Plan {
	at: number;
	fn: Promise<string | boolean>;
}

/** How long a table's policies are trusted before they are read again. */
const POLICY_TTL_MS = 1000;

export class VisibilityChecker {
	private plans = new Map<string, Plan>();
	private created = new Set<string>();

	constructor(private readonly sql: postgres.Sql) {}

	/** A function name, or a constant answer when the policies make one (no RLS, no grant). */
	private plan(oid: number, role: string): Promise<string | boolean> {
		const key = `${oid}:${role}`;
		const p = this.plans.get(key);
		if (p && Date.now() - p.at < POLICY_TTL_MS) return p.fn;
		const fn = this.build(oid, role);
		fn.catch(() => this.plans.delete(key));
		this.plans.set(key, { at: Date.now(), fn });
		return fn;
	}

	private async build(oid: number, role: string): Promise<string | boolean> {
		// With an empty search_path, pg_get_expr qualifies every name, so the generated function
		// (which runs with search_path = '') resolves them exactly as the policy does.
		const [info] = await this.sql.begin(async (tx) => {
			await tx`set local search_path = ''`;
			return tx`
				select c.oid::regclass::text as rel, c.relrowsecurity as rls,
					r.rolbypassrls as bypass,
					has_table_privilege(r.oid, c.oid, 'SELECT') as can_select,
					coalesce((select json_agg(json_build_object('permissive', p.polpermissive, 'qual', pg_get_expr(p.polqual, p.polrelid)) order by p.polname)
						from pg_policy p
						where p.polrelid = c.oid and p.polcmd in ('r', '*')
							and exists (select 1 from unnest(p.polroles) x where x = 0 or pg_has_role(r.oid, x, 'member'))), '[]') as policies
				from pg_class c, pg_roles r
				where c.oid = ${oid} and r.rolname = ${role}`;
		});
		if (!info || !info.can_select) return false;
		if (!info.rls || info.bypass) return true;
		const policies = info.policies as { permissive: boolean; qual: string | null }[];
		const permissive = policies.filter((p) => p.permissive).map((p) => `(${p.qual ?? 'true'})`);
		const restrictive = policies.filter((p) => !p.permissive).map((p) => `(${p.qual ?? 'true'})`);
		if (permissive.length === 0) return false;
		const predicate = [`(${permissive.join(' or ')})`, ...restrictive].join(' and ');
		const rel = info.rel as string;
		const alias = ident(
			rel.includes('.') ? rel.slice(rel.lastIndexOf('.') + 1).replace(/^"|"$/g, '') : rel
		);
		const name = `${helperSchema}.${ident('visible_' + createHash('md5').update(`v2|${oid}|${rel}|${role}|${predicate}`).digest('hex'))}`;
		if (this.created.has(name)) return name;
		// The rows are decoded once; each identity then costs a set_config and one run of the
		// cached plan. An error under one identity (e.g. a policy calling a function it may not
		// execute) skips that identity only; rows it already returned had passed its policies.
		await this.sql.unsafe(`
			create or replace function ${name}(rows jsonb, claims text[])
			returns table(identity_idx int, row_idx int)
			language plpgsql volatile set search_path = '' as $fn$
			declare
				i int := 1;
				n int := coalesce(array_length(claims, 1), 0);
				rs ${rel}[] := array(select pg_catalog.jsonb_populate_recordset(null::${rel}, rows));
			begin
				execute 'set local role ' || ${`'${ident(role).replace(/'/g, "''")}'`};
				while i <= n loop
					begin
						while i <= n loop
							perform pg_catalog.set_config('request.jwt.claims', claims[i], true);
							return query
								select i, ${alias}.ordinality::int
								from pg_catalog.unnest(rs) with ordinality as ${alias}
								where ${predicate};
							i := i + 1;
						end loop;
					exception when others then
						raise warning 'realtime RLS check for % failed: %', claims[i], sqlerrm;
						i := i + 1;
					end;
				end loop;
			end
			$fn$;
			revoke all on function ${name}(jsonb, text[]) from public;
		`);
		this.created.add(name);
		return name;
	}

	/** For each identity, the set of row indexes (0-based) it can see. */
	async check(req: VisibilityRequest): Promise<Set<number>[]> {
		try {
			return await this.checkOnce(req);
		} catch {
			// A database reset drops our helper schema, a dropped and recreated table leaves
			// sessions with a stale compiled function: forget what we created, recreate, retry once.
			this.created.clear();
			this.plans.clear();
			await ensureHelpers(this.sql);
			return this.checkOnce(req);
		}
	}

	private async checkOnce(req: VisibilityRequest): Promise<Set<number>[]> {
		const out = req.identities.map(() => new Set<number>());
		if (req.identities.length === 0 || req.rows.length === 0) return out;
		const byRole = new Map<string, number[]>();
		req.identities.forEach((id, i) => {
			const list = byRole.get(id.role);
			if (list) list.push(i);
			else byRole.set(id.role, [i]);
		});
		const rows = JSON.stringify(req.rows);
		const all = req.rows.map((_, i) => i);
		const tasks: Promise<void>[] = [];
		for (const [role, members] of byRole) {
			tasks.push(
				this.plan(req.oid, role).then(async (fn) => {
					if (fn === true) for (const i of members) for (const r of all) out[i].add(r);
					if (typeof fn !== 'string') return;
					// Split large identity lists across pool connections so Postgres uses several cores.
					const chunks = members.length > 64 ? 3 : 1;
					const size = Math.ceil(members.length / chunks);
					await Promise.all(
						Array.from({ length: chunks }, async (_, c) => {
							const part = members.slice(c * size, (c + 1) * size);
							if (part.length === 0) return;
							const result = await this.sql.unsafe(
								`select identity_idx, row_idx from ${fn}($1::text::jsonb, $2::text[])`,
								[rows, part.map((i) => req.identities[i].claims)],
								{ prepare: true }
							);
							for (const r of result) out[part[r.identity_idx - 1]].add(r.row_idx - 1);
						})
					);
				})
			);
		}
		await Promise.all(tasks);
		return out;
	}
}

import postgres from 'postgres';
import { randomUUID } from 'node:crypto';
import { config } from '/work/main/stack/config.ts';
import { VisibilityChecker } from '/work/main/stack/realtime/rls.ts';
const sql = postgres(config.db.url, { max: 6, onnotice: () => {} });
await sql.unsafe(`drop table if exists public.rt_perf, public.rt_perf_members cascade;
create table public.rt_perf_members (user_id uuid primary key, org_id int not null);
create table public.rt_perf (id bigint generated always as identity primary key, org_id int not null, body text);
alter table public.rt_perf enable row level security;
create policy p on public.rt_perf for select to authenticated using (org_id in (select m.org_id from public.rt_perf_members m where m.user_id = (select auth.uid())));
grant select on public.rt_perf, public.rt_perf_members to authenticated;`);
const users = Array.from({ length: 1000 }, (_, i) => ({ user_id: randomUUID(), org_id: i % 10 }));
await sql`insert into public.rt_perf_members ${sql(users)}`;
const [{ oid }] = await sql`select 'public.rt_perf'::regclass::oid::int as oid`;
const c = new VisibilityChecker(sql);
const identities = users.map((u) => ({
	claims: JSON.stringify({ role: 'authenticated', sub: u.user_id, exp: 2e9 }),
	role: 'authenticated'
}));
for (const nrows of [1, 5, 20]) {
	const rows = Array.from({ length: nrows }, (_, i) => ({
		id: String(i),
		org_id: String(i % 10),
		body: 'x'
	}));
	const ts = [];
	for (let k = 0; k < 6; k++) {
		const t = performance.now();
		const r = await c.check({ oid, rows, identities });
		ts.push((performance.now() - t).toFixed(1));
		if (r.reduce((n, s) => n + s.size, 0) !== nrows * 100) throw new Error('wrong');
	}
	console.log(nrows, 'rows', ts.join(' '));
}
await sql.unsafe('drop table public.rt_perf, public.rt_perf_members');
await sql.end();

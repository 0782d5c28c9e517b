// Postgres Changes through @supabase/supabase-js with both serializers: events, every filter
// operator, RLS per subscriber, DELETE as hosted, no lost first events, column selection and
// subscription errors (channel tokens: channel-tokens.spec.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RealtimeChannel, RealtimePostgresChangesPayload } from '@supabase/supabase-js';
import { adminSql, until, userToken } from '../testing.ts';
import {
	changeMarker,
	createFixtures,
	dropFixtures,
	member,
	newOrg,
	realtimeClient,
	subscribed,
	type TestClient,
	type Vsn
} from './spec-helpers.ts';

type Row = { id: number; org_id: number; n: number | null; label: string | null; data: unknown };
type Payload = RealtimePostgresChangesPayload<Row>;
const oldId = (p: Payload) => (p.old as Partial<Row>).id;

const sql = adminSql();
const clients: TestClient[] = [];

beforeAll(async () => {
	await createFixtures(sql);
});

afterAll(async () => {
	await Promise.allSettled(clients.map((c) => c.close()));
	await dropFixtures(sql);
	await sql.end();
});

async function client(vsn: Vsn, token: string) {
	const c = await realtimeClient(vsn, token);
	clients.push(c);
	return c;
}

const marker = (ch: RealtimeChannel) => changeMarker(sql, ch);

describe.each(['1.0.0', '2.0.0'] as const)('postgres_changes with serializer %s', (vsn) => {
	it('delivers INSERT, UPDATE and DELETE with the payload shape realtime-js exposes', async () => {
		const org = newOrg();
		const user = await member(sql, org);
		const c = await client(vsn, await userToken(user));
		const got: Payload[] = [];
		await subscribed(
			c.supabase
				.channel(`events-${vsn}`)
				.on<Row>(
					'postgres_changes',
					{ event: '*', schema: 'public', table: 'rt_items', filter: `org_id=eq.${org}` },
					(p) => got.push(p)
				)
		);
		const [{ id }] =
			await sql`insert into public.rt_items (org_id, n, label, data) values (${org}, 1, 'first', ${sql.json({ a: [1, 2] })}) returning id`;
		await sql`update public.rt_items set label = 'second' where id = ${id}`;
		await sql`delete from public.rt_items where id = ${id}`;
		await until(() => got.length === 3, 'three events');
		const [ins, upd, del] = got;
		expect(ins).toMatchObject({
			schema: 'public',
			table: 'rt_items',
			eventType: 'INSERT',
			errors: null,
			old: {}
		});
		expect(ins.new).toMatchObject({
			id: Number(id),
			org_id: org,
			n: 1,
			label: 'first',
			data: { a: [1, 2] }
		});
		expect(Number.isNaN(Date.parse(ins.commit_timestamp))).toBe(false);
		expect(upd).toMatchObject({
			eventType: 'UPDATE',
			new: { label: 'second' },
			old: { label: 'first', id: Number(id) }
		});
		// RLS is on for rt_items: a DELETE carries the primary key only, even with replica identity full.
		expect(del).toMatchObject({ eventType: 'DELETE', new: {} });
		expect(del.old).toEqual({ id: Number(id) });
	});

	it('honours every filter operator', async () => {
		const org = newOrg();
		const user = await member(sql, org);
		const c = await client(vsn, await userToken(user));
		const filters = {
			eq: 'n=eq.3',
			neq: 'n=neq.3',
			lt: 'n=lt.2',
			lte: 'n=lte.2',
			gt: 'n=gt.4',
			gte: 'n=gte.4',
			in: 'n=in.(1,5)'
		};
		const seen: Record<string, number[]> = Object.fromEntries(
			Object.keys(filters).map((k) => [k, []])
		);
		let ch = c.supabase.channel(`filters-${vsn}`);
		const done = marker(ch);
		for (const [op, filter] of Object.entries(filters)) {
			ch = ch.on<Row>(
				'postgres_changes',
				{ event: 'INSERT', schema: 'public', table: 'rt_items', filter: `${filter}` },
				(p) => {
					if ((p.new as Row).org_id === org) seen[op].push((p.new as Row).n!);
				}
			);
		}
		await subscribed(ch);
		for (let n = 1; n <= 5; n++)
			await sql`insert into public.rt_items (org_id, n) values (${org}, ${n})`;
		await done.commit();
		await until(done.arrived, 'the marker committed after the inserts');
		for (const list of Object.values(seen)) list.sort();
		expect(seen).toEqual({
			eq: [3],
			neq: [1, 2, 4, 5],
			lt: [1],
			lte: [1, 2],
			gt: [5],
			gte: [4, 5],
			in: [1, 5]
		});
	});

	it('filters UPDATE and DELETE events by event type and filter', async () => {
		const c = await client(vsn, await userToken('00000000-0000-0000-0000-000000000000'));
		const [{ id: keep }] =
			await sql`insert into public.rt_open (label, n) values ('keep', 1) returning id`;
		const [{ id: other }] =
			await sql`insert into public.rt_open (label, n) values ('other', 1) returning id`;
		const updates: Payload[] = [];
		const deletes: Payload[] = [];
		await subscribed(
			c.supabase
				.channel(`ud-${vsn}`)
				.on<Row>(
					'postgres_changes',
					{ event: 'UPDATE', schema: 'public', table: 'rt_open', filter: `id=eq.${keep}` },
					(p) => updates.push(p)
				)
				.on<Row>(
					'postgres_changes',
					{
						event: 'DELETE',
						schema: 'public',
						table: 'rt_open',
						filter: `id=in.(${keep},${other})`
					},
					(p) => deletes.push(p)
				)
		);
		await sql`update public.rt_open set n = 2 where id in (${keep}, ${other})`;
		await sql`delete from public.rt_open where id in (${keep}, ${other})`;
		await until(() => updates.length === 1 && deletes.length === 2, 'one update and two deletes');
		expect(updates[0]).toMatchObject({
			eventType: 'UPDATE',
			new: { id: Number(keep), n: 2 },
			old: { n: 1 }
		});
		// No RLS and replica identity full: the whole old row is sent.
		expect(
			deletes.map((d) => d.old as Partial<Row>).sort((a, b) => (a.id! < b.id! ? -1 : 1))
		).toEqual([
			{ id: Number(keep), label: 'keep', n: 2 },
			{ id: Number(other), label: 'other', n: 2 }
		]);
	});

	it("delivers organization A's rows to A's subscriber and never to B's", async () => {
		const orgA = newOrg();
		const orgB = newOrg();
		const a = await client(vsn, await userToken(await member(sql, orgA)));
		const b = await client(vsn, await userToken(await member(sql, orgB)));
		const anon = await client(vsn, (await import('../config.ts')).config.keys.anon);
		const seen = { a: [] as number[], b: [] as number[], anon: [] as number[] };
		const marks: ReturnType<typeof marker>[] = [];
		const sub = (c: TestClient, into: number[], name: string) => {
			const ch = c.supabase.channel(`tenants-${name}-${vsn}`);
			marks.push(marker(ch));
			return subscribed(
				ch.on<Row>(
					'postgres_changes',
					{ event: 'INSERT', schema: 'public', table: 'rt_items' },
					(p) => {
						const r = p.new as Row;
						if (r.org_id === orgA || r.org_id === orgB) into.push(r.org_id);
					}
				)
			);
		};
		await Promise.all([sub(a, seen.a, 'a'), sub(b, seen.b, 'b'), sub(anon, seen.anon, 'anon')]);
		await sql`insert into public.rt_items (org_id, label) values (${orgA}, 'a1'), (${orgB}, 'b1')`;
		await sql`insert into public.rt_items (org_id, label) values (${orgA}, 'a2')`;
		for (const m of marks) await m.commit();
		await until(() => marks.every((m) => m.arrived()), 'every socket past the inserts');
		expect(seen).toEqual({ a: [orgA, orgA], b: [orgB], anon: [] });
	});

	it('sends DELETE as hosted: to every subscriber, without RLS, key only', async () => {
		const orgA = newOrg();
		const orgB = newOrg();
		const b = await client(vsn, await userToken(await member(sql, orgB)));
		const deletes: Payload[] = [];
		await subscribed(
			b.supabase
				.channel(`del-${vsn}`)
				.on<Row>(
					'postgres_changes',
					{ event: 'DELETE', schema: 'public', table: 'rt_items' },
					(p) => deletes.push(p)
				)
		);
		const [{ id }] =
			await sql`insert into public.rt_items (org_id, label) values (${orgA}, 'secret') returning id`;
		await sql`delete from public.rt_items where id = ${id}`;
		await until(
			() => deletes.some((d) => oldId(d) === Number(id)),
			'the delete of a row B cannot read'
		);
		expect(deletes.find((d) => oldId(d) === Number(id))!.old).toEqual({ id: Number(id) });
	});

	it('sends the primary key as old record when the table has the default replica identity', async () => {
		const c = await client(vsn, await userToken('00000000-0000-0000-0000-000000000000'));
		const got: Payload[] = [];
		await subscribed(
			c.supabase
				.channel(`plain-${vsn}`)
				.on<Row>('postgres_changes', { event: '*', schema: 'public', table: 'rt_plain' }, (p) =>
					got.push(p)
				)
		);
		const [{ id }] = await sql`insert into public.rt_plain (label) values ('x') returning id`;
		await sql`update public.rt_plain set label = 'y' where id = ${id}`;
		await sql`delete from public.rt_plain where id = ${id}`;
		await until(
			() =>
				got.filter((p) => (p.new as Row).id === Number(id) || oldId(p) === Number(id)).length === 3,
			'three events'
		);
		const mine = got.filter((p) => (p.new as Row).id === Number(id) || oldId(p) === Number(id));
		expect(mine.map((p) => p.eventType)).toEqual(['INSERT', 'UPDATE', 'DELETE']);
		expect(mine[1].old).toEqual({ id: Number(id) });
		expect(mine[2].old).toEqual({ id: Number(id) });
	});

	it('never loses a row inserted right after SUBSCRIBED', async () => {
		const org = newOrg();
		const c = await client(vsn, await userToken(await member(sql, org)));
		const delivered: number[][] = [];
		for (let i = 0; i < 5; i++) {
			const got: number[] = [];
			const ch = c.supabase
				.channel(`first-${vsn}-${i}`)
				.on<Row>(
					'postgres_changes',
					{ event: 'INSERT', schema: 'public', table: 'rt_items', filter: `org_id=eq.${org}` },
					(p) => got.push((p.new as Row).n!)
				);
			await new Promise<void>((resolve, reject) =>
				ch.subscribe((status, err) => {
					if (status === 'SUBSCRIBED') {
						// no delay at all between the callback and the commit
						sql`insert into public.rt_items (org_id, n) values (${org}, ${i})`.then(
							() => resolve(),
							reject
						);
					} else if (status !== 'CLOSED') reject(err);
				})
			);
			await until(() => got.includes(i), `the first row of channel ${i}`);
			delivered.push(got);
			await c.supabase.removeChannel(ch);
		}
		// Each channel got the row committed right after its SUBSCRIBED, and nothing else.
		expect(delivered).toEqual([[0], [1], [2], [3], [4]]);
	});

	it('stops delivery from the next change on once membership is revoked', async () => {
		const org = newOrg();
		const user = await member(sql, org);
		const c = await client(vsn, await userToken(user));
		const got: string[] = [];
		const ch = c.supabase.channel(`revoke-${vsn}`);
		const later = marker(ch);
		await subscribed(
			ch.on<Row>(
				'postgres_changes',
				{ event: 'INSERT', schema: 'public', table: 'rt_items', filter: `org_id=eq.${org}` },
				(p) => got.push((p.new as Row).label!)
			)
		);
		await sql`insert into public.rt_items (org_id, label) values (${org}, 'before')`;
		await until(() => got.includes('before'), 'the row before revocation');
		await sql`delete from public.rt_members where user_id = ${user}`;
		await sql`insert into public.rt_items (org_id, label) values (${org}, 'after')`;
		await later.commit();
		await until(later.arrived, 'a change committed after the revoked row, on the same socket');
		expect(got).toEqual(['before']);
	});
});

describe('column selection', () => {
	it('sends only the columns a subscription selects', async () => {
		const c = await client('2.0.0', await userToken(crypto.randomUUID()));
		const got: Payload[] = [];
		await subscribed(
			c.supabase
				.channel('select')
				.on<Row>(
					'postgres_changes',
					{ event: 'INSERT', schema: 'public', table: 'rt_open', select: ['id', 'label'] },
					(p) => got.push(p)
				)
		);
		const [{ id }] =
			await sql`insert into public.rt_open (label, n) values ('narrow', 7) returning id`;
		await until(() => got.some((p) => (p.new as Row).id === Number(id)), 'the narrowed row');
		expect(got.find((p) => (p.new as Row).id === Number(id))!.new).toEqual({
			id: Number(id),
			label: 'narrow'
		});
	});
});

describe('subscription errors', () => {
	it('reports tables outside the publication and unparseable filters as hosted does', async () => {
		const c = await client('1.0.0', await userToken(crypto.randomUUID()));
		const system: { extension: string; status: string; message: string }[] = [];
		await subscribed(
			c.supabase
				.channel('bad-subscriptions')
				.on('postgres_changes', { event: '*', schema: 'public', table: 'rt_members' }, () => {})
				.on(
					'postgres_changes',
					{ event: '*', schema: 'public', table: 'rt_items', filter: 'n=between.1' },
					() => {}
				)
				.on('system', {}, (p) => system.push(p))
		);
		await until(() => system.length >= 2, 'two system errors');
		expect(system.map((m) => [m.extension, m.status])).toEqual([
			['postgres_changes', 'error'],
			['postgres_changes', 'error']
		]);
		expect(system[0].message).toMatch(/^Unable to subscribe to changes with given parameters/);
		expect(system[1].message).toMatch(/^Error parsing `filter` params: /);
	});
});

// export-csv cannot exhaust the database: a per-user limit of concurrent exports, a bounded
// shared pool, stalled downloads cut off, the API role's timeouts applied. Downloads are held
// open by clients that stop reading, over a bot with far more CSV than the sockets between the
// function and a client can buffer.
import assert from 'node:assert/strict';
import {
	adminSql as sql,
	createBot,
	functionUrl,
	signUp,
	test,
	until,
	type Tenant
} from './fixtures.ts';

const owner = await signUp('export-limits');
const big = await createBot(owner, 'Big export bot');
const [conv] = await sql`insert into public.conversations (bot_id, external_id, started_at)
	values (${big.id}, 'big', now() - interval '50 minutes') returning id`;
// About 80 MB of CSV (20,000 messages of 4 KB over the last 40 minutes).
await sql`insert into public.messages (bot_id, conversation_id, external_id, role, content, sent_at)
	select ${big.id}, ${conv.id}, 'm' || g, 'user', repeat('lorem ipsum ', 340) || g,
		now() - interval '40 minutes' + g * interval '100 milliseconds'
	from generate_series(1, 20000) g`;

/** Another user of the same organization (a viewer), so several users can export the bot. */
async function member(label: string): Promise<Tenant> {
	const user = await signUp(label);
	await sql`insert into public.organization_members (organization_id, user_id, role)
		values (${owner.organizationId}, ${user.userId}, 'viewer')`;
	return user;
}

async function get(t: Tenant, params: Record<string, string>) {
	const { data } = await t.client.auth.getSession();
	const query = new URLSearchParams({ bot: big.id, kind: 'messages', ...params });
	return fetch(`${functionUrl('export-csv')}?${query}`, {
		headers: { Authorization: `Bearer ${data.session!.access_token}` }
	});
}

/** A download whose client read its first bytes, then stopped reading. */
async function stalled(t: Tenant) {
	const res = await get(t, {});
	if (res.status !== 200) assert.fail(`export answered ${res.status}: ${await res.text()}`);
	const reader = res.body!.getReader();
	await reader.read();
	return reader;
}

/** Export connections by what they do (Postgres blocked writing to a client that stopped reading). */
async function exportBackends() {
	return await sql<{ pid: number; state: string; wait_event: string | null; snapshot: boolean }[]>`
		select pid, state, wait_event, backend_xmin is not null as snapshot
		from pg_stat_activity where application_name = 'export-csv'`;
}
const blockedOnClient = async (n: number) =>
	(await exportBackends()).filter((b) => b.wait_event === 'ClientWrite').length >= n;

/** The whole body as text; rejects when the download is cut off. */
async function readToEnd(reader: ReadableStreamDefaultReader<Uint8Array>) {
	let bytes = 0;
	for (;;) {
		const { done, value } = await reader.read();
		if (done) return bytes;
		bytes += value.byteLength;
	}
}

test('a user runs at most two exports at once: the third gets 429 with Retry-After, others are unaffected', async () => {
	const first = await stalled(owner);
	const second = await stalled(owner);
	await until(() => blockedOnClient(2), 'two exports blocked on their client');

	const third = await get(owner, { kind: 'daily' });
	assert.equal(third.status, 429);
	assert.ok(Number(third.headers.get('Retry-After')) >= 1);
	const body = await third.json();
	assert.equal(body.error.code, 'too_many_exports');
	assert.match(body.error.message, /2 exports running/);

	const other = await get(await member('export-other'), { kind: 'daily' });
	assert.equal(other.status, 200);
	// (text() drops the byte order mark.)
	assert.match(await other.text(), /^day,/);

	// Once a download ends, its slot is free again.
	await first.cancel();
	const again = await until(async () => {
		const res = await get(owner, { kind: 'daily' });
		if (res.status === 200) return res;
		await res.body?.cancel();
		return null;
	}, 'a free export slot');
	await again.body?.cancel();
	await second.cancel();
	// A cancelled download ends on the server a moment later: the next test must not take these
	// for its own.
	await until(
		async () => !(await exportBackends()).some((b) => b.state !== 'idle' || b.snapshot),
		'the cancelled downloads to end'
	);
});

test('a stalled download is cut off after the timeout: snapshot released, connection back in the pool', async () => {
	const reader = await stalled(owner);
	// The blocked backend as one reading (a second query could find it between two writes).
	const held = await until(
		async () => (await exportBackends()).find((b) => b.wait_event === 'ClientWrite'),
		'the export blocked on its client'
	);
	assert.ok(held.snapshot, 'the export holds a snapshot while it streams');

	// EXPORT_STALL_TIMEOUT_MS defaults to 15 s.
	await until(
		async () => !(await exportBackends()).some((b) => b.pid === held.pid || b.snapshot),
		'the stalled export to be cut off',
		30_000
	);
	// The client gets what was on its way, then an error: never a file that looks complete.
	await assert.rejects(readToEnd(reader));

	// The slot and the connection are free: the same user runs two exports at once again.
	const [a, b] = await Promise.all([get(owner, { kind: 'daily' }), get(owner, { kind: 'daily' })]);
	assert.deepEqual([a.status, b.status], [200, 200]);
	await Promise.all([a.text(), b.text()]);
	const busy = (await exportBackends()).filter((x) => x.state !== 'idle' || x.snapshot);
	assert.deepEqual(busy, []);
});

test('exports share a bounded pool: beyond it a request waits, then gets 503 with Retry-After', async () => {
	const [b, c] = await Promise.all([member('export-pool-b'), member('export-pool-c')]);
	const readers = [await stalled(owner), await stalled(owner), await stalled(b), await stalled(b)];
	await until(() => blockedOnClient(4), 'four exports blocked on their clients');

	// EXPORT_POOL_SIZE defaults to 4: no fifth connection; EXPORT_POOL_WAIT_MS is 5 s.
	const refused = await get(c, { kind: 'daily' });
	assert.equal(refused.status, 503);
	assert.ok(Number(refused.headers.get('Retry-After')) >= 1);
	assert.equal((await refused.json()).error.code, 'exports_busy');
	assert.equal((await exportBackends()).length, 4);

	// A waiting request gets the connection of a download that ends.
	const waiting = get(c, { kind: 'daily' });
	await readers[0].cancel();
	const served = await waiting;
	assert.equal(served.status, 200);
	await served.text();
	assert.ok((await exportBackends()).length <= 4);
	for (const r of readers.slice(1)) await r.cancel();
});

test('a download abandoned halfway ends its transaction at once', async () => {
	const reader = await stalled(owner);
	await until(() => blockedOnClient(1), 'the export blocked on its client');
	await reader.cancel();
	await until(
		async () => !(await exportBackends()).some((b) => b.state !== 'idle' || b.snapshot),
		'the abandoned export to end',
		// Well below the stall timeout: this is the cancel, not the cut-off.
		5_000
	);
});

test("the authenticated role's statement_timeout applies to exports", async () => {
	const [{ setting }] = await sql`select coalesce((select c from pg_db_role_setting d
		cross join unnest(d.setconfig) c where d.setrole = 'authenticated'::regrole and d.setdatabase = 0
			and c like 'statement_timeout=%'), '') as setting`;
	await sql`alter role authenticated set statement_timeout = '1s'`;
	try {
		// A query stuck behind a lock runs until the timeout stops it.
		await sql.begin(async (tx) => {
			await tx`set local lock_timeout = '5s'`;
			await tx`lock table public.bots in access exclusive mode`;
			const res = await get(owner, { kind: 'daily' });
			assert.equal(res.status, 503);
			const body = await res.json();
			assert.equal(body.error.code, 'export_timeout');
			assert.match(body.error.message, /narrow the date range/);
		});
	} finally {
		await (setting
			? sql.unsafe(`alter role authenticated set ${setting.replace('=', " = '")}'`)
			: sql`alter role authenticated reset statement_timeout`);
	}
	const res = await get(owner, { kind: 'daily' });
	assert.equal(res.status, 200);
	await res.text();
});

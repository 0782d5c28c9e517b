// A phx_join payload as realtime-js sends it, read into what the server acts on: the token,
// the channel's options, and each postgres_changes entry, checked or refused with hosted's words.
import { describe, expect, it } from 'vitest';
import { readJoin, subscriptionId } from './join-request.ts';

describe('reading a join', () => {
	it('takes the options realtime-js sends, and defaults everything it leaves out', () => {
		const join = readJoin({
			access_token: 'jwt',
			config: {
				broadcast: { self: true, ack: true, replication_ready: true },
				presence: { key: 'alice', enabled: true },
				private: false
			}
		});
		expect(join).toEqual({
			token: 'jwt',
			private: false,
			self: true,
			ack: true,
			replicationReady: true,
			presenceKey: 'alice',
			presenceEnabled: true,
			wantsChanges: false,
			changes: []
		});
		expect(readJoin(null)).toEqual({
			token: null,
			private: false,
			self: false,
			ack: false,
			replicationReady: false,
			presenceKey: null,
			presenceEnabled: false,
			wantsChanges: false,
			changes: []
		});
	});

	it('ignores fields of the wrong type instead of trusting them', () => {
		const join = readJoin({
			access_token: 42,
			user_token: 'legacy',
			config: { broadcast: 'yes', presence: { key: '', enabled: 'true' }, private: 'true' }
		});
		expect(join).toMatchObject({
			token: 'legacy',
			self: false,
			presenceKey: null,
			presenceEnabled: false,
			private: false
		});
	});

	it('does not take an opaque sb_ key for a token', () => {
		expect(readJoin({ access_token: 'sb_publishable_abc' }).token).toBeNull();
	});
});

describe('postgres_changes entries', () => {
	it('reads event, schema, table, filter and select, echoing the entry as sent', () => {
		const [c] = readJoin({
			config: {
				postgres_changes: [
					{
						event: 'insert',
						schema: 'public',
						table: 'messages',
						filter: 'bot_id=eq.7',
						select: ['id', 1]
					}
				]
			}
		}).changes;
		expect(c).toMatchObject({
			event: 'INSERT',
			schema: 'public',
			table: 'messages',
			filter: 'bot_id=eq.7',
			select: ['id'],
			error: null,
			reply: { event: 'insert', schema: 'public', table: 'messages', filter: 'bot_id=eq.7' }
		});
		expect(c.conds).toHaveLength(1);
		expect(c.reply.id).toBe(c.id);
	});

	it('widens a missing event to *, a missing schema to public and table * to every table', () => {
		const [c] = readJoin({ config: { postgres_changes: [{ table: '*' }] } }).changes;
		expect(c).toMatchObject({
			event: '*',
			schema: 'public',
			table: null,
			filter: undefined,
			select: null
		});
		expect(c.reply).not.toHaveProperty('filter');
	});

	it('refuses an unknown event or a bad filter, entry by entry', () => {
		const join = readJoin({
			config: {
				postgres_changes: [
					{ event: 'TRUNCATE', table: 'a' },
					{ event: '*', table: 'b', filter: 'id' },
					{ event: 'DELETE', table: 'c' },
					'not an object'
				]
			}
		});
		expect(join.wantsChanges).toBe(true);
		expect(join.changes.map((c) => c.error)).toEqual([
			'Invalid event "TRUNCATE": use *, INSERT, UPDATE or DELETE',
			'Error parsing `filter` params: filter "id" must look like column=operator.value, e.g. id=eq.1',
			null
		]);
	});

	it('gives the same entry the same 27-bit id every time, and different entries different ids', () => {
		const entry = { event: '*', schema: 'public', table: 'messages' };
		const a = readJoin({ config: { postgres_changes: [entry] } }).changes[0].id;
		const b = readJoin({ config: { postgres_changes: [{ ...entry }] } }).changes[0].id;
		const c = readJoin({ config: { postgres_changes: [{ ...entry, table: 'bots' }] } }).changes[0]
			.id;
		expect(a).toBe(b);
		expect(a).not.toBe(c);
		expect(subscriptionId('x')).toBeLessThan(2 ** 27);
	});
});

// Presence state per topic: what a newcomer's presence_state shows and what presence_diff
// tells the others, as realtime-js's RealtimePresence expects them.
import { describe, expect, it } from 'vitest';
import { PresenceTopic, diff, newRef, type Tracked } from './presence.ts';

const tracked = (key: string, ref: string, extra = {}): Tracked => ({
	key,
	meta: { phx_ref: ref, ...extra }
});

describe('a presence topic', () => {
	it('groups metas by key, one per tracking channel', () => {
		const topic = new PresenceTopic();
		topic.add(tracked('alice', 'r1', { tab: 1 }));
		topic.add(tracked('alice', 'r2', { tab: 2 }));
		topic.add(tracked('bob', 'r3'));
		expect(topic.state()).toEqual({
			alice: {
				metas: [
					{ phx_ref: 'r1', tab: 1 },
					{ phx_ref: 'r2', tab: 2 }
				]
			},
			bob: { metas: [{ phx_ref: 'r3' }] }
		});
	});

	it('forgets a key when its last meta leaves, and is empty when all have', () => {
		const topic = new PresenceTopic();
		const a = tracked('alice', 'r1');
		const b = tracked('alice', 'r2');
		topic.add(a);
		topic.add(b);
		topic.remove(a);
		expect(topic.state()).toEqual({ alice: { metas: [{ phx_ref: 'r2' }] } });
		topic.remove(b);
		topic.remove(b);
		expect(topic.state()).toEqual({});
		expect(topic.empty).toBe(true);
	});

	it('describes a change as joins and leaves by key', () => {
		expect(diff([tracked('bob', 'r3')], [tracked('alice', 'r1'), tracked('alice', 'r2')])).toEqual({
			joins: { bob: { metas: [{ phx_ref: 'r3' }] } },
			leaves: { alice: { metas: [{ phx_ref: 'r1' }, { phx_ref: 'r2' }] } }
		});
		expect(diff([], [])).toEqual({ joins: {}, leaves: {} });
	});

	it('hands out distinct refs', () => {
		const refs = new Set(Array.from({ length: 1000 }, newRef));
		expect(refs.size).toBe(1000);
	});
});

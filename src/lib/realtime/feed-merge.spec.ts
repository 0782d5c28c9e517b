import { describe, expect, it } from 'vitest';
import {
	advanceCursor,
	catchUpFrom,
	mergeFeed,
	PREVIEW_CHARS,
	timeKey,
	toFeedItem,
	type FeedItem
} from './feed-merge';

function item(id: number, sentAt: string, ingestedAt = sentAt, content = `m${id}`): FeedItem {
	return toFeedItem({
		id,
		conversation_id: 'c1',
		role: 'user',
		content,
		sent_at: sentAt,
		ingested_at: ingestedAt
	});
}
const ids = (items: FeedItem[]) => items.map((i) => i.id);

describe('timeKey', () => {
	it('reads Postgres and ISO forms of the same instant alike, microseconds included', () => {
		expect(timeKey('2026-12-01 01:13:08.299643+00')).toBe(timeKey('2026-12-01T01:13:08.299643Z'));
		expect(timeKey('2026-12-01T02:13:08.299643+01:00')).toBe(
			timeKey('2026-12-01T01:13:08.299643Z')
		);
		expect(
			timeKey('2026-12-01 01:13:08.299644+00') - timeKey('2026-12-01 01:13:08.299643+00')
		).toBe(1);
	});

	it('refuses text that is not a time', () => {
		expect(() => timeKey('yesterday')).toThrow('Not a timestamp: "yesterday"');
	});
});

describe('mergeFeed', () => {
	it('orders newest first by sent time, then by id for the same instant', () => {
		const merged = mergeFeed(
			[],
			[
				item(1, '2026-12-01T10:00:00.000001Z'),
				item(3, '2026-12-01T10:00:00.000002Z'),
				item(2, '2026-12-01T10:00:00.000002Z')
			],
			10
		);
		expect(ids(merged)).toEqual([3, 2, 1]);
	});

	it('keeps one copy of a row seen live and again in catch-up (no duplicate)', () => {
		const live = [item(5, '2026-12-01T10:00:05Z'), item(4, '2026-12-01T10:00:04Z')];
		const caughtUp = [
			item(4, '2026-12-01T10:00:04Z'),
			item(5, '2026-12-01T10:00:05Z'),
			item(6, '2026-12-01T10:00:06Z')
		];
		expect(ids(mergeFeed(live, caughtUp, 10))).toEqual([6, 5, 4]);
	});

	it('fills the gap a drop left between older and newer live rows (no gap)', () => {
		const beforeDrop = [item(2, '2026-12-01T10:00:02Z'), item(1, '2026-12-01T10:00:01Z')];
		const afterReconnect = mergeFeed(beforeDrop, [item(7, '2026-12-01T10:00:07Z')], 10);
		const missed = [3, 4, 5, 6].map((n) => item(n, `2026-12-01T10:00:0${n}Z`));
		expect(ids(mergeFeed(afterReconnect, missed, 10))).toEqual([7, 6, 5, 4, 3, 2, 1]);
	});

	it('drops the oldest beyond capacity, so a page open for days stays small', () => {
		let feed: FeedItem[] = [];
		for (let n = 1; n <= 1000; n++) {
			feed = mergeFeed(feed, [item(n, new Date(Date.UTC(2026, 11, 1, 0, 0, n)).toISOString())], 50);
		}
		expect(feed).toHaveLength(50);
		expect(feed[0].id).toBe(1000);
		expect(feed[49].id).toBe(951);
	});

	it('places a late row with an older sent time where it belongs, not at the top', () => {
		const feed = mergeFeed(
			[item(10, '2026-12-01T10:00:10Z')],
			[item(11, '2026-12-01T09:59:00Z')],
			10
		);
		expect(ids(feed)).toEqual([10, 11]);
	});

	it('trims long content to a preview', () => {
		const long = item(1, '2026-12-01T10:00:00Z', undefined, 'x'.repeat(5000));
		expect(long.content).toHaveLength(PREVIEW_CHARS);
		expect(long.content.endsWith('…')).toBe(true);
	});
});

describe('catch-up cursor', () => {
	it('follows arrival order (ingested_at, id), whatever the sent times', () => {
		let cursor = advanceCursor(null, [item(1, '2026-12-01T10:00:00Z', '2026-12-01 10:00:01.5+00')]);
		cursor = advanceCursor(cursor, [
			item(3, '2026-12-01T09:00:00Z', '2026-12-01 10:00:01.5+00'),
			item(2, '2026-12-01T11:00:00Z', '2026-12-01 10:00:01.4+00')
		]);
		expect(cursor).toEqual({ ingestedAt: '2026-12-01 10:00:01.5+00', id: 3 });
		expect(advanceCursor(cursor, [])).toBe(cursor);
	});

	it('reads back from a little before the cursor so late commits are not skipped', () => {
		expect(catchUpFrom({ ingestedAt: '2026-12-01 10:00:10.250+00', id: 9 }, 10_000)).toBe(
			'2026-12-01T10:00:00.250Z'
		);
	});
});

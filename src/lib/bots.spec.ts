import { describe, expect, it } from 'vitest';
import { botSchema, isValidTimeZone, searchTimeZones } from './bots';

describe('time zones', () => {
	it('accepts IANA names and refuses made-up or injected ones', () => {
		expect(isValidTimeZone('Europe/Berlin')).toBe(true);
		expect(isValidTimeZone('UTC')).toBe(true);
		expect(isValidTimeZone('Mars/Olympus')).toBe(false);
		expect(isValidTimeZone("Europe/Paris'; drop table bots;--")).toBe(false);
		expect(isValidTimeZone('')).toBe(false);
	});
	it('finds a zone by city words, with spaces for underscores, city prefix first', () => {
		expect(searchTimeZones('new york')[0]).toBe('America/New_York');
		expect(searchTimeZones('paris')).toContain('Europe/Paris');
		expect(searchTimeZones('berl')[0]).toBe('Europe/Berlin');
		expect(searchTimeZones('zzzz')).toEqual([]);
	});
	it('limits an empty search to the first zones, UTC first', () => {
		const first = searchTimeZones('', 10);
		expect(first).toHaveLength(10);
		expect(first[0]).toBe('UTC');
	});
});

describe('botSchema', () => {
	it('trims the name and accepts a known channel and zone', () => {
		expect(
			botSchema.parse({ name: '  Support bot ', channel: 'whatsapp', timezone: 'Asia/Tokyo' })
		).toEqual({ name: 'Support bot', channel: 'whatsapp', timezone: 'Asia/Tokyo' });
	});
	it('says what to fix for each bad field', () => {
		const r = botSchema.safeParse({ name: ' ', channel: 'fax', timezone: 'Nowhere/Land' });
		expect(r.success).toBe(false);
		const messages = r.error!.issues.map((i) => `${String(i.path[0])}: ${i.message}`);
		expect(messages).toEqual([
			'name: Give the bot a name',
			'channel: Pick one of the listed channels',
			'timezone: Pick a time zone from the list, e.g. Europe/Paris'
		]);
	});
});

import { describe, expect, it } from 'vitest';
import { ingestUrl, parseDuration, parseOptions, UsageError } from './options.ts';

const parse = (...argv: string[]) => parseOptions(argv, () => 'random-seed');

describe('simulator flags', () => {
	it('defaults to 5 events/s, every bot, until stopped, with a printed random seed', () => {
		const o = parse();
		expect(o).toMatchObject({
			rate: 5,
			bots: undefined,
			durationMs: undefined,
			seed: 'random-seed'
		});
		expect(o.backfillDays).toBeUndefined();
	});

	it('reads rate, bots, duration, seed and backfill', () => {
		const o = parse('--rate', '50', '--bots', '2', '--duration', '5m', '--seed', '7');
		expect(o).toMatchObject({ rate: 50, bots: 2, durationMs: 300_000, seed: '7' });
		expect(parse('--bots', 'acme_support,Helpdesk').bots).toEqual(['acme_support', 'Helpdesk']);
		expect(parse('--backfill', '3').backfillDays).toBe(3);
	});

	it('understands durations with and without units', () => {
		expect(parseDuration('90')).toBe(90_000);
		expect(parseDuration('1.5h')).toBe(5_400_000);
		expect(() => parseDuration('soon')).toThrow(/e\.g\. 90, 90s, 5m or 1h/);
	});

	it('says what to type instead of a bad value', () => {
		expect(() => parse('--rate', '0')).toThrow(/--rate 0: give a number above 0/);
		expect(() => parse('--backfill', '45')).toThrow(/at most 29/);
		expect(() => parse('--speed', '3')).toThrow(UsageError);
		expect(() => parse('--url', 'https://x.supabase.co')).toThrow(/--url needs --key/);
	});

	it('turns a project URL into its ingest URL', () => {
		expect(ingestUrl('https://abc.supabase.co')).toBe(
			'https://abc.supabase.co/functions/v1/ingest'
		);
		expect(ingestUrl('http://127.0.0.1:54321/functions/v1/ingest')).toBe(
			'http://127.0.0.1:54321/functions/v1/ingest'
		);
		const o = parse('--url', 'https://abc.supabase.co/', '--key', 'k1', '--key', 'k2');
		expect(o.keys).toEqual(['k1', 'k2']);
		expect(o.url).toBe('https://abc.supabase.co/functions/v1/ingest');
	});
});

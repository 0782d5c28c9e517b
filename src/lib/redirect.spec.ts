import { describe, expect, it } from 'vitest';
import { safeRedirectTarget, signInUrlFor } from './redirect';

describe('safeRedirectTarget', () => {
	it('keeps a same-site path with its query', () => {
		expect(safeRedirectTarget('/bots/42?range=7d')).toBe('/bots/42?range=7d');
	});
	it('refuses absolute and protocol-relative URLs (open redirect)', () => {
		expect(safeRedirectTarget('https://evil.example/')).toBe('/');
		expect(safeRedirectTarget('//evil.example/')).toBe('/');
		expect(safeRedirectTarget('/\\evil.example')).toBe('/');
	});
	it('refuses control characters and falls back when missing', () => {
		expect(safeRedirectTarget('/a\nb')).toBe('/');
		expect(safeRedirectTarget(null, '/settings')).toBe('/settings');
		expect(safeRedirectTarget('')).toBe('/');
	});
});

describe('signInUrlFor', () => {
	it('carries the page asked for, encoded', () => {
		expect(signInUrlFor(new URL('http://x/bots/1?range=24h'))).toBe(
			'/sign-in?redirectTo=%2Fbots%2F1%3Frange%3D24h'
		);
	});
	it('omits the parameter for the home page', () => {
		expect(signInUrlFor(new URL('http://x/'))).toBe('/sign-in');
	});
});

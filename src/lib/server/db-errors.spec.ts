import { describe, expect, it, vi } from 'vitest';
import { userMessage } from './db-errors';

describe('userMessage', () => {
	it('turns an RLS refusal into a sentence about roles', () => {
		expect(
			userMessage(
				{ code: '42501', message: 'new row violates row-level security policy for table "bots"' },
				'create bot'
			)
		).toBe('Your role does not allow this. Ask an owner or admin of the organization.');
	});
	it('passes on the messages our SQL functions write for people', () => {
		expect(userMessage({ code: 'PT409', message: 'An organization needs an owner' }, 'x')).toBe(
			'An organization needs an owner'
		);
		expect(
			userMessage({ code: '42501', message: 'Only owners can change retention' }, 'retention')
		).toBe('Only owners can change retention');
	});
	it('logs unexpected errors and shows a generic sentence', () => {
		const log = vi.spyOn(console, 'error').mockImplementation(() => {});
		expect(userMessage({ code: 'XX000', message: 'internal' }, 'load')).toMatch(/Try again/);
		expect(log).toHaveBeenCalledOnce();
		log.mockRestore();
	});
});

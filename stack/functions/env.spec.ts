// The dotenv reader behind supabase/functions/.env (secrets a function reads with Deno.env).
import { describe, expect, it } from 'vitest';
import { parseDotenv } from './env.ts';

describe('supabase/functions/.env', () => {
	it('reads KEY=value lines the way the Supabase CLI does', () => {
		const env = parseDotenv(
			[
				'# a comment',
				'PLAIN=value',
				'export EXPORTED=yes',
				'SPACED = padded  ',
				'DOUBLE="with # hash\\nand newline"',
				"SINGLE='kept \\n literally'",
				'TRAILING=value # comment',
				'EMPTY=',
				'not a line'
			].join('\n')
		);
		expect(env).toEqual({
			PLAIN: 'value',
			EXPORTED: 'yes',
			SPACED: 'padded',
			DOUBLE: 'with # hash\nand newline',
			SINGLE: 'kept \\n literally',
			TRAILING: 'value',
			EMPTY: ''
		});
	});
});

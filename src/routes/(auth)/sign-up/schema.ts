import { z } from 'zod';

export const PASSWORD_MIN = 8;

export const signUpSchema = z.object({
	name: z.string().trim().max(80, { error: 'Use at most 80 characters for your name' }).default(''),
	email: z.email({ error: 'Enter a valid email address, like name@example.com' }),
	password: z
		.string()
		.min(PASSWORD_MIN, { error: `Use at least ${PASSWORD_MIN} characters for your password` })
		.max(72, { error: 'Use at most 72 characters for your password' })
});

import { z } from 'zod';

export const signInSchema = z.object({
	email: z.email({ error: 'Enter the email address you signed up with, like name@example.com' }),
	password: z.string().min(1, { error: 'Enter your password' })
});

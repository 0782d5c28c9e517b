import { z } from 'zod';
import { botSchema } from '$lib/bots';

export const createBotSchema = botSchema;

export const organizationSchema = z.object({
	name: z
		.string()
		.trim()
		.min(1, { error: 'Give the organization a name' })
		.max(120, { error: 'Use at most 120 characters' })
});

export const retentionSchema = z.object({
	retention_days: z.coerce
		.number({ error: 'Enter a number of days' })
		.int({ error: 'Enter a whole number of days' })
		.min(1, { error: 'Keep raw data at least 1 day' })
		.max(3650, { error: 'Keep raw data at most 3650 days (10 years)' })
});

import { z } from 'zod';

export { botSchema as updateBotSchema } from '$lib/bots';

export const createKeySchema = z.object({
	key_name: z
		.string()
		.trim()
		.min(1, { error: 'Name the key after where it is used, e.g. "production"' })
		.max(120, { error: 'Use at most 120 characters' })
});

export const revokeKeySchema = z.object({
	key_id: z.uuid({ error: 'Pick a key from the list' })
});

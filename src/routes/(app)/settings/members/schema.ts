import { z } from 'zod';
import { ROLES } from '$lib/roles';

export const inviteSchema = z.object({
	// Lower-cased by the database; no transform here, so the form keeps a default value.
	email: z.email({ error: 'Enter the email address to invite, like name@example.com' }),
	role: z.enum(ROLES, { error: 'Pick owner, admin or viewer' }).default('viewer')
});

export const memberRoleSchema = z.object({
	user_id: z.uuid({ error: 'Pick a member from the list' }),
	role: z.enum(ROLES, { error: 'Pick owner, admin or viewer' })
});

export const memberSchema = z.object({ user_id: z.uuid({ error: 'Pick a member from the list' }) });
export const invitationSchema = z.object({ id: z.uuid({ error: 'Pick an invitation' }) });

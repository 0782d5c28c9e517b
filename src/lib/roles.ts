/** Organization roles, as the database's check constraint on organization_members.role lists them. */
export const ROLES = ['owner', 'admin', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
	return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Owners and admins manage bots, keys and members; the database enforces the same rule (RLS). */
export function canManage(role: Role | null | undefined): boolean {
	return role === 'owner' || role === 'admin';
}

export function isOwner(role: Role | null | undefined): boolean {
	return role === 'owner';
}

export const ROLE_LABELS: Record<Role, string> = {
	owner: 'Owner',
	admin: 'Admin',
	viewer: 'Viewer'
};

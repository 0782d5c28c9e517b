import { Constants, type Enums } from './database.types';

/** Organization roles: the database's enum type public.member_role, through the generated types. */
export const ROLES = Constants.public.Enums.member_role;
export type Role = Enums<'member_role'>;

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

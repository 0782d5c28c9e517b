import { isRole, type Role } from './roles';

export type Membership = {
	id: string;
	name: string;
	isPersonal: boolean;
	role: Role;
};

/** The cookie remembering which organization the user looks at (a preference, not a secret). */
export const ORG_COOKIE = 'botflow_org';

/**
 * The organization to show: the remembered one if the user still belongs to it, otherwise a
 * shared organization before the personal one (that is where teams keep their bots).
 */
export function pickCurrentOrganization(
	memberships: Membership[],
	remembered: string | undefined
): Membership | null {
	if (memberships.length === 0) return null;
	const kept = memberships.find((m) => m.id === remembered);
	if (kept) return kept;
	return sortMemberships(memberships)[0];
}

/** Shared organizations first, then by name, so the switcher and the default agree. */
export function sortMemberships(memberships: Membership[]): Membership[] {
	return [...memberships].sort(
		(a, b) => Number(a.isPersonal) - Number(b.isPersonal) || a.name.localeCompare(b.name)
	);
}

type MembershipRow = {
	role: string;
	organizations: { id: string; name: string; is_personal: boolean } | null;
};

/** Rows of `organization_members` with their organization embedded, as the layout reads them. */
export function toMemberships(rows: MembershipRow[]): Membership[] {
	return rows.flatMap((r) =>
		r.organizations && isRole(r.role)
			? [
					{
						id: r.organizations.id,
						name: r.organizations.name,
						isPersonal: r.organizations.is_personal,
						role: r.role
					}
				]
			: []
	);
}

import { describe, expect, it } from 'vitest';
import { pickCurrentOrganization, toMemberships, type Membership } from './organizations';

const personal: Membership = {
	id: 'p',
	name: "alice's organization",
	isPersonal: true,
	role: 'owner'
};
const acme: Membership = { id: 'a', name: 'Acme', isPersonal: false, role: 'viewer' };
const globex: Membership = { id: 'g', name: 'Globex', isPersonal: false, role: 'admin' };

describe('pickCurrentOrganization', () => {
	it('keeps the remembered organization while the user still belongs to it', () => {
		expect(pickCurrentOrganization([personal, acme, globex], 'g')).toBe(globex);
	});
	it('falls back to a shared organization (by name) before the personal one', () => {
		expect(pickCurrentOrganization([personal, globex, acme], 'gone')).toBe(acme);
		expect(pickCurrentOrganization([personal], undefined)).toBe(personal);
	});
	it('returns null for a user in no organization', () => {
		expect(pickCurrentOrganization([], 'a')).toBeNull();
	});
});

describe('toMemberships', () => {
	it('drops rows without an organization or with an unknown role', () => {
		expect(
			toMemberships([
				{ role: 'owner', organizations: { id: 'a', name: 'Acme', is_personal: false } },
				{ role: 'owner', organizations: null },
				{ role: 'superuser', organizations: { id: 'x', name: 'X', is_personal: false } }
			])
		).toEqual([{ id: 'a', name: 'Acme', isPersonal: false, role: 'owner' }]);
	});
});

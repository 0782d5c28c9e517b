import { expect, test } from '@playwright/test';
import { signIn, signUpNewUser } from './helpers/auth';
import { demoUsers, signedInClient } from './helpers/platform';

test('an invitation is accepted by its invitee only', async ({ browser }) => {
	// The invitee has an account of their own.
	const inviteeContext = await browser.newContext();
	const invitee = await inviteeContext.newPage();
	const inviteeEmail = await signUpNewUser(invitee, 'Invited Person');

	// Alice (owner of Acme) invites them as a viewer from the members page.
	const aliceContext = await browser.newContext();
	const alice = await aliceContext.newPage();
	await signIn(alice, demoUsers.alice, undefined, '/settings/members');
	await alice.getByLabel('Email').fill(inviteeEmail);
	await alice.getByRole('button', { name: 'Send invitation' }).click();
	await expect(alice.getByText(`Invitation sent to ${inviteeEmail}`)).toBeVisible();
	await expect(alice.getByRole('cell', { name: inviteeEmail, exact: true })).toBeVisible();

	// Someone else (Bob, another tenant) cannot accept it, even knowing its id.
	const aliceApi = await signedInClient(demoUsers.alice);
	const { data: invitation } = await aliceApi
		.from('organization_invitations')
		.select('id')
		.eq('email', inviteeEmail)
		.single();
	const bob = await signedInClient(demoUsers.bob);
	const stolen = await bob.rpc('accept_invitation', { p_invitation_id: invitation!.id });
	expect(stolen.error?.code).toBe('PT404');

	// The invitee sees it in the header and accepts; Acme becomes their current organization.
	await invitee.reload();
	const menu = invitee.getByRole('button', { name: 'Menu' });
	if (await menu.isVisible()) await menu.click();
	await invitee.getByRole('link', { name: 'Invitations (1)' }).click();
	await expect(invitee.getByRole('heading', { level: 2, name: 'Acme' })).toBeVisible();
	await invitee.getByRole('button', { name: 'Accept the invitation to Acme' }).click();
	await expect(invitee.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
	await expect(invitee.getByRole('link', { name: 'Acme Support' })).toBeVisible();

	// And Alice's members page now lists them as a viewer.
	await alice.reload();
	const row = alice.getByRole('row').filter({ hasText: inviteeEmail });
	await expect(row).toContainText('Viewer');

	await inviteeContext.close();
	await aliceContext.close();
});

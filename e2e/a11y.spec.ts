import { expect, test } from '@playwright/test';
import { signIn } from './helpers/auth';
import { expectAccessibleInBothThemes } from './helpers/axe';
import { demoUsers } from './helpers/platform';

const heading = (page: import('@playwright/test').Page) => () =>
	expect(page.getByRole('heading', { level: 1 })).toBeVisible();

// axe takes several seconds a page on this machine; two themes per page add up.
test.describe.configure({ timeout: 300_000 });

test('every shell page passes axe (WCAG 2.1 AA) in light and dark, for an owner', async ({
	page
}) => {
	await signIn(page, demoUsers.alice);
	const botHref = await page.getByRole('link', { name: 'Acme Support' }).getAttribute('href');
	const botId = botHref!.split('/').pop()!;
	for (const path of [
		'/',
		'/settings',
		`/settings/bots/${botId}`,
		'/settings/members',
		'/invitations',
		'/no-such-page'
	]) {
		await expectAccessibleInBothThemes(page, path, async () => {
			await heading(page)();
			// Streamed overview cards have replaced their skeletons.
			await expect(page.locator('[aria-busy="true"]')).toHaveCount(0);
		});
	}
});

test('the read-only pages pass axe in light and dark, for a viewer', async ({ page }) => {
	await signIn(page, demoUsers.carol);
	for (const path of ['/', '/settings', '/settings/members']) {
		await expectAccessibleInBothThemes(page, path, heading(page));
	}
});

test('the confirmation dialog and the phone menu pass axe when open', async ({ page }) => {
	await signIn(page, demoUsers.alice, undefined, '/settings/members');
	await page
		.getByRole('button', { name: /^Remove / })
		.first()
		.click();
	await expect(page.getByRole('alertdialog')).toBeVisible();
	const { expectNoAxeViolations } = await import('./helpers/axe');
	await expectNoAxeViolations(page);
	await page.getByRole('button', { name: 'Cancel' }).click();
	const menu = page.getByRole('button', { name: 'Menu' });
	if (await menu.isVisible()) {
		await menu.click();
		await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
		await expectNoAxeViolations(page);
	}
});

import { expect, test } from '@playwright/test';
import { signIn, signOut, signUpNewUser } from './helpers/auth';
import { expectAccessibleInBothThemes } from './helpers/axe';
import { DEMO_PASSWORD, demoUsers } from './helpers/platform';

test('a protected page sends a visitor to sign-in and back to that page afterwards', async ({
	page
}) => {
	await page.goto('/settings/members');
	await expect(page).toHaveURL(/\/sign-in\?redirectTo=%2Fsettings%2Fmembers$/);
	await page.getByLabel('Email').fill(demoUsers.alice);
	await page.getByLabel('Password').fill(DEMO_PASSWORD);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await expect(page).toHaveURL(/\/settings\/members$/);
	await expect(page.getByRole('heading', { level: 1 })).toHaveText('Members');
});

test('a mistyped email is flagged on its field, a wrong password says what to check', async ({
	page
}) => {
	await page.goto('/sign-in');
	const email = page.getByLabel('Email');
	await email.fill('not-an-email');
	await page.getByLabel('Password').fill('whatever');
	await page.getByRole('button', { name: 'Sign in' }).click();
	await expect(email).toHaveAttribute('aria-invalid', 'true');
	const describedBy = await email.getAttribute('aria-describedby');
	await expect(page.locator(`#${describedBy}`)).toContainText('like name@example.com');
	// The first answer must have landed before typing again, or it would put the old value back.
	await page.waitForLoadState('networkidle');

	await email.fill(demoUsers.alice);
	await page.getByLabel('Password').fill('wrong-password');
	await page.getByRole('button', { name: 'Sign in' }).click();
	await expect(page.getByRole('alert')).toContainText('Email or password is wrong');
	await expect(page).toHaveURL(/\/sign-in/);
});

test('sign up lands on the overview of a personal organization; sign out ends the session', async ({
	page
}) => {
	await signUpNewUser(page, 'Dana Example');
	await expect(page.getByText("Dana Example's organization", { exact: true })).toBeVisible();
	await signOut(page);
	await page.goto('/');
	await expect(page).toHaveURL(/\/sign-in$/);
});

test('the sign-in and sign-up pages pass axe in light and dark mode', async ({ page }) => {
	for (const path of ['/sign-in', '/sign-up']) {
		await expectAccessibleInBothThemes(page, path, () =>
			expect(page.getByRole('heading', { level: 1 })).toBeVisible()
		);
	}
});

test.describe('without JavaScript', () => {
	test.use({ javaScriptEnabled: false });

	test('sign-in works with plain form posts, field errors included', async ({ page }) => {
		await page.goto('/sign-in?redirectTo=%2Fsettings');
		await page.getByLabel('Email').fill('nope');
		await page.getByRole('button', { name: 'Sign in' }).click();
		await expect(page.getByLabel('Email')).toHaveAttribute('aria-invalid', 'true');
		await expect(page.getByLabel('Password')).toHaveAttribute('aria-invalid', 'true');

		await page.getByLabel('Email').fill(demoUsers.carol);
		await page.getByLabel('Password').fill(DEMO_PASSWORD);
		await page.getByRole('button', { name: 'Sign in' }).click();
		await expect(page).toHaveURL(/\/settings$/);
	});
});

test('signing in while signed in goes straight to the app', async ({ page }) => {
	await signIn(page, demoUsers.bob);
	await page.goto('/sign-in');
	await expect(page).toHaveURL(/\/$/);
});

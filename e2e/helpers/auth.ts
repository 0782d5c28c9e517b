import { expect, type Page } from '@playwright/test';
import { DEMO_PASSWORD, uniqueEmail } from './platform';

/** Signs in through the form, as a user would, and waits for the app shell. */
export async function signIn(page: Page, email: string, password = DEMO_PASSWORD, path = '/') {
	await page.goto(path === '/' ? '/sign-in' : `/sign-in?redirectTo=${encodeURIComponent(path)}`);
	await page.getByLabel('Email').fill(email);
	await page.getByLabel('Password').fill(password);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await expect(page.getByRole('link', { name: 'Skip to content' })).toBeAttached();
}

/** Creates a brand-new account through the sign-up form; returns its email. */
export async function signUpNewUser(page: Page, name = 'E2E Tester'): Promise<string> {
	const email = uniqueEmail('signup');
	await page.goto('/sign-up');
	await page.getByLabel('Your name (optional)').fill(name);
	await page.getByLabel('Email').fill(email);
	await page.getByLabel('Password').fill('correct horse battery');
	await page.getByRole('button', { name: 'Create account' }).click();
	await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
	return email;
}

/** Signs out with the header's button (inside the menu on a phone). */
export async function signOut(page: Page) {
	const menu = page.getByRole('button', { name: 'Menu' });
	if (await menu.isVisible()) await menu.click();
	await page.getByRole('button', { name: 'Sign out' }).click();
	await expect(page).toHaveURL(/\/sign-in$/);
}

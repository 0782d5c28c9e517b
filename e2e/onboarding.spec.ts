import { expect, test } from '@playwright/test';
import { signUpNewUser } from './helpers/auth';
import { ingestOneEvent } from './helpers/platform';

test('sign up → personal organization → create a bot → key shown once → ingest accepts it → revoke → 401', async ({
	page
}) => {
	await signUpNewUser(page, 'Onboarding Owner');
	// The personal organization exists at once; it has no bots yet.
	await expect(page.getByText("Onboarding Owner's organization", { exact: true })).toBeVisible();
	await expect(page.getByRole('heading', { name: 'No bots yet' })).toBeVisible();
	await page.getByRole('link', { name: 'Create a bot' }).click();

	await page.getByLabel('Name', { exact: true }).fill('Checkout helper');
	await page.getByLabel('Channel').click();
	await page.getByRole('option', { name: 'WhatsApp' }).click();
	const zone = page.getByRole('combobox', { name: 'Time zone' });
	await zone.fill('');
	await zone.pressSequentially('berl');
	await page.getByRole('option', { name: 'Europe/Berlin' }).click();
	await page.getByRole('button', { name: 'Create bot' }).click();

	await expect(page.getByRole('heading', { level: 1, name: 'Checkout helper' })).toBeVisible();
	await expect(page.getByText('Bot created.')).toBeVisible();

	await page.getByLabel('Key name').fill('production');
	await page.getByRole('button', { name: 'Create key' }).click();
	const shown = page.getByTestId('new-api-key');
	await expect(shown).toHaveText(/^bf_live_[0-9a-f]{64}$/);
	const apiKey = (await shown.textContent())!.trim();
	await expect(page.getByText(`curl -X POST`)).toContainText(apiKey);
	const prefix = apiKey.slice(0, 14);
	await expect(page.getByRole('cell', { name: `${prefix}…`, exact: true })).toBeVisible();

	expect(await ingestOneEvent(apiKey)).toEqual({ status: 200, accepted: 1 });

	// Shown once: a reload lists the key by its prefix only.
	await page.reload();
	await expect(page.getByTestId('new-api-key')).toHaveCount(0);
	await expect(page.getByText(apiKey)).toHaveCount(0);
	await expect(page.getByRole('cell', { name: `${prefix}…`, exact: true })).toBeVisible();

	await page.getByRole('button', { name: `Revoke key production (${prefix}…)` }).click();
	const dialog = page.getByRole('alertdialog');
	await expect(dialog).toContainText('will get 401');
	await dialog.getByRole('button', { name: 'Revoke key' }).click();
	await expect(dialog).toBeHidden();
	await expect(page.getByRole('cell', { name: /^Revoked / })).toBeVisible();

	expect((await ingestOneEvent(apiKey)).status).toBe(401);

	// The overview now lists the bot with the event it received.
	await page.getByRole('link', { name: 'Overview' }).first().click();
	const card = page.getByRole('listitem').filter({ hasText: 'Checkout helper' });
	await expect(card.getByText('Messages today')).toBeVisible();
	await expect(card.locator('.value').first()).toHaveText('1');
});

test('the create-bot form says what to fix before anything is written', async ({ page }) => {
	await signUpNewUser(page);
	await page.goto('/settings');
	const zone = page.getByRole('combobox', { name: 'Time zone' });
	await zone.fill('');
	// Clearing the field opens its suggestions over the button below, as typing does: a user
	// closes them first (on a slow phone they opened just as the click came, and took it).
	await zone.press('Escape');
	await expect(page.getByRole('listbox')).toBeHidden();
	await page.getByRole('button', { name: 'Create bot' }).click();
	const name = page.getByLabel('Name', { exact: true });
	await expect(name).toHaveAttribute('aria-invalid', 'true');
	await expect(page.getByText('Give the bot a name')).toBeVisible();
	await expect(page.getByRole('heading', { name: 'No bots yet' })).toBeVisible();
});

// The time-zone combobox of the bot forms: its ▾ button opens the whole list (the current zone
// first), and a zone can be chosen with the keyboard alone, then saved with the bot.
import { expect, test } from '@playwright/test';
import { signUpNewUser } from './helpers/auth';

test('the ▾ button opens the time zones, and the keyboard picks one that the bot keeps', async ({
	page
}) => {
	await signUpNewUser(page, 'Zone Picker');
	await page.getByRole('link', { name: 'Create a bot' }).click();
	await page.getByLabel('Name', { exact: true }).fill('Night shift');
	const zone = page.getByRole('combobox', { name: 'Time zone' });
	const current = await zone.inputValue();
	const show = page.getByRole('button', { name: 'Show time zones' });
	await expect(show).toHaveAttribute('aria-expanded', 'false');

	// With the pointer: the whole list, not only what matches typed text.
	await show.click();
	await expect(zone).toHaveAttribute('aria-expanded', 'true');
	await expect(show).toHaveAttribute('aria-expanded', 'true');
	const options = page.getByRole('listbox').getByRole('option');
	await expect(options.first()).toHaveAccessibleName(current.replace(/ /g, ' '));
	expect(await options.count()).toBeGreaterThan(300);
	await page.keyboard.press('Escape');
	await expect(page.getByRole('listbox')).toHaveCount(0);

	// With the keyboard: Tab from the field to the button, Enter opens, type to narrow, arrows
	// and Enter choose.
	await zone.focus();
	await page.keyboard.press('Tab');
	await expect(show).toBeFocused();
	await page.keyboard.press('Enter');
	await expect(page.getByRole('listbox')).toBeVisible();
	await expect(zone).toBeFocused();
	await page.keyboard.type('new york');
	await expect(options).toHaveCount(1);
	await page.keyboard.press('ArrowDown');
	await page.keyboard.press('Enter');
	await expect(page.getByRole('listbox')).toHaveCount(0);
	await expect(zone).toHaveValue('America/New York');

	await page.getByRole('button', { name: 'Create bot' }).click();
	await expect(page.getByRole('heading', { level: 1, name: 'Night shift' })).toBeVisible();
	await expect(page.getByRole('combobox', { name: 'Time zone' })).toHaveValue('America/New York');
});

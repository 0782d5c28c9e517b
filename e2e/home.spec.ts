import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';

test('the home page names the product and has no WCAG 2.1 AA violations', async ({ page }) => {
	await page.goto('/');
	await expect(page.getByRole('heading', { level: 1 })).toHaveText('BotFlow Analytics');
	const results = await new AxeBuilder({ page })
		.withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
		.analyze();
	expect(results.violations).toEqual([]);
});

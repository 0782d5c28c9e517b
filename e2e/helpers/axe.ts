import AxeBuilder from '@axe-core/playwright';
import { expect, type Page } from '@playwright/test';

export const THEMES = ['light', 'dark'] as const;

/** WCAG 2.1 A and AA rules on the page as it is now. */
export async function expectNoAxeViolations(page: Page) {
	const results = await new AxeBuilder({ page })
		.withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
		.analyze();
	expect(
		results.violations.map((v) => ({ id: v.id, nodes: v.nodes.map((n) => n.target) }))
	).toEqual([]);
}

/**
 * Loads `path` in the light and the dark theme (the app follows the system's colour scheme until
 * the user picks one) and runs axe on each.
 */
export async function expectAccessibleInBothThemes(
	page: Page,
	path: string,
	ready: () => Promise<void>
) {
	for (const theme of THEMES) {
		await page.emulateMedia({ colorScheme: theme });
		await page.goto(path);
		await ready();
		await expect(page.locator('html')).toHaveClass(
			theme === 'dark' ? /\bdark\b/ : /^(?!.*\bdark\b)/
		);
		await expectNoAxeViolations(page);
	}
}

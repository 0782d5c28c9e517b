// `npm run screenshot`: refreshes the README's pictures of the live dashboard. Run it while
// `npm start` serves the product (or point DASHBOARD_URL elsewhere): it signs in as the demo
// owner, opens the busiest demo bot and waits until live events have arrived.
import { chromium, type Page } from '@playwright/test';
import { join } from 'node:path';
import { projectRoot } from '../stack/config.ts';

const baseUrl = process.env.DASHBOARD_URL ?? 'http://127.0.0.1:3000';
const botName = process.env.SCREENSHOT_BOT ?? 'Acme Support';
const out = (name: string) => join(projectRoot, 'docs', name);

async function openLiveBot(page: Page) {
	await page.goto(`${baseUrl}/sign-in`);
	await page.getByLabel('Email').fill('alice@botflow.test');
	await page.getByLabel('Password').fill('password123');
	await page.getByRole('button', { name: 'Sign in' }).click();
	await page.getByRole('link', { name: botName }).first().click();
	await page.getByRole('heading', { level: 1, name: new RegExp(botName) }).waitFor();
	// Charts stream in after the cards; the picture is worth taking once they are drawn.
	await page.locator('svg').first().waitFor();
	await page.waitForLoadState('networkidle');
}

async function main() {
	const browser = await chromium.launch({
		executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
		args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run']
	});
	try {
		for (const shot of [
			{ file: 'live-dashboard.png', viewport: { width: 1440, height: 960 }, scheme: 'light' },
			{
				file: 'live-dashboard-phone-dark.png',
				viewport: { width: 360, height: 740 },
				scheme: 'dark'
			}
		] as const) {
			const context = await browser.newContext({
				viewport: shot.viewport,
				colorScheme: shot.scheme,
				deviceScaleFactor: 1
			});
			const page = await context.newPage();
			await openLiveBot(page);
			await page.screenshot({ path: out(shot.file) });
			console.log(`screenshot: ${out(shot.file)}`);
			await context.close();
		}
	} finally {
		await browser.close();
	}
}

main().catch((e) => {
	console.error(
		`screenshot: ${e instanceof Error ? e.message : e} (is the product running at ${baseUrl}? start it with npm start)`
	);
	process.exit(1);
});

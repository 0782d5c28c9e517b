import { defineConfig, devices } from '@playwright/test';

// Debian's Chromium, never a downloaded browser; flags keep it off the (closed) network.
const launchOptions = {
	executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
	args: [
		'--no-sandbox',
		'--disable-gpu',
		'--disable-quic',
		'--disable-background-networking',
		'--disable-component-update',
		'--disable-sync',
		'--no-first-run'
	]
};

const port = Number(process.env.E2E_PORT ?? 4173);

export default defineConfig({
	testDir: 'e2e',
	fullyParallel: false,
	workers: 1,
	retries: 0,
	reporter: process.env.CI ? 'list' : 'list',
	use: { baseURL: `http://127.0.0.1:${port}`, headless: true, launchOptions, trace: 'off' },
	projects: [
		{ name: 'desktop', use: { ...devices['Desktop Chrome'], launchOptions } },
		{ name: 'phone', use: { ...devices['Pixel 7'], launchOptions } }
	],
	webServer: {
		command: `npm run build && node build`,
		url: `http://127.0.0.1:${port}`,
		env: { PORT: String(port), HOST: '127.0.0.1' },
		reuseExistingServer: !process.env.CI,
		timeout: 180_000
	}
});

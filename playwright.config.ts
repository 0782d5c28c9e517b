import { defineConfig, devices } from '@playwright/test';
import { config as platform } from './stack/config.ts';

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
// A git-ignored folder per port (`.stack*`), so e2e builds never clobber `build/` or each other.
const buildRoot = `.stack-e2e-${port}`;

export default defineConfig({
	testDir: 'e2e',
	outputDir: `${buildRoot}/test-results`,
	fullyParallel: false,
	workers: 1,
	retries: 0,
	timeout: 60_000,
	// How long a condition may take to become true, not a speed requirement: a 2-core machine
	// running the platform, the app and Chromium at once answers slower than a laptop.
	expect: { timeout: 15_000 },
	reporter: 'list',
	use: { baseURL: `http://127.0.0.1:${port}`, headless: true, launchOptions, trace: 'off' },
	projects: [
		{ name: 'desktop', use: { ...devices['Desktop Chrome'], launchOptions } },
		{
			name: 'phone',
			use: { ...devices['Pixel 7'], viewport: { width: 360, height: 740 }, launchOptions }
		}
	],
	webServer: {
		command: `npm run build && node ${buildRoot}/build`,
		url: `http://127.0.0.1:${port}/sign-in`,
		// The app talks to whichever platform instance SUPABASE_API_PORT names (stack/config.ts).
		env: {
			BUILD_DIR: `${buildRoot}/build`,
			SVELTEKIT_OUT_DIR: `${buildRoot}/svelte-kit`,
			PORT: String(port),
			HOST: '127.0.0.1',
			ORIGIN: `http://127.0.0.1:${port}`,
			PUBLIC_SUPABASE_URL: platform.api.url,
			PUBLIC_SUPABASE_ANON_KEY: platform.keys.anon
		},
		reuseExistingServer: !process.env.CI,
		// A production build on a loaded 2-core machine can take minutes.
		timeout: 600_000
	}
});

import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
	plugins: [sveltekit()],
	server: { port: 5173, strictPort: true },
	test: {
		expect: { requireAssertions: true },
		projects: [
			{
				// Pure app logic beside the code.
				extends: './vite.config.ts',
				test: { name: 'unit', environment: 'node', include: ['src/**/*.spec.ts'] }
			},
			{
				// The local platform, driven through the official Supabase clients; needs it running.
				test: {
					name: 'platform',
					environment: 'node',
					include: ['stack/**/*.spec.ts', 'scripts/**/*.spec.ts', 'integration/**/*.spec.ts'],
					testTimeout: 30_000,
					hookTimeout: 60_000,
					fileParallelism: false
				}
			}
		]
	}
});

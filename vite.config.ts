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
				test: {
					name: 'unit',
					environment: 'node',
					include: ['src/**/*.spec.ts', 'scripts/simulator/*.spec.ts'],
					// The simulator's own integration spec needs the platform.
					exclude: ['scripts/simulator/simulator.spec.ts']
				}
			},
			{
				// The platform's pure modules (`*.test.ts` beside the code): no platform, milliseconds.
				test: { name: 'stack-unit', environment: 'node', include: ['stack/**/*.test.ts'] }
			},
			{
				// The local platform, driven through the official Supabase clients; needs it running.
				test: {
					name: 'platform',
					environment: 'node',
					include: ['stack/**/*.spec.ts', 'scripts/**/*.spec.ts', 'integration/**/*.spec.ts'],
					// The simulator's pure units run in the unit project.
					exclude: ['scripts/simulator/!(simulator).spec.ts'],
					testTimeout: 30_000,
					hookTimeout: 60_000,
					fileParallelism: false
				}
			}
		]
	}
});

import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

// Several engineers (and `npm start`) build on one checkout: the e2e web server builds into its
// own folders (BUILD_DIR, SVELTEKIT_OUT_DIR), so parallel builds never overwrite each other.
/** @type {import('@sveltejs/kit').Config} */
const config = {
	preprocess: vitePreprocess(),
	kit: {
		adapter: adapter({ out: process.env.BUILD_DIR || 'build' }),
		outDir: process.env.SVELTEKIT_OUT_DIR || '.svelte-kit'
	}
};

export default config;

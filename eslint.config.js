import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';
import svelteConfig from './svelte.config.js';

export default ts.config(
	{
		ignores: [
			'build/',
			'.svelte-kit/',
			'.stack*/',
			'node_modules/',
			'supabase/functions/node_modules/',
			'supabase/.temp/',
			'src/lib/database.types.ts',
			'supabase/functions/_shared/database.types.ts',
			'test-results/',
			'playwright-report/'
		]
	},
	js.configs.recommended,
	...ts.configs.recommended,
	...svelte.configs.recommended,
	prettier,
	...svelte.configs.prettier,
	{
		languageOptions: { globals: { ...globals.browser, ...globals.node } },
		rules: {
			'no-undef': 'off',
			'@typescript-eslint/no-unused-vars': [
				'error',
				{ argsIgnorePattern: '^_', varsIgnorePattern: '^_' }
			]
		}
	},
	{
		files: ['**/*.svelte', '**/*.svelte.ts', '**/*.svelte.js'],
		languageOptions: {
			parserOptions: {
				projectService: true,
				extraFileExtensions: ['.svelte'],
				parser: ts.parser,
				svelteConfig
			}
		}
	},
	{
		// Type-aware rules: a promise nobody awaits hides its failure (Edge Functions are checked
		// by `deno check`, whose types ESLint's project does not load).
		files: ['**/*.ts', '**/*.svelte'],
		ignores: ['supabase/functions/**'],
		languageOptions: {
			parserOptions: { projectService: true, extraFileExtensions: ['.svelte'] }
		},
		rules: {
			'@typescript-eslint/no-floating-promises': 'error',
			'@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }]
		}
	},
	{
		// Edge Functions run on Deno, whose globals ESLint does not know.
		files: ['supabase/functions/**/*.ts'],
		languageOptions: { globals: { Deno: 'readonly' } }
	}
);

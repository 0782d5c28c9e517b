// `npm run db:types`: generates src/lib/database.types.ts from the running database with
// Supabase's own generator (postgres-meta, what `supabase gen types` runs), and the same file
// for the Edge Functions (supabase/functions/_shared/), which are deployed on their own and
// cannot import from src/. With --check it fails when a checked-in copy differs, i.e. someone
// changed a migration and forgot this.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as prettier from 'prettier';
import { config, projectRoot } from '../stack/config.ts';

const targets = [
	join(projectRoot, 'src', 'lib', 'database.types.ts'),
	join(projectRoot, 'supabase', 'functions', '_shared', 'database.types.ts')
];
const check = process.argv.includes('--check');

const raw = execFileSync(
	process.execPath,
	[join(projectRoot, 'node_modules', '@supabase', 'postgres-meta', 'dist', 'server', 'server.js')],
	{
		encoding: 'utf8',
		stdio: ['ignore', 'pipe', 'ignore'],
		env: {
			...process.env,
			PG_META_DB_URL: config.db.url,
			PG_META_GENERATE_TYPES: 'typescript',
			PG_META_GENERATE_TYPES_INCLUDED_SCHEMAS: config.api.schemas.join(',')
		}
	}
);
const options = (await prettier.resolveConfig(targets[0])) ?? {};
const generated = await prettier.format(raw, { ...options, filepath: targets[0] });

for (const target of targets) {
	const name = relative(projectRoot, target);
	if (check) {
		const current = existsSync(target) ? readFileSync(target, 'utf8') : '';
		if (current !== generated) {
			console.error(
				`db-types: ${name} is out of date with the migrations: run \`npm run db:types\` and commit it`
			);
			process.exit(1);
		}
		console.log(`db-types: ${name} matches the migrations`);
	} else {
		writeFileSync(target, generated);
		console.log(`db-types: wrote ${name}`);
	}
}

// `npm run db:types`: generates src/lib/database.types.ts from the running database with
// Supabase's own generator (postgres-meta, what `supabase gen types` runs). With --check it
// fails when the checked-in file differs, i.e. someone changed a migration and forgot this.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import * as prettier from 'prettier';
import { config, projectRoot } from '../stack/config.ts';

const target = join(projectRoot, 'src', 'lib', 'database.types.ts');
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
const options = (await prettier.resolveConfig(target)) ?? {};
const generated = await prettier.format(raw, { ...options, filepath: target });

if (check) {
	const current = existsSync(target) ? readFileSync(target, 'utf8') : '';
	if (current !== generated) {
		console.error(
			`db-types: ${target} is out of date with the migrations: run \`npm run db:types\` and commit it`
		);
		process.exit(1);
	}
	console.log('db-types: src/lib/database.types.ts matches the migrations');
} else {
	writeFileSync(target, generated);
	console.log(`db-types: wrote ${target}`);
}

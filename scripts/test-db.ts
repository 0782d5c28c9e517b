// `npm run test:db`: the pgTAP files in supabase/tests against the running local database,
// the layout `supabase test db` uses.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { config, projectRoot } from '../stack/config.ts';

const dir = join(projectRoot, 'supabase', 'tests');
const files = readdirSync(dir)
	.filter((f) => f.endsWith('.sql'))
	.sort()
	.map((f) => join(dir, f));
const result = spawnSync('pg_prove', ['--dbname', config.db.url, ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);

// The environment a function gets: what hosted Supabase injects, plus supabase/functions/.env,
// and only what Deno itself needs from ours (no gateway secrets leak in by accident).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { config, supabaseDir } from '../config.ts';
import { denoTrustEnv } from './deno-env.ts';

const passThrough =
	/^(PATH|HOME|TMPDIR|LANG|TZ|DENO_[A-Z_]+|NPM_CONFIG_[A-Z_]+|npm_config_[a-z_]+|HTTPS?_PROXY|NO_PROXY|https?_proxy|no_proxy|SSL_CERT_FILE)$/;

/** Parses a dotenv file: KEY=value, optional quotes, `#` comments, `export ` prefix. */
export function parseDotenv(text: string): Record<string, string> {
	const out: Record<string, string> = {};
	for (const raw of text.split(/\r?\n/)) {
		const line = raw.trim();
		if (!line || line.startsWith('#')) continue;
		const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
		if (!m) continue;
		let value = m[2];
		const quote = value[0];
		if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
			value = value.slice(1, -1);
			if (quote === '"') value = value.replace(/\\n/g, '\n');
		} else {
			value = value.replace(/\s+#.*$/, '');
		}
		out[m[1]] = value;
	}
	return out;
}

export const dotenvFile = join(supabaseDir, 'functions', '.env');

export function functionEnv(name: string, entry: string): Record<string, string> {
	const own = Object.fromEntries(
		Object.entries(process.env).filter(([k, v]) => passThrough.test(k) && v !== undefined)
	);
	const dotenv = existsSync(dotenvFile) ? parseDotenv(readFileSync(dotenvFile, 'utf8')) : {};
	return {
		...own,
		// A function may call out to the internet (an LLM API, a webhook) through the same proxy.
		...denoTrustEnv(),
		DENO_NO_UPDATE_CHECK: '1',
		NO_COLOR: '1',
		...dotenv,
		SUPABASE_URL: config.api.url,
		SUPABASE_ANON_KEY: config.keys.anon,
		SUPABASE_SERVICE_ROLE_KEY: config.keys.serviceRole,
		SUPABASE_DB_URL: config.db.url,
		SUPABASE_PUBLISHABLE_KEYS: JSON.stringify({ default: config.keys.publishable }),
		SUPABASE_SECRET_KEYS: JSON.stringify({ default: config.keys.secret }),
		STACK_FUNCTION_NAME: name,
		STACK_FUNCTION_ENTRY: entry
	};
}

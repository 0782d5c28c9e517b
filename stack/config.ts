// One place that knows the local platform's settings. Everything comes from
// supabase/config.toml (the file the real CLI reads) and env, so a port or key is never
// written twice.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHmac } from 'node:crypto';
import { parse } from 'smol-toml';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The folder holding `supabase/`; tests point it elsewhere to try broken migrations. */
export const workdir = process.env.SUPABASE_WORKDIR
	? resolve(process.env.SUPABASE_WORKDIR)
	: projectRoot;
export const supabaseDir = join(workdir, 'supabase');
/** Git-ignored folder for everything the platform writes at run time. */
export const stateDir = process.env.STACK_STATE_DIR
	? resolve(process.env.STACK_STATE_DIR)
	: join(projectRoot, '.stack');

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- TOML is untyped until read
type Toml = Record<string, any>;
const toml = parse(readFileSync(join(supabaseDir, 'config.toml'), 'utf8')) as Toml;

function num(envName: string, fallback: number): number {
	const raw = process.env[envName];
	if (raw === undefined || raw === '') return fallback;
	const n = Number(raw);
	if (!Number.isInteger(n) || n <= 0 || n > 65535) {
		throw new Error(`${envName}=${raw} is not a valid port: use an integer from 1 to 65535`);
	}
	return n;
}

/** The JWT secret `supabase start` uses; hosted projects have their own. */
export const jwtSecret =
	process.env.SUPABASE_JWT_SECRET ?? 'super-secret-jwt-token-with-at-least-32-characters-long';

function b64url(input: Buffer | string): string {
	return Buffer.from(input).toString('base64url');
}

/** Legacy API keys are HS256 JWTs over fixed claims, so they derive deterministically. */
export function legacyKey(role: 'anon' | 'service_role'): string {
	const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
	const payload = b64url(JSON.stringify({ iss: 'supabase-demo', role, exp: 1983812996 }));
	const sig = createHmac('sha256', jwtSecret).update(`${header}.${payload}`).digest();
	return `${header}.${payload}.${b64url(sig)}`;
}

const apiPort = num('SUPABASE_API_PORT', toml.api?.port ?? 54321);
const dbPort = num('SUPABASE_DB_PORT', toml.db?.port ?? 54322);

export const config = {
	projectId: String(toml.project_id),
	api: {
		port: apiPort,
		url: `http://127.0.0.1:${apiPort}`,
		schemas: (toml.api?.schemas ?? ['public']) as string[],
		extraSearchPath: (toml.api?.extra_search_path ?? ['public', 'extensions']) as string[],
		maxRows: Number(toml.api?.max_rows ?? 1000)
	},
	db: {
		port: dbPort,
		name: process.env.SUPABASE_DB_NAME ?? 'postgres',
		url: `postgresql://postgres:postgres@127.0.0.1:${dbPort}/${process.env.SUPABASE_DB_NAME ?? 'postgres'}`,
		dataDir: join(stateDir, 'db'),
		pgBin: process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin'
	},
	auth: {
		jwtSecret,
		jwtExpiry: Number(toml.auth?.jwt_expiry ?? 3600),
		siteUrl: String(toml.auth?.site_url ?? 'http://127.0.0.1:3000'),
		enableSignup: toml.auth?.enable_signup !== false,
		minimumPasswordLength: Number(toml.auth?.minimum_password_length ?? 6)
	},
	keys: {
		anon: legacyKey('anon'),
		serviceRole: legacyKey('service_role'),
		publishable:
			process.env.SUPABASE_PUBLISHABLE_KEY ?? 'sb_publishable_ACJWlzQHlZjBrEguHvfOxg_3BJgxAaH',
		secret: process.env.SUPABASE_SECRET_KEY ?? 'sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz'
	},
	/** Per-function settings from `[functions.<name>]`; verify_jwt defaults to true as hosted. */
	functions: Object.fromEntries(
		Object.entries((toml.functions ?? {}) as Toml).map(([name, f]) => [
			name,
			{ verifyJwt: (f as Toml).verify_jwt !== false }
		])
	) as Record<string, { verifyJwt: boolean }>,
	toml
};

export type StackConfig = typeof config;

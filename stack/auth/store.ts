// Auth's tables in the `auth` schema, reached as supabase_auth_admin (their owner), the role
// hosted GoTrue uses, so app triggers on auth.users run under the same privileges as hosted.
import postgres from 'postgres';
import { config } from '../config.ts';

const url = new URL(config.db.url);
url.username = 'supabase_auth_admin';
url.password = 'postgres';

export const sql = postgres(url.toString(), {
	max: 4,
	idle_timeout: 60,
	onnotice: () => {},
	connection: { search_path: 'auth', application_name: 'stack-auth' }
});

export type Sql = typeof sql | postgres.TransactionSql;

export const instanceId = '00000000-0000-0000-0000-000000000000';

export interface UserRow {
	id: string;
	aud: string | null;
	role: string | null;
	email: string | null;
	encrypted_password: string | null;
	email_confirmed_at: Date | null;
	phone: string | null;
	phone_confirmed_at: Date | null;
	confirmed_at: Date | null;
	confirmation_sent_at: Date | null;
	last_sign_in_at: Date | null;
	raw_app_meta_data: Record<string, unknown> | null;
	raw_user_meta_data: Record<string, unknown> | null;
	created_at: Date;
	updated_at: Date;
	banned_until: Date | null;
	deleted_at: Date | null;
	is_anonymous: boolean;
	identities: IdentityRow[];
}

interface IdentityRow {
	id: string;
	provider_id: string;
	user_id: string;
	identity_data: Record<string, unknown>;
	provider: string;
	last_sign_in_at: string | null;
	created_at: string | null;
	updated_at: string | null;
	email: string | null;
}

// One round trip for a user and its identities.
const userColumns = (s: Sql) => s`
	u.id, u.aud, u.role, u.email, u.encrypted_password, u.email_confirmed_at, u.phone,
	u.phone_confirmed_at, u.confirmed_at, u.confirmation_sent_at, u.last_sign_in_at,
	u.raw_app_meta_data, u.raw_user_meta_data, u.created_at, u.updated_at, u.banned_until,
	u.deleted_at, u.is_anonymous,
	coalesce((
		select json_agg(i order by i.created_at)
		from auth.identities i where i.user_id = u.id
	), '[]') as identities`;

export async function userById(s: Sql, id: string): Promise<UserRow | undefined> {
	const [row] = await s<UserRow[]>`select ${userColumns(s)} from auth.users u where u.id = ${id}`;
	return row;
}

export async function userByEmail(s: Sql, email: string): Promise<UserRow | undefined> {
	const [row] = await s<UserRow[]>`
		select ${userColumns(s)} from auth.users u
		where u.email = ${email} and u.is_sso_user = false`;
	return row;
}

export async function listUsers(s: Sql, page: number, perPage: number) {
	const rows = await s<UserRow[]>`
		select ${userColumns(s)} from auth.users u
		order by u.created_at, u.id limit ${perPage} offset ${(page - 1) * perPage}`;
	const [{ count }] = await s<{ count: number }[]>`select count(*)::int as count from auth.users`;
	return { rows, total: count };
}

const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : undefined);

/** The user object GoTrue returns (and auth-js types as `User`). */
export function userJson(u: UserRow) {
	return {
		id: u.id,
		aud: u.aud ?? 'authenticated',
		role: u.role ?? 'authenticated',
		email: u.email ?? '',
		email_confirmed_at: iso(u.email_confirmed_at),
		phone: u.phone ?? '',
		phone_confirmed_at: iso(u.phone_confirmed_at),
		confirmation_sent_at: iso(u.confirmation_sent_at),
		confirmed_at: iso(u.confirmed_at),
		last_sign_in_at: iso(u.last_sign_in_at),
		app_metadata: u.raw_app_meta_data ?? {},
		user_metadata: u.raw_user_meta_data ?? {},
		identities: u.identities.map((i) => ({
			identity_id: i.id,
			id: i.provider_id,
			user_id: i.user_id,
			identity_data: i.identity_data,
			provider: i.provider,
			last_sign_in_at: iso(i.last_sign_in_at),
			created_at: iso(i.created_at),
			updated_at: iso(i.updated_at),
			email: i.email ?? undefined
		})),
		created_at: iso(u.created_at),
		updated_at: iso(u.updated_at),
		banned_until: iso(u.banned_until),
		is_anonymous: u.is_anonymous
	};
}

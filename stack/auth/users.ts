// Creating, signing in and changing users, with GoTrue's validation rules and error codes.
import { randomUUID } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { config } from '../config.ts';
import { AuthError } from './http.ts';
import { instanceId, userByEmail, userById, type Sql, type UserRow } from './store.ts';

const bcryptCost = 10; // GoTrue's cost
const requirements = String(config.toml.auth?.password_requirements ?? '');
// A hash to compare against when the email is unknown, so timing does not reveal which exist.
// Made on first use: hashing at load would delay every gateway start.
let decoyHash: Promise<string> | undefined;

export function normalizeEmail(raw: unknown): string {
	if (typeof raw !== 'string' || raw.trim() === '') {
		throw new AuthError(400, 'validation_failed', 'An email address is required');
	}
	const email = raw.trim().toLowerCase();
	if (email.length > 255 || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
		throw new AuthError(400, 'email_address_invalid', `Email address "${raw}" is invalid`);
	}
	return email;
}

export function checkPassword(password: unknown): asserts password is string {
	if (typeof password !== 'string' || password === '') {
		throw new AuthError(
			422,
			'validation_failed',
			'Password is required: send a non-empty password'
		);
	}
	const reasons: string[] = [];
	const messages: string[] = [];
	const min = config.auth.minimumPasswordLength;
	if (password.length < min) {
		reasons.push('length');
		messages.push(`Password should be at least ${min} characters.`);
	}
	const needs: Record<string, RegExp[]> = {
		letters_digits: [/[a-zA-Z]/, /\d/],
		lower_upper_letters_digits: [/[a-z]/, /[A-Z]/, /\d/],
		lower_upper_letters_digits_symbols: [/[a-z]/, /[A-Z]/, /\d/, /[^a-zA-Z\d]/]
	};
	if (needs[requirements]?.some((re) => !re.test(password))) {
		reasons.push('characters');
		messages.push(
			`Password should contain the characters required by password_requirements (${requirements}).`
		);
	}
	if (password.length > 72) {
		throw new AuthError(422, 'validation_failed', 'Password cannot be longer than 72 characters');
	}
	if (reasons.length > 0) {
		throw new AuthError(422, 'weak_password', messages.join(' '), { weak_password: { reasons } });
	}
}

function metadata(value: unknown, what: string): Record<string, unknown> {
	if (value === undefined || value === null) return {};
	if (typeof value !== 'object' || Array.isArray(value)) {
		throw new AuthError(400, 'validation_failed', `${what} must be a JSON object`);
	}
	return value as Record<string, unknown>;
}

export interface NewUser {
	email: string;
	/** From hashPassword(), computed before the transaction so no connection waits on bcrypt. */
	passwordHash?: string;
	userMetadata?: unknown;
	appMetadata?: unknown;
	confirmed: boolean;
	role?: string;
	id?: string;
}

/** Inserts a user and its email identity; the caller's transaction fires app triggers. */
export async function createUser(s: Sql, input: NewUser): Promise<UserRow> {
	const id = input.id ?? randomUUID();
	const hash = input.passwordHash ?? '';
	const identityData = {
		sub: id,
		email: input.email,
		email_verified: input.confirmed,
		phone_verified: false
	};
	const userMeta = { ...metadata(input.userMetadata, 'user_metadata'), ...identityData };
	const appMeta = {
		provider: 'email',
		providers: ['email'],
		...metadata(input.appMetadata, 'app_metadata')
	};
	try {
		await s`
			insert into auth.users (
				instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
				confirmation_token, recovery_token, email_change_token_new, email_change,
				raw_app_meta_data, raw_user_meta_data, created_at, updated_at, is_anonymous
			) values (
				${instanceId}, ${id}, 'authenticated', ${input.role ?? 'authenticated'}, ${input.email}, ${hash},
				${input.confirmed ? s`now()` : null}, '', '', '', '',
				${s.json(appMeta as never)}, ${s.json(userMeta as never)}, now(), now(), false
			)`;
		await s`
			insert into auth.identities (provider_id, user_id, identity_data, provider, created_at, updated_at)
			values (${id}, ${id}, ${s.json(identityData as never)}, 'email', now(), now())`;
	} catch (e) {
		if ((e as { code?: string }).code === '23505') {
			throw new AuthError(422, 'user_already_exists', 'User already registered');
		}
		throw e;
	}
	return (await userById(s, id))!;
}

export function hashPassword(password: string): Promise<string> {
	return bcrypt.hash(password, bcryptCost);
}

/** Checks an email and password; null when they do not match a user. */
export async function verifyPassword(
	s: Sql,
	email: string,
	password: string
): Promise<UserRow | null> {
	const user = await userByEmail(s, email);
	decoyHash ??= bcrypt.hash('decoy-password-never-matches', bcryptCost);
	const ok = await bcrypt.compare(password, user?.encrypted_password || (await decoyHash));
	if (!user || !user.encrypted_password || !ok || user.deleted_at) return null;
	return user;
}

export function assertNotBanned(user: UserRow) {
	if (user.banned_until && user.banned_until.getTime() > Date.now()) {
		throw new AuthError(400, 'user_banned', 'User is banned');
	}
}

export interface UserChanges {
	email?: unknown;
	password?: unknown;
	data?: unknown;
	appMetadata?: unknown;
	emailConfirm?: unknown;
	role?: unknown;
	banDuration?: unknown;
}

function banUntil(duration: string): Date | null {
	if (duration === 'none') return null;
	const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(duration);
	if (!m)
		throw new AuthError(
			400,
			'validation_failed',
			'ban_duration must look like "24h", "30m" or "none"'
		);
	const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
	return new Date(Date.now() + Number(m[1]) * unit);
}

/** Applies PUT /user or PUT /admin/users/:id changes; metadata keys set to null are removed. */
export async function updateUser(s: Sql, user: UserRow, changes: UserChanges, admin: boolean) {
	if (changes.password !== undefined) {
		const password = changes.password;
		checkPassword(password);
		if (
			!admin &&
			user.encrypted_password &&
			(await bcrypt.compare(password, user.encrypted_password))
		) {
			throw new AuthError(
				422,
				'same_password',
				'New password should be different from the old password.'
			);
		}
		const hash = await bcrypt.hash(password, bcryptCost);
		await s`update auth.users set encrypted_password = ${hash}, updated_at = now() where id = ${user.id}`;
	}
	if (changes.data !== undefined) {
		const patch = metadata(changes.data, 'data');
		const next = { ...(user.raw_user_meta_data ?? {}) };
		for (const [k, v] of Object.entries(patch)) {
			if (v === null) delete next[k];
			else next[k] = v;
		}
		await s`update auth.users set raw_user_meta_data = ${s.json(next as never)}, updated_at = now()
			where id = ${user.id}`;
	}
	if (changes.appMetadata !== undefined) {
		const next = {
			...(user.raw_app_meta_data ?? {}),
			...metadata(changes.appMetadata, 'app_metadata')
		};
		await s`update auth.users set raw_app_meta_data = ${s.json(next as never)}, updated_at = now()
			where id = ${user.id}`;
	}
	if (changes.email !== undefined) {
		const email = normalizeEmail(changes.email);
		if (email !== user.email) {
			const other = await userByEmail(s, email);
			if (other)
				throw new AuthError(
					422,
					'email_exists',
					'A user with this email address has already been registered'
				);
			// Confirmations are off locally (as `supabase start`), so the change applies at once.
			await s`update auth.users set email = ${email}, email_confirmed_at = now(), updated_at = now()
				where id = ${user.id}`;
			await s`update auth.identities
				set identity_data = identity_data || ${s.json({ email } as never)}, updated_at = now()
				where user_id = ${user.id} and provider = 'email'`;
		}
	}
	if (admin && changes.emailConfirm === true) {
		await s`update auth.users set email_confirmed_at = coalesce(email_confirmed_at, now()) where id = ${user.id}`;
	}
	if (admin && typeof changes.role === 'string') {
		await s`update auth.users set role = ${changes.role}, updated_at = now() where id = ${user.id}`;
	}
	if (admin && typeof changes.banDuration === 'string') {
		await s`update auth.users set banned_until = ${banUntil(changes.banDuration)}, updated_at = now()
			where id = ${user.id}`;
		if (changes.banDuration !== 'none')
			await s`delete from auth.sessions where user_id = ${user.id}`;
	}
	return (await userById(s, user.id))!;
}

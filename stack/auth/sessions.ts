// Sessions and refresh tokens as GoTrue keeps them: one row per session, a chain of refresh
// tokens per session (each rotation revokes the old token and records it as the new one's
// parent), and reuse of a revoked token outside the reuse interval revokes the whole chain.
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { config } from '../config.ts';
import { signAccessToken } from '../jwt.ts';
import { AuthError, clientAddress } from './http.ts';
import { instanceId, sql, userById, userJson, type Sql, type UserRow } from './store.ts';

const issuer = `${config.api.url}/auth/v1`;
const reuseIntervalMs = Number(config.toml.auth?.refresh_token_reuse_interval ?? 10) * 1000;

interface SessionRow {
	id: string;
	user_id: string;
	created_at: Date;
	aal: string | null;
}

/** The caller's address for auth.sessions.ip; null when the socket is already gone. */
function sessionIp(req: IncomingMessage): string | null {
	const address = clientAddress(req);
	return isIP(address) ? address : null;
}

function newRefreshToken(): string {
	return randomBytes(16).toString('base64url');
}

async function accessToken(user: UserRow, session: SessionRow, now: number) {
	const iat = Math.floor(now / 1000);
	const exp = iat + config.auth.jwtExpiry;
	const token = await signAccessToken({
		aud: user.aud ?? 'authenticated',
		exp,
		iat,
		iss: issuer,
		sub: user.id,
		email: user.email ?? '',
		phone: user.phone ?? '',
		app_metadata: user.raw_app_meta_data ?? {},
		user_metadata: user.raw_user_meta_data ?? {},
		role: user.role ?? 'authenticated',
		aal: session.aal ?? 'aal1',
		amr: [{ method: 'password', timestamp: Math.floor(session.created_at.getTime() / 1000) }],
		session_id: session.id,
		is_anonymous: user.is_anonymous
	});
	return { token, exp };
}

async function sessionBody(user: UserRow, session: SessionRow, refreshToken: string) {
	const now = Date.now();
	const { token, exp } = await accessToken(user, session, now);
	return {
		access_token: token,
		token_type: 'bearer',
		expires_in: config.auth.jwtExpiry,
		expires_at: exp,
		refresh_token: refreshToken,
		user: userJson(user),
		weak_password: null
	};
}

/** Starts a session for a user who just proved who they are. */
export async function startSession(s: Sql, userId: string, req: IncomingMessage) {
	const id = randomUUID();
	const token = newRefreshToken();
	const [session] = await s<SessionRow[]>`
		insert into auth.sessions (id, user_id, created_at, updated_at, aal, user_agent, ip)
		values (${id}, ${userId}, now(), now(), 'aal1', ${req.headers['user-agent'] ?? null},
			${sessionIp(req)}::inet)
		returning id, user_id, created_at, aal`;
	await s`
		insert into auth.refresh_tokens
			(instance_id, token, user_id, revoked, created_at, updated_at, parent, session_id)
		values (${instanceId}, ${token}, ${userId}, false, now(), now(), null, ${id})`;
	await s`update auth.users set last_sign_in_at = now(), updated_at = now() where id = ${userId}`;
	await s`update auth.identities set last_sign_in_at = now() where user_id = ${userId}`;
	const user = (await userById(s, userId))!;
	return sessionBody(user, session, token);
}

const notFound = () =>
	new AuthError(400, 'refresh_token_not_found', 'Invalid Refresh Token: Refresh Token Not Found');

/** grant_type=refresh_token: rotate, or detect reuse and revoke the session's token family. */
export async function refreshSession(refreshToken: string) {
	const outcome = await sql.begin(async (s) => {
		const [old] = await s<
			{ id: string; token: string; revoked: boolean; updated_at: Date; session_id: string }[]
		>`
			select id, token, revoked, updated_at, session_id from auth.refresh_tokens
			where token = ${refreshToken} for update`;
		if (!old || !old.session_id) throw notFound();
		const [session] = await s<(SessionRow & { not_after: Date | null })[]>`
			select id, user_id, created_at, aal, not_after from auth.sessions where id = ${old.session_id} for update`;
		if (!session) throw notFound();
		if (session.not_after && session.not_after.getTime() < Date.now()) {
			throw new AuthError(400, 'session_expired', 'Invalid Refresh Token: Session Expired');
		}
		const user = await userById(s, session.user_id);
		if (!user) throw notFound();
		if (user.banned_until && user.banned_until.getTime() > Date.now()) {
			throw new AuthError(400, 'user_banned', 'Invalid Refresh Token: User Banned');
		}
		if (old.revoked) {
			const [active] = await s<{ token: string; parent: string | null }[]>`
				select token, parent from auth.refresh_tokens
				where session_id = ${session.id} and revoked = false order by id desc limit 1`;
			// Two tabs refreshing at once: the loser gets the winner's token, as GoTrue allows.
			if (
				active &&
				active.parent === old.token &&
				Date.now() - old.updated_at.getTime() < reuseIntervalMs
			) {
				return { body: await sessionBody(user, session, active.token) };
			}
			await s`update auth.refresh_tokens set revoked = true, updated_at = now()
				where session_id = ${session.id} and revoked = false`;
			return { reused: true as const };
		}
		const token = newRefreshToken();
		await s`update auth.refresh_tokens set revoked = true, updated_at = now() where id = ${old.id}`;
		await s`
			insert into auth.refresh_tokens
				(instance_id, token, user_id, revoked, created_at, updated_at, parent, session_id)
			values (${instanceId}, ${token}, ${user.id}, false, now(), now(), ${old.token}, ${session.id})`;
		await s`update auth.sessions set updated_at = now(), refreshed_at = now() at time zone 'utc'
			where id = ${session.id}`;
		return { body: await sessionBody(user, session, token) };
	});
	// The revocation must be committed before answering, so it is raised outside the transaction.
	if ('reused' in outcome) {
		throw new AuthError(400, 'refresh_token_already_used', 'Invalid Refresh Token: Already Used');
	}
	return outcome.body;
}

export async function sessionExists(id: string): Promise<boolean> {
	const rows = await sql`select 1 from auth.sessions where id = ${id}`;
	return rows.length > 0;
}

export async function endSessions(userId: string, sessionId: string, scope: string) {
	if (scope === 'local') await sql`delete from auth.sessions where id = ${sessionId}`;
	else if (scope === 'others') {
		await sql`delete from auth.sessions where user_id = ${userId} and id <> ${sessionId}`;
	} else await sql`delete from auth.sessions where user_id = ${userId}`;
}

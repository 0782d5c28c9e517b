// GoTrue's HTTP surface under /auth/v1: the subset supabase-js needs for email and password
// users, sessions and the admin API, with GoTrue's status codes and error codes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { config } from '../config.ts';
import { JwtError, jwks, verifyJwt, type Claims } from '../jwt.ts';
import {
	AuthError,
	bearer,
	clientAddress,
	readJson,
	sendError,
	sendJson,
	sendNoContent
} from './http.ts';
import { clearEmailFailures, recordFailedSignIn, signInBlocked } from './rate-limit.ts';
import { endSessions, refreshSession, sessionExists, startSession } from './sessions.ts';
import { listUsers, sql, userById, userJson } from './store.ts';
import {
	assertNotBanned,
	checkPassword,
	createUser,
	hashPassword,
	normalizeEmail,
	updateUser,
	verifyPassword
} from './users.ts';

const adminRoles = new Set(['service_role', 'supabase_admin']);
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Ctx {
	req: IncomingMessage;
	res: ServerResponse;
	path: string;
	query: URLSearchParams;
}

async function claimsOf(req: IncomingMessage): Promise<Claims> {
	const token = bearer(req);
	if (!token) throw new AuthError(401, 'no_authorization', 'This endpoint requires a Bearer token');
	try {
		return await verifyJwt(token);
	} catch (e) {
		const why =
			e instanceof JwtError && e.expired ? 'token is expired' : 'signature or claims are not valid';
		throw new AuthError(403, 'bad_jwt', `invalid JWT: unable to parse or verify signature, ${why}`);
	}
}

/** The signed-in user behind the bearer token, whose session must still exist. */
async function currentUser(req: IncomingMessage) {
	const claims = await claimsOf(req);
	if (!claims.sub) throw new AuthError(403, 'bad_jwt', 'invalid claim: missing sub claim');
	const user = uuidPattern.test(claims.sub) ? await userById(sql, claims.sub) : undefined;
	if (!user)
		throw new AuthError(403, 'user_not_found', 'User from sub claim in JWT does not exist');
	if (claims.session_id && !(await sessionExists(claims.session_id))) {
		throw new AuthError(
			403,
			'session_not_found',
			'Session from session_id claim in JWT does not exist'
		);
	}
	return { user, claims };
}

async function requireAdmin(req: IncomingMessage) {
	const claims = await claimsOf(req);
	if (!adminRoles.has(String(claims.role)))
		throw new AuthError(403, 'not_admin', 'User not allowed');
}

async function signup({ req, res }: Ctx) {
	if (!config.auth.enableSignup || config.toml.auth?.email?.enable_signup === false) {
		throw new AuthError(422, 'signup_disabled', 'Signups not allowed for this instance');
	}
	const body = await readJson(req);
	if (!body.email && !body.phone && config.toml.auth?.enable_anonymous_sign_ins !== true) {
		// What signInAnonymously() sends; enable_anonymous_sign_ins is off in config.toml.
		throw new AuthError(422, 'anonymous_provider_disabled', 'Anonymous sign-ins are disabled');
	}
	if (body.phone && !body.email) {
		throw new AuthError(422, 'phone_provider_disabled', 'Phone signups are disabled');
	}
	const email = normalizeEmail(body.email);
	const password = body.password;
	checkPassword(password);
	const passwordHash = await hashPassword(password);
	const session = await sql.begin(async (s) => {
		const user = await createUser(s, {
			email,
			passwordHash,
			userMetadata: body.data,
			confirmed: true
		});
		return startSession(s, user.id, req);
	});
	sendJson(res, 200, session);
}

async function passwordGrant(req: IncomingMessage, res: ServerResponse) {
	const body = await readJson(req);
	if (typeof body.email !== 'string' || typeof body.password !== 'string') {
		throw new AuthError(400, 'validation_failed', 'Sign in needs an email and a password');
	}
	const email = body.email.trim().toLowerCase();
	const address = clientAddress(req);
	if (signInBlocked(email, address)) {
		throw new AuthError(
			429,
			'over_request_rate_limit',
			'Request rate limit reached: too many failed sign-ins, try again in a few minutes'
		);
	}
	const user = await verifyPassword(sql, email, body.password);
	if (!user) {
		recordFailedSignIn(email, address);
		throw new AuthError(400, 'invalid_credentials', 'Invalid login credentials');
	}
	assertNotBanned(user);
	if (!user.email_confirmed_at)
		throw new AuthError(400, 'email_not_confirmed', 'Email not confirmed');
	clearEmailFailures(email);
	sendJson(res, 200, await sql.begin((s) => startSession(s, user.id, req)));
}

async function token({ req, res, query }: Ctx) {
	const grant = query.get('grant_type');
	if (grant === 'password') return passwordGrant(req, res);
	if (grant === 'refresh_token') {
		const body = await readJson(req);
		if (typeof body.refresh_token !== 'string' || body.refresh_token === '') {
			throw new AuthError(400, 'validation_failed', 'refresh_token required');
		}
		return sendJson(res, 200, await refreshSession(body.refresh_token));
	}
	throw new AuthError(
		400,
		'unsupported_grant_type',
		`grant_type=${grant ?? ''} is not supported here: use password or refresh_token`
	);
}

async function user({ req, res }: Ctx) {
	const { user } = await currentUser(req);
	if (req.method === 'GET') return sendJson(res, 200, userJson(user));
	if (req.method !== 'PUT') throw methodNotAllowed();
	const body = await readJson(req);
	const updated = await sql.begin((s) =>
		updateUser(s, user, { email: body.email, password: body.password, data: body.data }, false)
	);
	sendJson(res, 200, userJson(updated));
}

async function logout({ req, res, query }: Ctx) {
	if (req.method !== 'POST') throw methodNotAllowed();
	const { user, claims } = await currentUser(req);
	const scope = query.get('scope') ?? 'global';
	if (!['global', 'local', 'others'].includes(scope)) {
		throw new AuthError(400, 'validation_failed', 'scope must be one of global, local or others');
	}
	await endSessions(user.id, String(claims.session_id ?? ''), scope);
	sendNoContent(res);
}

function settings({ res }: Ctx) {
	const external = config.toml.auth?.external ?? {};
	const providers = Object.fromEntries(
		[
			'apple',
			'azure',
			'bitbucket',
			'discord',
			'facebook',
			'figma',
			'github',
			'gitlab',
			'google',
			'keycloak',
			'kakao',
			'linkedin_oidc',
			'notion',
			'slack_oidc',
			'spotify',
			'twitch',
			'twitter',
			'workos',
			'zoom'
		].map((p) => [p, external[p]?.enabled === true])
	);
	sendJson(res, 200, {
		external: {
			...providers,
			anonymous_users: config.toml.auth?.enable_anonymous_sign_ins === true,
			email: config.toml.auth?.email?.enable_signup !== false,
			phone: config.toml.auth?.sms?.enable_signup === true
		},
		disable_signup: !config.auth.enableSignup,
		mailer_autoconfirm: config.toml.auth?.email?.enable_confirmations !== true,
		phone_autoconfirm: config.toml.auth?.sms?.enable_confirmations !== true,
		sms_provider: '',
		saml_enabled: false
	});
}

function health({ res }: Ctx) {
	sendJson(res, 200, {
		version: 'stack-local',
		name: 'GoTrue',
		description: 'GoTrue is a user registration and authentication API'
	});
}

async function adminUsers(ctx: Ctx) {
	const { req, res, path, query } = ctx;
	await requireAdmin(req);
	const id = path.slice('/admin/users'.length + 1);
	if (id === '') {
		if (req.method === 'GET') {
			const page = Math.max(1, Number(query.get('page') ?? 1) || 1);
			const perPage = Math.min(1000, Math.max(1, Number(query.get('per_page') ?? 50) || 50));
			const { rows, total } = await listUsers(sql, page, perPage);
			const last = Math.max(1, Math.ceil(total / perPage));
			const base = `${config.api.url}/auth/v1/admin/users`;
			const links = [`<${base}?page=${last}&per_page=${perPage}>; rel="last"`];
			if (page < last) links.unshift(`<${base}?page=${page + 1}&per_page=${perPage}>; rel="next"`);
			return sendJson(
				res,
				200,
				{ users: rows.map(userJson), aud: 'authenticated' },
				{
					'x-total-count': String(total),
					link: links.join(', ')
				}
			);
		}
		if (req.method !== 'POST') throw methodNotAllowed();
		const body = await readJson(req);
		const email = normalizeEmail(body.email);
		const password = body.password;
		if (password !== undefined) checkPassword(password);
		const passwordHash = password === undefined ? undefined : await hashPassword(password);
		const created = await sql
			.begin((s) =>
				createUser(s, {
					id: typeof body.id === 'string' && uuidPattern.test(body.id) ? body.id : undefined,
					email,
					passwordHash,
					userMetadata: body.user_metadata ?? body.data,
					appMetadata: body.app_metadata,
					confirmed: body.email_confirm === true,
					role: typeof body.role === 'string' ? body.role : undefined
				})
			)
			.catch((e) => {
				if (e instanceof AuthError && e.code === 'user_already_exists') {
					throw new AuthError(
						422,
						'email_exists',
						'A user with this email address has already been registered'
					);
				}
				throw e;
			});
		return sendJson(res, 200, userJson(created));
	}
	if (!uuidPattern.test(id)) throw new AuthError(404, 'user_not_found', 'User not found');
	const found = await userById(sql, id);
	if (!found) throw new AuthError(404, 'user_not_found', 'User not found');
	if (req.method === 'GET') return sendJson(res, 200, userJson(found));
	if (req.method === 'PUT') {
		const body = await readJson(req);
		const updated = await sql.begin((s) =>
			updateUser(
				s,
				found,
				{
					email: body.email,
					password: body.password,
					data: body.user_metadata,
					appMetadata: body.app_metadata,
					emailConfirm: body.email_confirm,
					role: body.role,
					banDuration: body.ban_duration
				},
				true
			)
		);
		return sendJson(res, 200, userJson(updated));
	}
	if (req.method === 'DELETE') {
		const body = await readJson(req);
		if (body.should_soft_delete === true) {
			await sql.begin(async (s) => {
				await s`update auth.users set deleted_at = now(), email = null, phone = null,
					encrypted_password = '', raw_user_meta_data = '{}', updated_at = now() where id = ${id}`;
				await s`delete from auth.identities where user_id = ${id}`;
				await s`delete from auth.sessions where user_id = ${id}`;
			});
		} else {
			await sql`delete from auth.users where id = ${id}`;
		}
		return sendJson(res, 200, {});
	}
	throw methodNotAllowed();
}

async function wellKnownJwks({ res }: Ctx) {
	sendJson(res, 200, await jwks(), { 'cache-control': 'public, max-age=600' });
}

function methodNotAllowed() {
	return new AuthError(405, 'method_not_allowed', 'This method is not allowed on this endpoint');
}

type Handler = (ctx: Ctx) => unknown;
const exact: Record<string, Handler> = {
	'/signup': signup,
	'/token': token,
	'/user': user,
	'/logout': logout,
	'/settings': settings,
	'/health': health,
	'/.well-known/jwks.json': wellKnownJwks
};

export async function handleAuth(req: IncomingMessage, res: ServerResponse) {
	const url = req.url ?? '/';
	const q = url.indexOf('?');
	const fullPath = q < 0 ? url : url.slice(0, q);
	const path = fullPath.slice('/auth/v1'.length).replace(/\/+$/, '') || '/';
	const ctx: Ctx = { req, res, path, query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)) };
	try {
		const handler =
			exact[path] ??
			(path === '/admin/users' || path.startsWith('/admin/users/') ? adminUsers : undefined);
		if (!handler) {
			throw new AuthError(
				404,
				'not_found',
				`${path} is not served by the local Auth: it supports email and password users only`
			);
		}
		await handler(ctx);
	} catch (e) {
		if (e instanceof AuthError) return sendError(req, res, e);
		throw e;
	}
}

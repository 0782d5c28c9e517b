// JWT signing and verification shared by every service. New access tokens are signed with an
// ES256 key (published as JWKS, so `auth.getClaims()` verifies locally, as on hosted
// Supabase); tokens signed with the legacy HS256 secret (the anon / service_role keys) stay
// valid everywhere.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import {
	SignJWT,
	exportJWK,
	generateKeyPair,
	importJWK,
	jwtVerify,
	decodeProtectedHeader,
	type JWK,
	type JWTPayload,
	type CryptoKey
} from 'jose';
import { config, stateDir } from './config.ts';

export interface Claims extends JWTPayload {
	role?: string;
	sub?: string;
	email?: string;
	session_id?: string;
	[key: string]: unknown;
}

/** Why a token was refused, in the words PostgREST and GoTrue use. */
export class JwtError extends Error {
	constructor(
		message: string,
		readonly expired = false
	) {
		super(message);
	}
}

const hsKey = new TextEncoder().encode(config.auth.jwtSecret);
const keyFile = join(stateDir, 'signing_key.json');

interface SigningKey {
	kid: string;
	privateKey: CryptoKey;
	publicKey: CryptoKey;
	publicJwk: JWK;
}
let signingKey: Promise<SigningKey> | undefined;

/** The ES256 key pair, created once per local platform and kept under .stack/. */
function loadSigningKey(): Promise<SigningKey> {
	signingKey ??= (async () => {
		let stored: { kid: string; privateJwk: JWK; publicJwk: JWK };
		if (existsSync(keyFile)) {
			stored = JSON.parse(readFileSync(keyFile, 'utf8'));
		} else {
			const pair = await generateKeyPair('ES256', { extractable: true });
			const kid = randomUUID();
			stored = {
				kid,
				privateJwk: await exportJWK(pair.privateKey),
				publicJwk: {
					...(await exportJWK(pair.publicKey)),
					kid,
					alg: 'ES256',
					use: 'sig',
					key_ops: ['verify']
				}
			};
			mkdirSync(stateDir, { recursive: true });
			writeFileSync(keyFile, JSON.stringify(stored), { mode: 0o600 });
		}
		return {
			kid: stored.kid,
			privateKey: (await importJWK(stored.privateJwk, 'ES256')) as CryptoKey,
			publicKey: (await importJWK(stored.publicJwk, 'ES256')) as CryptoKey,
			publicJwk: stored.publicJwk
		};
	})();
	return signingKey;
}

/** The document served at /auth/v1/.well-known/jwks.json. */
export async function jwks(): Promise<{ keys: JWK[] }> {
	return { keys: [(await loadSigningKey()).publicJwk] };
}

/** Signs an access token with the ES256 key; `claims` must carry exp/iat as GoTrue sets them. */
export async function signAccessToken(claims: Claims): Promise<string> {
	const key = await loadSigningKey();
	return new SignJWT(claims)
		.setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
		.sign(key.privateKey);
}

/** Signs with the legacy HS256 secret (used by tests to mint tokens like hosted projects do). */
export function signLegacy(claims: Claims): Promise<string> {
	return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(hsKey);
}

/** Verifies a token signed either way and returns its claims. */
export async function verifyJwt(token: string): Promise<Claims> {
	let alg: string | undefined;
	try {
		alg = decodeProtectedHeader(token).alg;
	} catch {
		throw new JwtError('Invalid JWT: token is malformed');
	}
	try {
		const key =
			alg === 'HS256' ? hsKey : alg === 'ES256' ? (await loadSigningKey()).publicKey : null;
		if (!key) throw new JwtError(`Invalid JWT: unsupported algorithm ${alg}`);
		const { payload } = await jwtVerify(token, key, { algorithms: [alg!] });
		return payload as Claims;
	} catch (e) {
		if (e instanceof JwtError) throw e;
		const code = (e as { code?: string }).code;
		if (code === 'ERR_JWT_EXPIRED') throw new JwtError('JWT expired', true);
		throw new JwtError('Invalid JWT: signature or claims are not valid');
	}
}

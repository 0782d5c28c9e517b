// Failed sign-ins counted per email and per client address in a sliding window, so password
// guessing is slowed down the way hosted Auth slows it. In memory: the gateway is one process.
import { config } from '../config.ts';

const windowMs = 5 * 60_000;
const perEmail = Number(process.env.STACK_AUTH_FAILED_SIGNINS_PER_EMAIL ?? 10);
const perAddress = Number(
	process.env.STACK_AUTH_FAILED_SIGNINS_PER_ADDRESS ??
		config.toml.auth?.rate_limit?.sign_in_sign_ups ??
		30
);

const failures = new Map<string, number[]>();

function recent(key: string, now: number): number[] {
	const list = (failures.get(key) ?? []).filter((t) => now - t < windowMs);
	if (list.length > 0) failures.set(key, list);
	else failures.delete(key);
	return list;
}

export function signInBlocked(email: string, address: string): boolean {
	const now = Date.now();
	return (
		recent(`e:${email}`, now).length >= perEmail || recent(`a:${address}`, now).length >= perAddress
	);
}

export function recordFailedSignIn(email: string, address: string) {
	const now = Date.now();
	for (const key of [`e:${email}`, `a:${address}`]) failures.set(key, [...recent(key, now), now]);
}

export function clearEmailFailures(email: string) {
	failures.delete(`e:${email}`);
}

// Old entries would otherwise stay for addresses that never come back.
setInterval(() => {
	const now = Date.now();
	for (const key of failures.keys()) recent(key, now);
}, windowMs).unref();

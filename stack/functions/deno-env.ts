// How every Deno we start trusts TLS: as Node does on this machine. Node reads
// NODE_EXTRA_CA_CERTS; Deno reads it too but only with its own store, and ignores the
// system's bundle (SSL_CERT_FILE / SSL_CERT_DIR) unless told to use it. Behind a
// TLS-intercepting proxy, that difference is the gap between a working and a failing fetch.
export function denoTrustEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
	const out: Record<string, string> = {
		// The system store honours SSL_CERT_FILE / SSL_CERT_DIR; Mozilla's keeps an open network working.
		DENO_TLS_CA_STORE: env.DENO_TLS_CA_STORE ?? 'system,mozilla'
	};
	const extra = env.DENO_CERT ?? env.NODE_EXTRA_CA_CERTS;
	if (extra) out.DENO_CERT = extra;
	for (const name of ['SSL_CERT_FILE', 'SSL_CERT_DIR', 'NODE_EXTRA_CA_CERTS'] as const) {
		const value = env[name];
		if (value) out[name] = value;
	}
	return out;
}

/** The flags that keep a served function off the network: dependencies come from setup only. */
export const offlineDenoFlags = ['--cached-only', '--frozen'];

/** Deno's words for "a dependency is not installed", turned into the fix. */
export function missingDependencyHint(stderr: string): string | undefined {
	if (
		/--cached-only is specified|not found in cache|frozen lockfile|lockfile is out of date/i.test(
			stderr
		)
	)
		return 'its dependencies are not installed or do not match supabase/functions/deno.lock: run `npm run setup`';
	return undefined;
}

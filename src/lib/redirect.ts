/**
 * Where to send a user after sign-in. Only same-site paths are accepted, so a crafted
 * `?redirectTo=https://evil.example` (or `//evil.example`) cannot turn sign-in into an open redirect.
 */
export function safeRedirectTarget(raw: string | null | undefined, fallback = '/'): string {
	if (!raw) return fallback;
	if (!raw.startsWith('/') || raw.startsWith('//') || raw.startsWith('/\\')) return fallback;
	// Control characters (e.g. a newline) have no business in a path.
	// eslint-disable-next-line no-control-regex
	if (/[\u0000-\u001f\u007f]/.test(raw)) return fallback;
	return raw;
}

/** The sign-in URL that brings the user back to `url` afterwards. */
export function signInUrlFor(url: URL): string {
	const back = url.pathname + url.search;
	return back === '/' ? '/sign-in' : `/sign-in?redirectTo=${encodeURIComponent(back)}`;
}

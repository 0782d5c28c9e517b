import type { ResolvedPathname } from '$app/types';

/** A resolved app path with a query string appended (empty values are left out). */
export function withQuery(
	path: ResolvedPathname,
	query: Record<string, string | null | undefined>
): ResolvedPathname {
	const params = new URLSearchParams();
	for (const [k, v] of Object.entries(query)) if (v) params.set(k, v);
	const qs = params.toString();
	return (qs ? `${path}?${qs}` : path) as ResolvedPathname;
}

/** The live page of a bot (issue 11's route). */
export function botPath(botId: string): ResolvedPathname {
	return `/bots/${encodeURIComponent(botId)}` as ResolvedPathname;
}

/** Settings of one bot (rename, API keys). */
export function botSettingsPath(botId: string): ResolvedPathname {
	return `/settings/bots/${encodeURIComponent(botId)}` as ResolvedPathname;
}

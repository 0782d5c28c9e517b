import { createBrowserClient, createServerClient, isBrowser } from '@supabase/ssr';
import type { Database } from '$lib/database.types';
import { supabaseEnv } from '$lib/supabase-env';
import type { LayoutLoad } from './$types';

// The browser gets a browser client (session in cookies, realtime); during SSR the same load
// builds a server client over the request's cookies. invalidate('supabase:auth') reruns this.
export const load: LayoutLoad = async ({ data, depends, fetch }) => {
	depends('supabase:auth');
	const { url, anonKey } = supabaseEnv();
	const supabase = isBrowser()
		? createBrowserClient<Database>(url, anonKey, { global: { fetch } })
		: createServerClient<Database>(url, anonKey, {
				global: { fetch },
				cookies: { getAll: () => data.cookies }
			});
	// The session was verified by the server hook (safeGetSession); this only hands it over.
	return { supabase, session: data.session };
};

import { env } from '$env/dynamic/public';

// The well-known local keys of `supabase start` (public by design: the anon key only carries the
// `anon` role, RLS decides the rest). Hosted deployments set PUBLIC_SUPABASE_URL and
// PUBLIC_SUPABASE_ANON_KEY.
const LOCAL_URL = 'http://127.0.0.1:54321';
const LOCAL_ANON_KEY =
	'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0';

/** Where the Supabase API lives and the public key the browser may hold. */
export function supabaseEnv(): { url: string; anonKey: string } {
	return {
		url: env.PUBLIC_SUPABASE_URL || LOCAL_URL,
		anonKey: env.PUBLIC_SUPABASE_ANON_KEY || LOCAL_ANON_KEY
	};
}

// Browsers call export-csv from the dashboard's origin; bots call ingest server to server. Both
// answer the preflight the same way the Supabase docs' example does.
export const corsHeaders: Record<string, string> = {
	'Access-Control-Allow-Origin': '*',
	'Access-Control-Allow-Headers': 'authorization, x-client-info, apikey, content-type',
	'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
	'Access-Control-Expose-Headers': 'content-disposition, retry-after'
};

/** The preflight answer, or null when the request is not a preflight. */
export function preflight(req: Request): Response | null {
	return req.method === 'OPTIONS' ? new Response('ok', { headers: corsHeaders }) : null;
}

import type { SupabaseClient } from '@supabase/supabase-js';
import type { Database } from '$lib/database.types';

/** One row of public.organization_overview (supabase/migrations/20261201000000_overview_read_api.sql). */
export type OverviewRow = {
	bot_id: string;
	bot_name: string;
	channel: string;
	timezone: string;
	period_start: string;
	period_end: string;
	messages: number;
	success_rate: number | null;
	p95_response_ms: number | null;
	previous_messages: number;
	previous_success_rate: number | null;
	previous_p95_response_ms: number | null;
	daily_starts: string[];
	daily_messages: number[];
};

type UntypedRpc = (
	fn: string,
	args: Record<string, unknown>
) => PromiseLike<{ data: unknown; error: { message: string; code?: string } | null }>;

/**
 * Every bot of the organization with today's figures, in one call. The function is newer than
 * the generated types, hence the narrow cast (drop it once `npm run db:types` includes it).
 */
export async function loadOverview(
	supabase: SupabaseClient<Database>,
	organizationId: string
): Promise<OverviewRow[]> {
	const rpc = supabase.rpc.bind(supabase) as unknown as UntypedRpc;
	const { data, error } = await rpc('organization_overview', {
		p_organization_id: organizationId
	});
	if (error) {
		console.error('organization_overview failed', { organizationId, error });
		throw new Error('The overview could not be loaded.');
	}
	// numeric columns arrive as numbers or strings depending on size; normalise them.
	return (data as OverviewRow[]).map((r) => ({
		...r,
		messages: Number(r.messages),
		previous_messages: Number(r.previous_messages),
		success_rate: r.success_rate === null ? null : Number(r.success_rate),
		previous_success_rate:
			r.previous_success_rate === null ? null : Number(r.previous_success_rate),
		p95_response_ms: r.p95_response_ms === null ? null : Number(r.p95_response_ms),
		previous_p95_response_ms:
			r.previous_p95_response_ms === null ? null : Number(r.previous_p95_response_ms),
		daily_messages: (r.daily_messages ?? []).map(Number),
		daily_starts: r.daily_starts ?? []
	}));
}

// A transcript's rows: what the page loaded plus what arrived live, each message once, in
// conversation order (sent_at, then id, as the read API orders them).
export type TranscriptMessage = {
	id: number;
	role: string;
	content: string;
	sent_at: string;
	response_time_ms: number | null;
	success: boolean | null;
	error_code: string | null;
	intent: string | null;
	model: string | null;
	tokens_in: number;
	tokens_out: number;
	cost_usd: number | string;
};

export function mergeMessages(
	loaded: TranscriptMessage[],
	arrived: TranscriptMessage[]
): TranscriptMessage[] {
	if (arrived.length === 0) return loaded;
	const byId = new Map<number, TranscriptMessage>();
	for (const m of loaded) byId.set(Number(m.id), m);
	for (const m of arrived) byId.set(Number(m.id), m);
	return [...byId.values()].sort(
		(a, b) =>
			new Date(a.sent_at).getTime() - new Date(b.sent_at).getTime() || Number(a.id) - Number(b.id)
	);
}

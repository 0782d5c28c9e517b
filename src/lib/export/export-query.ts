// What the export button sends to export-csv for the current view of the conversations list.
// export-csv accepts kind, bot, from, to, status, channel and search; the list's other filters
// are named in `notApplied` so the page can say the file will hold more than the list shows.
import type { ExplorerFilters } from '$lib/conversation-filters';

export const EXPORT_KINDS = ['conversations', 'messages', 'daily'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

export const EXPORT_KIND_LABELS: Record<ExportKind, string> = {
	conversations: 'Conversations',
	messages: 'Messages',
	daily: 'Daily metrics'
};

export type ExportQuery = { params: URLSearchParams; notApplied: string[] };

export function exportQuery(
	f: ExplorerFilters,
	kind: ExportKind,
	botId: string,
	range: { from: Date; to: Date }
): ExportQuery {
	const params = new URLSearchParams({
		kind,
		bot: botId,
		from: range.from.toISOString(),
		to: range.to.toISOString()
	});
	const notApplied: string[] = [];
	if (kind === 'daily') {
		// Daily metrics are whole-bot figures per local day: no conversation filter applies.
		for (const [on, label] of [
			[f.status, 'status'],
			[f.channel, 'channel'],
			[f.q, 'search']
		] as const)
			if (on) notApplied.push(label);
	} else {
		if (f.status) params.set('status', f.status);
		if (f.channel) params.set('channel', f.channel);
		if (f.q) params.set('search', f.q);
	}
	if (f.by !== 'started') notApplied.push(`${f.by.replace('_', ' ')} time`);
	if (f.intent) notApplied.push('intent');
	if (f.minDuration !== null || f.maxDuration !== null) notApplied.push('duration');
	if (f.minResponse !== null || f.maxResponse !== null) notApplied.push('response time');
	if (f.handoff !== null) notApplied.push('handoff');
	return { params, notApplied };
}

/** The file name suggested in the save dialog (export-csv names its download the same way). */
export function exportFileName(
	botName: string,
	kind: ExportKind,
	range: { from: Date; to: Date }
): string {
	const slug =
		botName
			.normalize('NFKD')
			.toLowerCase()
			.replace(/[^a-z0-9]+/g, '-')
			.replace(/^-+|-+$/g, '')
			.slice(0, 60) || 'bot';
	const d = (t: Date) => t.toISOString().slice(0, 10);
	return `${slug}-${kind}-${d(range.from)}_${d(range.to)}.csv`;
}

// What the export button sends to export-csv for the current view of the conversations list.
// export-csv reads the list's own statement with every filter the list has, so the file holds
// exactly the listed conversations (or their messages). Daily metrics are whole-bot figures per
// local day: the list's filters do not apply, and `notApplied` names those set so the page can
// say so.
import type { ExplorerFilters } from '$lib/conversation-filters';

export const EXPORT_KINDS = ['conversations', 'messages', 'daily'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

export const EXPORT_KIND_LABELS: Record<ExportKind, string> = {
	conversations: 'Conversations',
	messages: 'Messages',
	daily: 'Daily metrics'
};

export type ExportQuery = { params: URLSearchParams; notApplied: string[] };

/** The list's filters as export-csv names them (its parameter, the label the page shows). */
function listFilters(f: ExplorerFilters): [string, string | null, string][] {
	const n = (v: number | null) => (v === null ? null : String(v));
	return [
		['by', f.by === 'started' ? null : f.by, `${f.by.replace('_', ' ')} time`],
		['status', f.status, 'status'],
		['channel', f.channel, 'channel'],
		['search', f.q, 'search'],
		['intent', f.intent, 'intent'],
		['handoff', f.handoff === null ? null : f.handoff ? 'yes' : 'no', 'handoff'],
		['min_duration', n(f.minDuration), 'duration'],
		['max_duration', n(f.maxDuration), 'duration'],
		['min_response', n(f.minResponse), 'response time'],
		['max_response', n(f.maxResponse), 'response time']
	];
}

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
	for (const [name, value, label] of listFilters(f)) {
		if (value === null) continue;
		if (kind !== 'daily') params.set(name, value);
		else if (!notApplied.includes(label)) notApplied.push(label);
	}
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

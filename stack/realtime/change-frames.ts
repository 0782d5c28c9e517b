// The postgres_changes frames of one change. Frames differ only by serializer, topic, ids and
// columns: each combination is encoded once, to bytes, so fan-out does not re-encode the same
// text per socket.
import type { Vsn } from './protocol.ts';
import type { Change } from './pgoutput.ts';

export interface ChangePayload {
	change: Change;
	commitTs: string;
	schema: string;
	table: string;
	types: Map<string, string>;
	record: Record<string, unknown> | null;
	old: Record<string, unknown> | null;
}

export class ChangeFrames {
	private data = new Map<string, string>();
	private frames = new Map<string, Buffer>();

	constructor(private readonly p: ChangePayload) {}

	/** The frame for a channel's topic and binding ids, with the columns it asked for. */
	frame(vsn: Vsn, topic: string, ids: number[], select: Set<string> | null): Buffer {
		const selectKey = select ? [...select].sort().join(',') : '*';
		const key = `${vsn}|${topic}|${ids.join(',')}|${selectKey}`;
		let frame = this.frames.get(key);
		if (!frame) {
			const t = JSON.stringify(topic);
			const payload = `{"ids":${JSON.stringify(ids)},"data":${this.dataJson(selectKey, select)}}`;
			frame = Buffer.from(
				vsn === '2.0.0'
					? `[null,null,${t},"postgres_changes",${payload}]`
					: `{"topic":${t},"event":"postgres_changes","payload":${payload},"ref":null}`
			);
			this.frames.set(key, frame);
		}
		return frame;
	}

	private dataJson(key: string, select: Set<string> | null): string {
		let json = this.data.get(key);
		if (json === undefined) {
			const { p } = this;
			const pick = (r: Record<string, unknown> | null) =>
				r && select ? Object.fromEntries(Object.entries(r).filter(([k]) => select.has(k))) : r;
			const cols = p.change.relation.columns.filter((c) => !select || select.has(c.name));
			json = JSON.stringify({
				schema: p.schema,
				table: p.table,
				commit_timestamp: p.commitTs,
				type: p.change.kind,
				columns: cols.map((c) => ({ name: c.name, type: p.types.get(c.name) })),
				...(p.record ? { record: pick(p.record) } : {}),
				...(p.change.kind !== 'INSERT' ? { old_record: pick(p.old ?? {}) } : {}),
				errors: null
			});
			this.data.set(key, json);
		}
		return json;
	}
}

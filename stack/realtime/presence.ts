// Presence per topic: each channel tracks at most one meta under its presence key; joins and
// leaves go out as presence_diff, a newcomer gets the whole presence_state.
import { randomBytes } from 'node:crypto';

export interface Meta {
	phx_ref: string;
	[k: string]: unknown;
}

export type PresenceMap = Record<string, { metas: Meta[] }>;

export interface Tracked {
	key: string;
	meta: Meta;
}

export function newRef(): string {
	return randomBytes(8).toString('base64url');
}

export class PresenceTopic {
	/** presence key -> phx_ref -> meta */
	private byKey = new Map<string, Map<string, Meta>>();

	get empty() {
		return this.byKey.size === 0;
	}

	state(): PresenceMap {
		const out: PresenceMap = {};
		for (const [key, metas] of this.byKey) out[key] = { metas: [...metas.values()] };
		return out;
	}

	add(t: Tracked) {
		let m = this.byKey.get(t.key);
		if (!m) this.byKey.set(t.key, (m = new Map()));
		m.set(t.meta.phx_ref, t.meta);
	}

	remove(t: Tracked) {
		const m = this.byKey.get(t.key);
		if (!m) return;
		m.delete(t.meta.phx_ref);
		if (m.size === 0) this.byKey.delete(t.key);
	}
}

export function diff(joins: Tracked[], leaves: Tracked[]) {
	const group = (xs: Tracked[]) => {
		const out: PresenceMap = {};
		for (const t of xs) (out[t.key] ??= { metas: [] }).metas.push(t.meta);
		return out;
	};
	return { joins: group(joins), leaves: group(leaves) };
}

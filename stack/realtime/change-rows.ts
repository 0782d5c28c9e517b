// A decoded change as the payload shows it (`record`, `old_record`) and as filters and RLS
// judge it. Pure: what leaves the server for a DELETE is decided here.
import type { Change } from './pgoutput.ts';
import { toJsonValue } from './values.ts';

export interface ChangeRows {
	record: Record<string, unknown> | null;
	old: Record<string, unknown> | null;
	/** The row filters are matched against. */
	subject: Record<string, unknown> | null;
	/** Columns a filter may look at, or null for all. */
	judgeable: Set<string> | null;
}

export function changeRows(
	change: Change,
	types: Map<string, string>,
	table: { rls: boolean; primaryKey: string[] }
): ChangeRows {
	const cols = change.relation.columns;
	const toRecord = (tuple: (string | null | undefined)[] | null, only?: Set<string>) => {
		if (!tuple) return null;
		const r: Record<string, unknown> = {};
		for (let i = 0; i < cols.length; i++) {
			if (tuple[i] === undefined || (only && !only.has(cols[i].name))) continue;
			r[cols[i].name] = toJsonValue(tuple[i] as string | null, types.get(cols[i].name)!);
		}
		return r;
	};
	const record = change.kind === 'DELETE' ? null : toRecord(change.newTuple);
	let old: Record<string, unknown> | null = null;
	const pk = new Set(table.primaryKey);
	// A 'K' old tuple holds the replica identity key; its other columns are empty, not null.
	const identityKey = new Set(cols.filter((c) => c.key).map((c) => c.name));
	let subject = record;
	// Filter conditions a DELETE cannot be judged on pass through, as hosted Realtime passes
	// deletes through filters.
	let judgeable: Set<string> | null = null;
	if (change.kind === 'DELETE') {
		// DELETE is not RLS-checked, so with RLS on only the primary key leaves the server, and
		// filters may only look at that key: judging them on other logged columns would let any
		// subscriber probe deleted rows it could never read.
		subject = toRecord(change.oldTuple, change.oldKind === 'K' ? identityKey : undefined);
		if (table.rls) judgeable = pk;
		old = toRecord(
			change.oldTuple,
			table.rls ? pk : change.oldKind === 'K' ? identityKey : undefined
		);
	} else if (change.kind === 'UPDATE') {
		old =
			change.oldKind === 'O'
				? toRecord(change.oldTuple)
				: toRecord(change.oldTuple ?? change.newTuple, change.oldTuple ? identityKey : pk);
	}
	return { record, old, subject, judgeable };
}

/** The row as committed, in Postgres text form, for the RLS check (null for DELETE). */
export function committedRow(change: Change): Record<string, string | null> | null {
	if (change.kind === 'DELETE') return null;
	const cols = change.relation.columns;
	const committed: Record<string, string | null> = {};
	for (let i = 0; i < cols.length; i++)
		if (change.newTuple![i] !== undefined)
			committed[cols[i].name] = change.newTuple![i] as string | null;
	return committed;
}

// Embeds follow foreign keys: to one parent, to many children, or to many through a junction
// table. Which key links two relations, found in the schema cache with PostgREST's errors
// (PGRST200 none, PGRST201 ambiguous, naming the `!hint` that would settle it).
import { ApiError } from './errors.ts';
import { key, type ForeignKey, type Relation, type SchemaCache } from './schema-cache.ts';

/** How an embed reaches its target: one foreign key, or two through a junction table. */
export interface Relationship {
	target: Relation;
	/** The key between parent and target, or between junction and target. */
	fk: ForeignKey;
	toOne: boolean;
	junction?: { relation: Relation; toParent: ForeignKey };
}

/** Finds the foreign key that links `parent` to the embed named `name`. */
export function findRelationship(
	cache: SchemaCache,
	schema: string,
	parent: Relation,
	name: string,
	hint?: string
): Relationship {
	const candidates: Relationship[] = [];
	const sameTable = (side: ForeignKey['from'], rel: Relation) =>
		side.schema === rel.schema && side.table === rel.name;
	const targetByName = cache.relations.get(key(schema, name));
	for (const fk of cache.foreignKeys) {
		if (targetByName) {
			if (sameTable(fk.from, parent) && sameTable(fk.to, targetByName)) {
				candidates.push({ target: targetByName, fk, toOne: true });
			} else if (sameTable(fk.to, parent) && sameTable(fk.from, targetByName)) {
				candidates.push({ target: targetByName, fk, toOne: false });
			}
		} else if (
			sameTable(fk.from, parent) &&
			(fk.name === name || (fk.from.columns.length === 1 && fk.from.columns[0] === name))
		) {
			// `bot:bot_id(name)` names the foreign key column (or constraint) instead of the table.
			const target = cache.relations.get(key(fk.to.schema, fk.to.table));
			if (target) candidates.push({ target, fk, toOne: true });
		}
	}
	if (targetByName && candidates.length === 0) {
		// Many-to-many: a junction table with a foreign key to each side.
		for (const toParent of cache.foreignKeys) {
			if (!sameTable(toParent.to, parent)) continue;
			const junction = cache.relations.get(key(toParent.from.schema, toParent.from.table));
			if (!junction || junction === parent || junction === targetByName) continue;
			for (const toTarget of cache.foreignKeys) {
				if (
					toTarget !== toParent &&
					sameTable(toTarget.from, junction) &&
					sameTable(toTarget.to, targetByName)
				) {
					candidates.push({
						target: targetByName,
						fk: toTarget,
						toOne: false,
						junction: { relation: junction, toParent }
					});
				}
			}
		}
	}
	const matching = hint
		? candidates.filter(
				(c) =>
					c.fk.name === hint ||
					c.fk.from.columns.includes(hint) ||
					c.target.name === hint ||
					c.junction?.relation.name === hint
			)
		: candidates;
	if (matching.length === 0) {
		throw new ApiError(
			400,
			'PGRST200',
			`Could not find a relationship between '${parent.name}' and '${name}' in the schema cache`,
			`Searched for a foreign key relationship between '${parent.name}' and '${name}'${hint ? ` using the hint '${hint}'` : ''} in the schema '${schema}', but no matches were found.`,
			null
		);
	}
	if (matching.length > 1) {
		throw new ApiError(
			300,
			'PGRST201',
			`Could not embed because more than one relationship was found for '${parent.name}' and '${name}'`,
			matching
				.map(
					(c) =>
						`${c.fk.name} (${c.fk.from.table}(${c.fk.from.columns.join(', ')}) -> ${c.fk.to.table})`
				)
				.join('; '),
			`Try changing '${name}' to one of: ${matching.map((c) => `'${name}!${c.fk.name}'`).join(', ')}. Find the desired relationship in the 'details' key.`
		);
	}
	return matching[0];
}

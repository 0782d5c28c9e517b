// Picks the function an `rpc/<name>` call means, from the names of the arguments given, as
// PostgREST does (overloads by argument names; a single unnamed json/jsonb parameter).
import { ApiError } from './errors.ts';
import { key, type DbFunction, type SchemaCache } from './schema-cache.ts';

export function resolveFunction(
	cache: SchemaCache,
	schema: string,
	name: string,
	given: string[],
	body: unknown,
	isGet: boolean
): { fn: DbFunction; singleJson: boolean } {
	const candidates = cache.functions.get(key(schema, name)) ?? [];
	const fits = (fn: DbFunction) =>
		fn.args.every((a) => a.hasDefault || given.includes(a.name)) &&
		(isGet || given.every((g) => fn.args.some((a) => a.name === g)));
	const matches = candidates.filter(fits);
	if (matches.length === 1) return { fn: matches[0], singleJson: false };
	if (matches.length > 1) {
		// For GET, parameters that are not arguments are filters: prefer the closest fit.
		const best = matches.sort(
			(a, b) =>
				b.args.filter((x) => given.includes(x.name)).length -
				a.args.filter((x) => given.includes(x.name)).length
		);
		const score = (f: DbFunction) => f.args.filter((x) => given.includes(x.name)).length;
		if (score(best[0]) > score(best[1])) return { fn: best[0], singleJson: false };
		throw new ApiError(
			300,
			'PGRST203',
			`Could not choose the best candidate function between: ${matches.map((f) => `${f.schema}.${f.name}(${f.args.map((a) => `${a.name} => ${a.type}`).join(', ')})`).join(', ')}`,
			null,
			'Try renaming the parameters or the function itself in the database so function overloading can be resolved'
		);
	}
	const single = candidates.find(
		(f) =>
			f.args.length === 1 && f.args[0].name === '' && ['json', 'jsonb'].includes(f.args[0].type)
	);
	if (single && !isGet && body !== undefined) return { fn: single, singleJson: true };
	const argList = [...given].sort().join(', ');
	throw new ApiError(
		404,
		'PGRST202',
		`Could not find the function ${schema}.${name}${given.length ? `(${argList})` : ' without parameters'} in the schema cache`,
		`Searched for the function ${schema}.${name}${given.length ? ` with parameters ${argList}` : ' without parameters'} or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.`,
		candidates.length
			? `Perhaps you meant to call the function ${schema}.${name}(${candidates[0].args.map((a) => a.name).join(', ')})`
			: null
	);
}

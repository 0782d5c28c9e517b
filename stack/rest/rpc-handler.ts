// `rpc/<fn>`: arguments from a POST body (named, or one unnamed json parameter) or, for GET and
// HEAD, from the query string; functions returning rows read like a table, scalars and sets of
// scalars page and count like rows, void answers 204.
import { Builder, Params, emptyLevel } from './build-sql.ts';
import { ApiError } from './errors.ts';
import type { RestRequest } from './execute.ts';
import { parsePrefer } from './parse.ts';
import { planRead } from './plan-read.ts';
import { countKind, levels, page } from './query-params.ts';
import { isObject, parseJson, readBody } from './request-body.ts';
import { resolveFunction } from './resolve-function.ts';
import { respond, shapeFor } from './response.ts';
import { key } from './schema-cache.ts';
import { functionCall, functionSource, scalarCallSql } from './statements.ts';

/** Query parameters that shape the result; never taken for function arguments. */
const reserved = new Set([
	'select',
	'order',
	'limit',
	'offset',
	'or',
	'and',
	'not.or',
	'not.and',
	'columns'
]);

/** The arguments as JSON text, the names given, and the parsed body (POST only). */
async function readArguments(r: RestRequest, name: string, isGet: boolean) {
	if (isGet) {
		const candidates = r.cache.functions.get(key(r.schema, name)) ?? [];
		const argNames = new Set(candidates.flatMap((f) => f.args.map((a) => a.name)));
		const args: Record<string, string> = {};
		for (const [k, v] of r.url.searchParams) if (!reserved.has(k) && argNames.has(k)) args[k] = v;
		return { argsText: JSON.stringify(args), given: Object.keys(args), body: undefined };
	}
	const text = await readBody(r.req);
	const body: unknown = text.trim() === '' ? {} : parseJson(text);
	const given = isObject(body) ? Object.keys(body) : [];
	return { argsText: text.trim() === '' ? '{}' : text, given, body };
}

export async function handleRpc(r: RestRequest, name: string) {
	const { req, res, url, cache, schema } = r;
	const method = req.method ?? 'GET';
	const isGet = method === 'GET' || method === 'HEAD';
	if (!isGet && method !== 'POST')
		throw new ApiError(405, 'PGRST101', 'Only GET, HEAD and POST are allowed for functions');
	const prefer = parsePrefer(req.headers.prefer);
	const { argsText, given, body } = await readArguments(r, name, isGet);
	const { fn, singleJson } = resolveFunction(cache, schema, name, given, body, isGet);
	if (!singleJson && !isGet && !isObject(body)) {
		throw new ApiError(
			400,
			'PGRST102',
			'Empty or invalid json',
			'Send the arguments as one JSON object of named parameters.'
		);
	}
	const params = new Params();
	const argsParam = given.length || singleJson ? params.text(argsText) : null;
	const call = functionCall(new Builder(cache, schema, params), fn, given, argsParam, singleJson);
	const readOnly = isGet || !fn.volatile;
	const skip = new Set(['select', ...(isGet ? given : []), 'columns']);
	if (fn.returnColumns) {
		const source = functionSource(fn, call, cache, countKind(prefer) !== null);
		const plan = planRead(r, source, params, skip, prefer);
		const { row, planned } = await r.run({
			sql: plan.sql,
			params: params.values,
			readOnly,
			explain: plan.explain
		});
		const shape = shapeFor(req, prefer, 200, true, plan.offset);
		if (!fn.returnsSet) shape.unwrap = true;
		respond(res, shape, row, planned);
		return;
	}
	// A set of scalars pages and counts like rows (filters need a column, so none apply).
	const level = fn.returnsSet ? levels(url, skip).top : emptyLevel();
	if (fn.returnsSet) page(req, level);
	const count = fn.returnsSet && countKind(prefer) !== null;
	const sql = scalarCallSql(new Builder(cache, schema, params), call, fn.returnsVoid, {
		level,
		count
	});
	const { row } = await r.run({ sql, params: params.values, readOnly });
	if (fn.returnsVoid) {
		res.writeHead(204, { 'content-range': '*/*' }).end();
		return;
	}
	const shape = shapeFor(req, prefer, 200, true, level.offset ?? 0);
	if (!fn.returnsSet) {
		shape.unwrap = true;
		shape.single = false;
	}
	respond(res, shape, row, null);
}

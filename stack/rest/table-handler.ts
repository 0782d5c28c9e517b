// Requests on a table or view: reads (GET/HEAD), and insert / upsert (POST), update (PATCH) and
// delete (DELETE) with PostgREST's Prefer options.
import { Builder, Params } from './build-sql.ts';
import { ApiError } from './errors.ts';
import type { RestRequest } from './execute.ts';
import { parsePrefer, parseSelect, type SelectItem } from './parse.ts';
import { planRead } from './plan-read.ts';
import { checkColumns, levels } from './query-params.ts';
import { isObject, parseJson, readBody } from './request-body.ts';
import { bodyFormat, respond, shapeFor } from './response.ts';
import type { Relation } from './schema-cache.ts';
import {
	deleteSql,
	insertSql,
	tableSource,
	updateSql,
	type BodyFormat,
	type WritePlan
} from './statements.ts';

export async function handleTable(r: RestRequest, name: string) {
	const { req, res, url, cache, schema } = r;
	const rel = new Builder(cache, schema, new Params()).relation(name);
	const prefer = parsePrefer(req.headers.prefer);
	const method = req.method ?? 'GET';
	if (method === 'GET' || method === 'HEAD') {
		const params = new Params();
		const plan = planRead(r, tableSource(rel), params, new Set(['select']), prefer);
		const { row, planned } = await r.run({
			sql: plan.sql,
			params: params.values,
			readOnly: true,
			explain: plan.explain
		});
		respond(res, shapeFor(req, prefer, 200, true, plan.offset), row, planned);
		return;
	}
	if (!['POST', 'PATCH', 'DELETE'].includes(method)) {
		throw new ApiError(405, 'PGRST117', `Unsupported HTTP method: ${method}`);
	}
	const returnPref = prefer.get('return') ?? 'minimal';
	const representation = returnPref === 'representation';
	const headersOnly = returnPref === 'headers-only';
	const select: SelectItem[] = headersOnly
		? rel.primaryKey.map((c) => ({ kind: 'field' as const, field: { name: c, path: [] } }))
		: parseSelect(url.searchParams.get('select') ?? '*');
	const { top, embeds } = levels(url, new Set(['select', 'columns', 'on_conflict']));
	const params = new Params();
	const b = new Builder(cache, schema, params, embeds);
	const plan: WritePlan = {
		select,
		body: (headersOnly ? 'json' : representation ? bodyFormat(req) : 'none') as BodyFormat,
		count: prefer.has('count')
	};
	const applied = [`return=${returnPref}`];
	let sqlText: string;
	let status: number;
	if (method === 'POST') {
		sqlText = await insertStatement(r, b, rel, prefer, plan, applied);
		status = 201;
	} else if (method === 'PATCH') {
		const text = await readBody(req);
		const body = parseJson(text);
		if (!isObject(body))
			throw new ApiError(
				400,
				'PGRST102',
				'Empty or invalid json',
				'Send one JSON object with the columns to change.'
			);
		const columns = Object.keys(body);
		checkColumns(rel, columns);
		if (columns.length === 0) {
			respond(
				res,
				shapeFor(req, prefer, representation ? 200 : 204, representation),
				{ total: null, page_total: 0, body: '[]' },
				null
			);
			return;
		}
		sqlText = updateSql(b, rel, columns, params.text(text), top.conditions, plan);
		status = representation ? 200 : 204;
	} else {
		sqlText = deleteSql(b, rel, top.conditions, plan);
		status = representation ? 200 : 204;
	}
	const shape = shapeFor(req, prefer, status, representation);
	if (headersOnly && rel.primaryKey.length)
		shape.location = { table: rel.name, pk: rel.primaryKey };
	const rollback = prefer.get('tx') === 'rollback';
	if (rollback) applied.push('tx=rollback');
	// `handling=strict` with `max-affected=n` (supabase-js maxAffected) on update and delete.
	const maxAffected =
		method !== 'POST' && prefer.get('handling') === 'strict' && prefer.has('max-affected')
			? Number(prefer.get('max-affected'))
			: null;
	if (maxAffected !== null) applied.push('handling=strict', `max-affected=${maxAffected}`);
	shape.headers['preference-applied'] = applied.join(', ');
	const { row } = await r.run({
		sql: sqlText,
		params: params.values,
		readOnly: false,
		decide:
			shape.single || rollback || maxAffected !== null
				? (result) =>
						!rollback &&
						(!shape.single || result.page_total === 1) &&
						(maxAffected === null || result.page_total <= maxAffected)
				: undefined
	});
	if (maxAffected !== null && row.page_total > maxAffected) {
		throw new ApiError(
			400,
			'PGRST124',
			'Query result exceeds max-affected preference constraint',
			`The query affects ${row.page_total} rows`
		);
	}
	respond(res, shape, row, null);
}

/** POST: one object or an array of them, `columns=`, upsert on a key, `missing=default`. */
async function insertStatement(
	r: RestRequest,
	b: Builder,
	rel: Relation,
	prefer: Map<string, string>,
	plan: WritePlan,
	applied: string[]
): Promise<string> {
	const { req, url } = r;
	const text = await readBody(req);
	const body = parseJson(text);
	const rows = Array.isArray(body) ? body : [body];
	if (!rows.every(isObject))
		throw new ApiError(
			400,
			'PGRST102',
			'Empty or invalid json',
			'Send a JSON object or an array of objects.'
		);
	const columnsParam = url.searchParams.get('columns');
	const columns = columnsParam
		? columnsParam.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'))
		: [...new Set(rows.flatMap((row) => Object.keys(row)))];
	checkColumns(rel, columns);
	const resolution = prefer.get('resolution');
	let onConflict: { columns: string[]; action: 'merge' | 'ignore' } | undefined;
	if (resolution === 'merge-duplicates' || resolution === 'ignore-duplicates') {
		const target =
			url.searchParams
				.get('on_conflict')
				?.split(',')
				.map((c) => c.trim()) ?? rel.primaryKey;
		if (target.length === 0) {
			throw new ApiError(
				400,
				'PGRST100',
				`"${rel.name}" has no primary key to upsert on`,
				null,
				'Pass on_conflict= with the columns of a unique constraint.'
			);
		}
		checkColumns(rel, target);
		onConflict = {
			columns: target,
			action: resolution === 'merge-duplicates' ? 'merge' : 'ignore'
		};
		applied.push(`resolution=${resolution}`);
	}
	const missingDefault = prefer.get('missing') === 'default';
	if (missingDefault) applied.push('missing=default');
	const rowsParam = b.params.text(Array.isArray(body) ? text : `[${text}]`);
	return insertSql(b, rel, { columns, rowsParam, missingDefault, onConflict }, plan);
}

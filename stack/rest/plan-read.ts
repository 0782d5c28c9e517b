// GET/HEAD on a table or view, or a function read like one: one statement for the rows (and
// their count), plus, for `count=planned|estimated`, the statement whose plan gives the estimate.
import { config } from '../config.ts';
import { Builder, Params, type Source } from './build-sql.ts';
import type { Execution, RestRequest } from './execute.ts';
import { parseSelect } from './parse.ts';
import { countKind, levels, page } from './query-params.ts';
import { bodyFormat } from './response.ts';
import { readSql } from './statements.ts';

export interface PlannedRead {
	sql: string;
	explain: Execution['explain'];
	/** The first row's offset, for Content-Range. */
	offset: number;
}

export function planRead(
	r: RestRequest,
	source: Source,
	params: Params,
	/** Query parameters that are not filters here (select, function arguments, ...). */
	skip: Set<string>,
	prefer: Map<string, string>
): PlannedRead {
	const { req, url, cache, schema } = r;
	const { top, embeds } = levels(url, skip);
	page(req, top);
	const select = parseSelect(url.searchParams.get('select') ?? '*');
	const b = new Builder(cache, schema, params, embeds);
	const count = countKind(prefer);
	const { sql } = readSql(b, source, {
		select,
		level: top,
		count,
		body: req.method === 'HEAD' ? 'none' : bodyFormat(req),
		maxRows: config.api.maxRows
	});
	let explain: Execution['explain'];
	if (count === 'planned' || count === 'estimated') {
		// The estimate comes from the planner, over the same filters with their own parameters.
		const eb = new Builder(cache, schema, new Params(), embeds);
		const where = eb.where(source.relation, '_t0', top.conditions);
		if (!source.cte && !source.from('_t0').includes('$'))
			explain = { sql: `select 1 from ${source.from('_t0')}${where}`, params: eb.params.values };
	}
	return { sql, explain, offset: top.offset ?? 0 };
}

// One line per request (method, path without query, status, duration) in the gateway's log.
// The query is left out because it can carry an apikey or tokens.
import type { IncomingMessage, ServerResponse } from 'node:http';

export function logRequest(req: IncomingMessage, res: ServerResponse) {
	const start = process.hrtime.bigint();
	res.once('close', () => {
		const ms = Number(process.hrtime.bigint() - start) / 1e6;
		const url = req.url ?? '/';
		const q = url.indexOf('?');
		const path = q < 0 ? url : url.slice(0, q);
		const status = res.writableFinished ? res.statusCode : `${res.statusCode} aborted`;
		process.stdout.write(
			`${new Date().toISOString()} ${req.method} ${path} ${status} ${ms.toFixed(1)}ms\n`
		);
	});
}

export function logUpgrade(req: IncomingMessage, status: number) {
	const url = req.url ?? '/';
	const q = url.indexOf('?');
	process.stdout.write(
		`${new Date().toISOString()} WS ${q < 0 ? url : url.slice(0, q)} ${status}\n`
	);
}

// /functions/v1/<name>: checks the caller's JWT when the function's verify_jwt is on, then
// streams the request to the function's warm Deno process and its answer back, unbuffered.
import { Agent, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { config, supabaseDir } from '../config.ts';
import { verifyJwt } from '../jwt.ts';
import { BootError, FunctionWorker, type FunctionSpec } from './worker.ts';

const fixturesDir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const fixtureSettings: Record<string, { verify_jwt?: boolean }> = existsSync(
	join(fixturesDir, 'config.json')
)
	? JSON.parse(readFileSync(join(fixturesDir, 'config.json'), 'utf8'))
	: {};
const namePattern = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const functionIdleTimeoutMs = 150_000;
const hopByHop = new Set([
	'connection',
	'keep-alive',
	'proxy-connection',
	'te',
	'trailer',
	'upgrade'
]);

// Loopback keep-alive: a warm call costs one proxied request, no new connection.
const agent = new Agent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 16 });
const workers = new Map<string, FunctionWorker>();
/** The last boot error logged per function, until it boots again. */
const bootFailures = new Map<string, string>();

function sendJson(res: ServerResponse, status: number, body: unknown) {
	if (res.headersSent) return void res.destroy();
	res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const functionsDir = join(supabaseDir, 'functions');

function firstExisting(paths: string[]): string | undefined {
	return paths.find((p) => existsSync(p));
}

/**
 * Deployed functions first, honouring `[functions.<name>]` entrypoint, import_map and enabled
 * as the Supabase CLI does; the platform's own test fixtures only under names no app uses.
 */
function findFunction(name: string): FunctionSpec | undefined {
	const settings = (config.toml.functions?.[name] ?? {}) as Record<string, unknown>;
	if (settings.enabled === false) return undefined;
	const sharedConfig = firstExisting([
		join(functionsDir, 'deno.json'),
		join(functionsDir, 'deno.jsonc')
	]);
	const entry =
		typeof settings.entrypoint === 'string'
			? resolve(supabaseDir, settings.entrypoint)
			: join(functionsDir, name, 'index.ts');
	if (existsSync(entry)) {
		const dir = dirname(entry);
		const denoConfig =
			typeof settings.import_map === 'string'
				? resolve(supabaseDir, settings.import_map)
				: (firstExisting([join(dir, 'deno.json'), join(dir, 'deno.jsonc')]) ?? sharedConfig);
		return { name, dir, entry, denoConfig };
	}
	const fixture = join(fixturesDir, name, 'index.ts');
	if (name.startsWith('fixture-') && existsSync(fixture)) {
		return { name, dir: dirname(fixture), entry: fixture, denoConfig: sharedConfig };
	}
	return undefined;
}

function verifyJwtSetting(name: string): boolean {
	return config.functions[name]?.verifyJwt ?? fixtureSettings[name]?.verify_jwt ?? true;
}

async function authorized(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
	const header = req.headers.authorization;
	if (!header) {
		sendJson(res, 401, {
			code: 'UNAUTHORIZED_NO_AUTH_HEADER',
			message: 'Missing authorization header'
		});
		return false;
	}
	const m = /^bearer\s+(.+)$/i.exec(header);
	try {
		if (!m) throw new Error('not a bearer token');
		await verifyJwt(m[1].trim());
		return true;
	} catch {
		sendJson(res, 401, { code: 'UNAUTHORIZED_INVALID_JWT_FORMAT', message: 'Invalid JWT' });
		return false;
	}
}

function workerFor(spec: FunctionSpec): FunctionWorker {
	let worker = workers.get(spec.name);
	if (!worker || worker.exited) {
		worker = new FunctionWorker(spec, (gone) => {
			if (workers.get(spec.name) === gone) workers.delete(spec.name);
		});
		workers.set(spec.name, worker);
	}
	worker.touch();
	return worker;
}

export async function handleFunction(req: IncomingMessage, res: ServerResponse) {
	const url = req.url ?? '/';
	// `/functions/v1/<name>/rest?query` reaches the function as `/<name>/rest?query`, as hosted.
	const forwardPath = url.slice('/functions/v1'.length) || '/';
	const name = forwardPath.slice(1).split(/[/?]/)[0];
	if (!namePattern.test(name)) {
		return sendJson(res, 404, { code: 'NOT_FOUND', message: 'Requested function was not found' });
	}
	// A warm worker already knows where its function lives (its watcher drops it on changes).
	const live = workers.get(name);
	const spec = live && !live.exited ? live.spec : findFunction(name);
	if (!spec) {
		return sendJson(res, 404, {
			code: 'NOT_FOUND',
			message: `Requested function was not found: create supabase/functions/${name}/index.ts`
		});
	}
	if (verifyJwtSetting(name) && req.method !== 'OPTIONS' && !(await authorized(req, res))) return;

	const worker = workerFor(spec);
	let port: number;
	try {
		port = await worker.ready;
		bootFailures.delete(name);
	} catch (e) {
		const message = e instanceof BootError ? e.message : String(e);
		// One log line per failure streak, not one per request.
		if (bootFailures.get(name) !== message) console.error(message);
		bootFailures.set(name, message);
		return sendJson(res, 503, {
			code: 'BOOT_ERROR',
			message: `Function failed to start: ${message}`
		});
	}

	const headers: Record<string, string | string[]> = {};
	for (const [k, v] of Object.entries(req.headers)) {
		if (v !== undefined && !hopByHop.has(k)) headers[k] = v;
	}
	headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
	const upstream = request({
		host: '127.0.0.1',
		port,
		method: req.method,
		path: forwardPath,
		headers,
		agent
	});
	// A function may answer before reading the whole body (an early 413, say). The rest of the
	// upload is then discarded, so a client that sends its body before reading is not stuck.
	let answered = false;
	const discardRestOfUpload = () => {
		if (req.complete) return;
		req.unpipe(upstream);
		req.resume();
	};
	upstream.on('response', (answer) => {
		answered = true;
		answer.on('end', discardRestOfUpload);
		const out: Record<string, string | string[]> = {};
		for (const [k, v] of Object.entries(answer.headers)) {
			if (v !== undefined && !hopByHop.has(k) && k !== 'transfer-encoding') out[k] = v;
		}
		res.writeHead(answer.statusCode ?? 502, out);
		answer.pipe(res);
		answer.on('error', () => res.destroy());
	});
	// Set when the gateway itself ends the upstream request, so that is not taken for a crash.
	let abandoned = false;
	upstream.on('error', (e) => {
		if (abandoned) return;
		// After a complete answer, a closed socket only means the function stopped reading.
		if (answered) return discardRestOfUpload();
		// The process died mid-request (Deno.exit, out of memory, a kill): drop it now rather
		// than wait for its exit event, answer, and let the next call start a fresh one.
		worker.stop();
		const message = `Function ${name} exited or dropped the connection while handling the request (${(e as NodeJS.ErrnoException).code ?? e.message}); the next call starts it again`;
		console.error(message);
		sendJson(res, 500, { code: 'WORKER_ERROR', message });
	});
	// Hosted functions get a wall-clock limit too; this long a silence means the function hangs.
	upstream.setTimeout(functionIdleTimeoutMs, () => {
		abandoned = true;
		upstream.destroy();
		sendJson(res, 504, {
			code: 'WORKER_TIMEOUT',
			message: `Function ${name} sent nothing for ${functionIdleTimeoutMs / 1000}s: it must answer or stream within that time`
		});
	});
	res.on('close', () => {
		if (res.writableFinished) return;
		abandoned = true;
		upstream.destroy();
	});
	req.pipe(upstream);
}

export async function stopAllFunctions() {
	for (const w of [...workers.values()]) w.stop();
	agent.destroy();
}

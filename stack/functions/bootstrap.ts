// Runs inside Deno, one process per Edge Function. Hosted Supabase decides where a function
// listens, so Deno.serve is wrapped to bind a free loopback port chosen here and report it to
// the host; then the function's own index.ts is imported and runs unchanged.
export {};

const entry = Deno.env.get('STACK_FUNCTION_ENTRY');
const name = Deno.env.get('STACK_FUNCTION_NAME') ?? 'function';
if (!entry)
	throw new Error('STACK_FUNCTION_ENTRY is not set: this file is started by stack/functions');

const realServe = Deno.serve.bind(Deno);
let reported = false;

function failure(error: unknown): Response {
	const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
	console.error(`function ${name} threw:`, error);
	return Response.json(
		{ code: 'FUNCTION_ERROR', message: `Function ${name} threw an uncaught error: ${message}` },
		{ status: 500 }
	);
}

function serve(a: unknown, b?: unknown) {
	let options: Record<string, unknown> = {};
	let handler: Deno.ServeHandler;
	if (typeof a === 'function') handler = a as Deno.ServeHandler;
	else if (typeof b === 'function') {
		options = (a ?? {}) as Record<string, unknown>;
		handler = b as Deno.ServeHandler;
	} else {
		options = (a ?? {}) as Record<string, unknown>;
		handler = options.handler as Deno.ServeHandler;
	}
	const { onListen: _ignored, path: _path, cert: _cert, key: _key, ...rest } = options;
	return realServe(
		{
			...rest,
			hostname: '127.0.0.1',
			port: 0,
			onError: options.onError ?? failure,
			onListen({ port }: { port: number }) {
				// The first server is the one the host proxies to.
				if (reported) return;
				reported = true;
				console.log(`\u0000stack-listening ${port}`);
			}
		},
		async (req: Request, info: unknown) => {
			try {
				return await handler(req, info);
			} catch (error) {
				return failure(error);
			}
		}
	);
}

(Deno as { serve: unknown }).serve = serve;
await import(entry);

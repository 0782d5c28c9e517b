// The few Deno APIs the functions host's bootstrap and its test fixtures use, so the Node
// type check of stack/ accepts them. Deno itself never reads this file.
declare namespace Deno {
	type ServeHandler = (req: Request, info: unknown) => Response | Promise<Response>;
	function serve(...args: unknown[]): unknown;
	function exit(code?: number): never;
	const pid: number;
	const env: { get(name: string): string | undefined; toObject(): Record<string, string> };
}

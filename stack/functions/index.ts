// The Edge Functions host behind /functions/v1: real Deno, one warm process per function.
import type { HttpService } from '../service-interface.ts';
import { handleFunction, stopAllFunctions } from './host.ts';
import { denoAvailable } from './worker.ts';

export function createFunctionsService(): HttpService & { ready(): Promise<void> } {
	return { handle: handleFunction, close: stopAllFunctions, ready: denoAvailable };
}

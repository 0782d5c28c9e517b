// The PostgREST-compatible REST service behind /rest/v1 (see handler.ts).
import type { HttpService } from '../service-interface.ts';
import { createRestHandler } from './handler.ts';

export function createRestService(): HttpService {
	return createRestHandler();
}

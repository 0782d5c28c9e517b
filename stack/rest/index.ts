// The PostgREST-compatible REST service behind /rest/v1 (see handler.ts).
import type { HttpService } from '../services-api.ts';
import { createRestHandler } from './handler.ts';

export function createRestService(): HttpService {
	return createRestHandler();
}

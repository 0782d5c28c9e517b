type DbError = { code?: string; message: string; details?: string | null; hint?: string | null };

/**
 * A sentence for the user from a PostgREST/Postgres error. Our SQL functions raise messages
 * written for people (what to change); RLS refusals and unexpected failures get a plain one,
 * and the latter are logged with context.
 */
export function userMessage(error: DbError, context: string): string {
	const code = error.code ?? '';
	if (code === '42501') {
		return /row-level security|permission denied/i.test(error.message)
			? 'Your role does not allow this. Ask an owner or admin of the organization.'
			: error.message;
	}
	if (code === '23505') return 'That already exists. Choose another name or value.';
	if (code === '23514') return 'One of the values is not accepted. Check the form and try again.';
	if (code === '22023' || code.startsWith('PT') || code === 'P0001' || code === 'P0002') {
		return error.message;
	}
	console.error(`${context} failed`, error);
	return 'That did not work on our side. Try again in a minute.';
}

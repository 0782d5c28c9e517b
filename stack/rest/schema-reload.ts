// The schema cache as requests see it: loaded at start, reloaded on `notify pgrst, 'reload
// schema'` (overlapping notifications during a migration collapse into one reload that starts
// after the current one), retried after a failed load, and refreshed once when a request names
// something missing (DDL whose notification is still in flight).
import type postgres from 'postgres';
import { ApiError } from './errors.ts';
import { loadSchemaCache, type SchemaCache } from './schema-cache.ts';

/** Errors that may only mean the cache is older than the DDL the request relies on. */
const missingCodes = ['PGRST205', 'PGRST202', 'PGRST200'];

export class LiveSchemaCache {
	private current: Promise<SchemaCache>;
	private failed = false;
	private queued = false;
	private lastMissReload = 0;
	/** Resolves once the listener is set up (or has failed, which is logged). */
	readonly listening: Promise<unknown>;

	constructor(
		private readonly sql: postgres.Sql,
		private readonly schemas: string[]
	) {
		this.current = this.load();
		this.listening = sql
			.listen('pgrst', (payload) => {
				if (payload === '' || payload === 'reload schema') this.reload();
			})
			.catch((e) => console.error('rest: cannot listen for schema reloads:', e.message));
	}

	private load(): Promise<SchemaCache> {
		const p = loadSchemaCache(this.sql, this.schemas);
		p.catch((e) => {
			// Retried on the next request, so a database that was down does not stay unusable.
			this.failed = true;
			console.error('rest: cannot load the schema cache:', e.message);
		});
		return p;
	}

	private reload() {
		if (this.queued) return;
		this.queued = true;
		this.current = this.current
			.catch(() => undefined)
			.then(() => {
				this.queued = false;
				return this.load();
			});
		this.current.catch(() => {});
	}

	get(): Promise<SchemaCache> {
		if (this.failed) {
			this.failed = false;
			this.current = this.load();
		}
		return this.current;
	}

	/** Runs `fn` on the cache; a name it misses triggers one reload (at most once a second). */
	async withFresh<T>(fn: (cache: SchemaCache) => T): Promise<T> {
		try {
			return fn(await this.get());
		} catch (e) {
			const missing = e instanceof ApiError && missingCodes.includes(e.code);
			if (!missing || Date.now() - this.lastMissReload < 1000) throw e;
			this.lastMissReload = Date.now();
			this.reload();
			return fn(await this.get());
		}
	}
}

// The database connections exports share: at most `size` per isolate, each lent to one download
// at a time (a download holds its connection for its whole snapshot). A request that finds all
// of them busy waits in line for a while, then is told to come back.
import postgres from 'postgres';

export type Connection = postgres.Sql;

export class ConnectionPool {
	#idle: Connection[] = [];
	#open = 0;
	#waiting: ((conn: Connection) => void)[] = [];

	constructor(
		readonly size: number,
		private readonly connect: () => Connection
	) {}

	/** A connection for one download, or null when none frees up within waitMs. */
	acquire(waitMs: number): Promise<Connection | null> {
		const idle = this.#idle.pop();
		if (idle) return Promise.resolve(idle);
		if (this.#open < this.size) {
			this.#open++;
			return Promise.resolve(this.connect());
		}
		return new Promise((resolve) => {
			const take = (conn: Connection) => {
				clearTimeout(timer);
				resolve(conn);
			};
			const timer = setTimeout(() => {
				this.#waiting.splice(this.#waiting.indexOf(take), 1);
				resolve(null);
			}, waitMs);
			this.#waiting.push(take);
		});
	}

	/**
	 * Gives a connection back. A reusable one (its transaction ended) goes to the next in line;
	 * one cut off mid-query is closed, which makes Postgres roll back and free its snapshot at
	 * once, and a fresh connection takes its place.
	 */
	async release(conn: Connection, reusable: boolean): Promise<void> {
		const next = this.#waiting.shift();
		if (reusable) {
			if (next) next(conn);
			else this.#idle.push(conn);
			return;
		}
		// The count changes before any await, so no caller sees a slot that is not there.
		if (next) next(this.connect());
		else this.#open--;
		await conn.end({ timeout: 0 }).catch((err) => console.error('export-csv: closing db', err));
	}
}

// A minimal Postgres wire-protocol client for the request path. Each request is one batch of
// Parse/Bind/Execute messages closed by a single Sync, so everything runs in one implicit
// transaction and costs one round trip and one packet each way (postgres.js ends every query
// with its own Sync, which meant four round trips' worth of syscalls per request).
// Results are text; the service only ever reads text columns (JSON is built by Postgres).
// It authenticates with SCRAM-SHA-256 only: the cluster's host rule (stack/db/cluster.ts).
import { connect, type Socket } from 'node:net';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

export interface WireOptions {
	host: string;
	port: number;
	user: string;
	password: string;
	database: string;
	/** Startup parameters (GUCs) such as application_name and search_path. */
	params?: Record<string, string>;
}

export interface Statement {
	text: string;
	params: (string | number | null)[];
}

export type Row = (string | null)[];

/** An ErrorResponse, with the fields PostgREST puts in its error body. */
export class DbError extends Error {
	constructor(
		readonly code: string,
		message: string,
		readonly detail?: string,
		readonly hint?: string
	) {
		super(message);
	}
}

/** The connection broke or could not be made. */
export class WireConnectionError extends Error {
	readonly code = 'CONNECTION_CLOSED';
}

// Each cached statement holds a plan in its backend; past this, statements go unnamed.
const maxCachedStatements = 300;

class Writer {
	private parts: Buffer[] = [];
	message(type: string, body: Buffer[]) {
		const len = body.reduce((n, b) => n + b.length, 4);
		const head = Buffer.alloc(5);
		head.write(type, 0, 'latin1');
		head.writeInt32BE(len, 1);
		this.parts.push(head, ...body);
	}
	flush(): Buffer {
		const out = Buffer.concat(this.parts);
		this.parts = [];
		return out;
	}
}

const cstr = (s: string) => Buffer.from(s + '\0', 'utf8');
const int16 = (n: number) => {
	const b = Buffer.alloc(2);
	b.writeInt16BE(n);
	return b;
};
const int32 = (n: number) => {
	const b = Buffer.alloc(4);
	b.writeInt32BE(n);
	return b;
};

/** The client side of SCRAM-SHA-256 (RFC 7677), without channel binding. */
class Scram {
	private nonce = randomBytes(18).toString('base64');
	private clientFirstBare = `n=*,r=${this.nonce}`;
	private serverSignature: Buffer | null = null;

	constructor(private readonly password: string) {}

	/** SASLInitialResponse body. */
	first(): Buffer[] {
		const first = Buffer.from('n,,' + this.clientFirstBare);
		return [cstr('SCRAM-SHA-256'), int32(first.length), first];
	}

	/** SASLResponse body answering the server-first message. */
	final(serverFirst: string): Buffer[] {
		const attrs = Object.fromEntries(serverFirst.split(',').map((p) => [p[0], p.slice(2)]));
		if (!attrs.r?.startsWith(this.nonce)) throw new Error('SCRAM: server nonce mismatch');
		const salted = pbkdf2Sync(
			this.password,
			Buffer.from(attrs.s, 'base64'),
			Number(attrs.i),
			32,
			'sha256'
		);
		const clientKey = createHmac('sha256', salted).update('Client Key').digest();
		const storedKey = createHash('sha256').update(clientKey).digest();
		const finalBare = `c=biws,r=${attrs.r}`;
		const authMessage = `${this.clientFirstBare},${serverFirst},${finalBare}`;
		const signature = createHmac('sha256', storedKey).update(authMessage).digest();
		const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]));
		const serverKey = createHmac('sha256', salted).update('Server Key').digest();
		this.serverSignature = createHmac('sha256', serverKey).update(authMessage).digest();
		return [Buffer.from(`${finalBare},p=${proof.toString('base64')}`)];
	}

	/** The server-final message must prove the server knows the password too. */
	verify(serverFinal: string) {
		const v = serverFinal.replace(/^v=/, '');
		if (!this.serverSignature?.equals(Buffer.from(v, 'base64')))
			throw new Error('SCRAM: the server signature does not match');
	}
}

interface Pending {
	results: Row[][];
	current: Row[];
	error: DbError | null;
	parses: string[];
	resolve: (rows: Row[][]) => void;
	reject: (e: Error) => void;
}

export class WireConnection {
	private socket: Socket;
	private buffer: Buffer = Buffer.alloc(0);
	private chunks: Buffer[] = [];
	private available = 0;
	private needed = 5;
	private statements = new Map<string, string>();
	private nextName = 0;
	private queue: Pending[] = [];
	private ready: Promise<void>;
	closed = false;

	constructor(private options: WireOptions) {
		this.socket = connect(options.port, options.host);
		this.socket.setNoDelay(true);
		this.ready = new Promise((resolve, reject) => {
			const fail = (e: Error) => {
				this.close();
				reject(new WireConnectionError(`cannot connect to the database: ${e.message}`));
			};
			this.socket.once('error', fail);
			this.socket.once('connect', () => this.startup(resolve, fail));
		});
		this.ready.catch(() => {});
	}

	private startup(resolve: () => void, fail: (e: Error) => void) {
		const params = {
			user: this.options.user,
			database: this.options.database,
			...this.options.params
		};
		const body = [
			int32(196608),
			...Object.entries(params).flatMap(([k, v]) => [cstr(k), cstr(v)]),
			Buffer.from([0])
		];
		const len = body.reduce((n, b) => n + b.length, 4);
		this.socket.write(Buffer.concat([int32(len), ...body]));
		const scram = new Scram(this.options.password);
		const onData = (chunk: Buffer) => {
			this.buffer = Buffer.concat([this.buffer, chunk]);
			while (this.buffer.length >= 5) {
				const type = String.fromCharCode(this.buffer[0]);
				const len = this.buffer.readInt32BE(1);
				if (this.buffer.length < len + 1) return;
				const msg = this.buffer.subarray(5, len + 1);
				this.buffer = this.buffer.subarray(len + 1);
				if (type === 'E') return fail(parseError(msg));
				if (type === 'R') {
					// AuthenticationOk, then SASL start, continue and final.
					const code = msg.readInt32BE(0);
					if (code === 0) continue;
					try {
						if (code === 10) this.send('p', scram.first());
						else if (code === 11) this.send('p', scram.final(msg.subarray(4).toString('utf8')));
						else if (code === 12) scram.verify(msg.subarray(4).toString('utf8'));
						else throw new Error(`authentication method ${code} is not SCRAM-SHA-256`);
					} catch (e) {
						return fail(e as Error);
					}
				} else if (type === 'Z') {
					this.socket.off('data', onData);
					this.socket.on('data', (c: Buffer) => this.onData(c));
					this.socket.on('close', () => this.close());
					this.socket.on('error', () => this.close());
					return resolve();
				}
			}
		};
		this.socket.on('data', onData);
		this.socket.once('close', () => fail(new Error('closed during startup')));
	}

	private send(type: string, body: Buffer[]) {
		const w = new Writer();
		w.message(type, body);
		this.socket.write(w.flush());
	}

	/** Runs the statements as one batch ending in Sync; resolves with each one's rows. */
	async run(statements: Statement[]): Promise<Row[][]> {
		await this.ready;
		if (this.closed) throw new WireConnectionError('the database connection is closed');
		const w = new Writer();
		const parses: string[] = [];
		for (const st of statements) {
			let name = this.statements.get(st.text);
			if (name === undefined) {
				name = this.statements.size < maxCachedStatements ? `r${this.nextName++}` : '';
				w.message('P', [cstr(name), cstr(st.text), int16(0)]);
				if (name) parses.push(st.text + '\0' + name);
				else parses.push('');
			}
			const values = st.params.flatMap((v) => {
				if (v === null) return [int32(-1)];
				const b = Buffer.from(String(v), 'utf8');
				return [int32(b.length), b];
			});
			w.message('B', [
				cstr(''),
				cstr(name),
				int16(0),
				int16(st.params.length),
				...values,
				int16(0)
			]);
			w.message('E', [cstr(''), int32(0)]);
		}
		w.message('S', []);
		return new Promise((resolve, reject) => {
			this.queue.push({ results: [], current: [], error: null, parses, resolve, reject });
			this.socket.write(w.flush());
		});
	}

	private onData(chunk: Buffer) {
		// Large results arrive in many chunks: gather them until the message is complete
		// instead of re-concatenating the buffer on every chunk.
		this.chunks.push(chunk);
		this.available += chunk.length;
		if (this.available < this.needed) return;
		this.buffer = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
		this.chunks = [];
		let offset = 0;
		while (this.buffer.length - offset >= 5) {
			const len = this.buffer.readInt32BE(offset + 1);
			if (this.buffer.length - offset < len + 1) break;
			const type = this.buffer[offset];
			const msg = this.buffer.subarray(offset + 5, offset + len + 1);
			offset += len + 1;
			const p = this.queue[0];
			if (!p) continue;
			switch (type) {
				case 0x44: // D: DataRow
					p.current.push(parseRow(msg));
					break;
				case 0x43: // C: CommandComplete
				case 0x49: // I: EmptyQueryResponse
					p.results.push(p.current);
					p.current = [];
					break;
				case 0x31: {
					// 1: ParseComplete; only now is the named statement known to the server.
					const parsed = p.parses.shift();
					if (parsed) {
						const [text, name] = parsed.split('\0');
						this.statements.set(text, name);
					}
					break;
				}
				case 0x45: // E: ErrorResponse; the server skips to Sync
					p.error = parseError(msg);
					break;
				case 0x5a: // Z: ReadyForQuery
					this.queue.shift();
					if (p.error) p.reject(p.error);
					else p.resolve(p.results);
					break;
			}
		}
		const rest = this.buffer.subarray(offset);
		this.buffer = Buffer.alloc(0);
		this.chunks = rest.length ? [rest] : [];
		this.available = rest.length;
		this.needed = rest.length >= 5 ? rest.readInt32BE(1) + 1 : 5;
	}

	close() {
		if (this.closed) return;
		this.closed = true;
		this.socket.destroy();
		for (const p of this.queue.splice(0))
			p.reject(new WireConnectionError('the database connection was closed'));
	}
}

function parseRow(msg: Buffer): Row {
	const n = msg.readInt16BE(0);
	const row: Row = new Array(n);
	let at = 2;
	for (let i = 0; i < n; i++) {
		const len = msg.readInt32BE(at);
		at += 4;
		if (len < 0) row[i] = null;
		else {
			row[i] = msg.toString('utf8', at, at + len);
			at += len;
		}
	}
	return row;
}

function parseError(msg: Buffer): DbError {
	const fields: Record<string, string> = {};
	let at = 0;
	while (at < msg.length && msg[at] !== 0) {
		const code = String.fromCharCode(msg[at]);
		const end = msg.indexOf(0, at + 1);
		fields[code] = msg.toString('utf8', at + 1, end);
		at = end + 1;
	}
	return new DbError(fields.C ?? 'XX000', fields.M ?? 'unknown database error', fields.D, fields.H);
}

/** A fixed-size pool; a request holds one connection for its whole batch (or transaction). */
export class WirePool {
	private idle: WireConnection[] = [];
	private waiting: ((c: WireConnection) => void)[] = [];
	private open = 0;

	constructor(
		private options: WireOptions,
		private size: number
	) {}

	async acquire(): Promise<WireConnection> {
		while (this.idle.length) {
			const c = this.idle.pop()!;
			if (!c.closed) return c;
			this.open--;
		}
		if (this.open < this.size) {
			this.open++;
			return new WireConnection(this.options);
		}
		return new Promise((resolve) => this.waiting.push(resolve));
	}

	release(c: WireConnection) {
		if (c.closed) {
			this.open--;
			const next = this.waiting.shift();
			if (next) {
				this.open++;
				next(new WireConnection(this.options));
			}
			return;
		}
		const next = this.waiting.shift();
		if (next) next(c);
		else this.idle.push(c);
	}

	async end() {
		for (const c of this.idle.splice(0)) c.close();
	}
}

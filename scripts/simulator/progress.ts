// The live progress line: redrawn in place on a terminal, a plain line now and then otherwise
// (logs, CI), so piped output stays readable. Log lines print above it.
import { progressLine, type Stats } from './stats.ts';

export interface ProgressOptions {
	stream?: NodeJS.WriteStream;
	/** Redraw interval on a terminal, and line interval elsewhere. */
	ttyIntervalMs?: number;
	plainIntervalMs?: number;
}

export class Progress {
	private readonly stream: NodeJS.WriteStream;
	private readonly tty: boolean;
	private timer: NodeJS.Timeout | undefined;
	private drawn = false;

	constructor(
		private readonly stats: Stats,
		options: ProgressOptions = {}
	) {
		this.stream = options.stream ?? process.stderr;
		this.tty = Boolean(this.stream.isTTY);
		const interval = this.tty
			? (options.ttyIntervalMs ?? 500)
			: (options.plainIntervalMs ?? 10_000);
		this.timer = setInterval(() => this.draw(), interval);
	}

	private line(): string {
		return progressLine(this.stats, this.stats.recentRate());
	}

	private draw() {
		if (this.tty) {
			this.stream.write(`\r\x1b[2K${this.line()}`);
			this.drawn = true;
		} else {
			this.stream.write(`${this.line()}\n`);
		}
	}

	/** Prints a line above the progress line. */
	log = (text: string) => {
		if (this.tty && this.drawn) this.stream.write('\r\x1b[2K');
		this.stream.write(`${text}\n`);
		if (this.tty && this.drawn) this.stream.write(this.line());
	};

	stop() {
		clearInterval(this.timer);
		this.timer = undefined;
		if (this.tty && this.drawn) this.stream.write('\r\x1b[2K');
		this.drawn = false;
	}
}

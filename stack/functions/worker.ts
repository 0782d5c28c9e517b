// One warm Deno process per Edge Function: started on the first call, kept while it is used,
// stopped when its files change (so the next call runs the new code), when it has been idle
// for a while, or when it dies (the next call starts a fresh one).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { projectRoot, supabaseDir } from '../config.ts';
import { missingDependencyHint, offlineDenoFlags } from './deno-env.ts';
import { dotenvFile, functionEnv } from './env.ts';

const denoBin = join(projectRoot, 'node_modules', '.bin', 'deno');
const bootstrap = join(dirname(new URL(import.meta.url).pathname), 'bootstrap.ts');
const functionsDir = join(supabaseDir, 'functions');
// Dependencies are installed by setup and never fetched here, so a boot is compile + import only.
const bootTimeoutMs = 30_000;
const idleMs = 10 * 60_000;
const marker = '\u0000stack-listening ';

export class BootError extends Error {}

/** Where a function lives and how Deno must load it. */
export interface FunctionSpec {
	name: string;
	/** The folder watched for changes (the entrypoint's). */
	dir: string;
	entry: string;
	/** deno.json with the import map and nodeModulesDir, when there is one. */
	denoConfig?: string;
}

/** Health: functions need the Deno binary the `deno` npm package installs. */
export async function denoAvailable() {
	if (!existsSync(denoBin)) throw new Error(`Deno is missing at ${denoBin}: run npm install`);
}

export class FunctionWorker {
	readonly ready: Promise<number>;
	private proc: ChildProcess;
	private watchers: FSWatcher[] = [];
	private idleTimer?: NodeJS.Timeout;
	private stderrTail: string[] = [];
	/** Set when Deno said a dependency is not installed: the boot error then names the fix. */
	private missingDependency?: string;
	exited = false;
	exitCode: number | string | null = null;

	readonly name: string;

	constructor(
		readonly spec: FunctionSpec,
		private readonly onGone: (w: FunctionWorker) => void,
		/** Extra environment on top of the hosted one (tests use it to cut the network). */
		extraEnv: Record<string, string> = {}
	) {
		this.name = spec.name;
		const entry = pathToFileURL(spec.entry).href;
		const { name, denoConfig } = spec;
		// Small semi-spaces: a streaming function's short-lived chunks are collected early, keeping
		// resident memory near its live size (as on hosted Edge Functions' memory limit).
		const args = [
			'run',
			'--allow-all',
			'--no-prompt',
			...offlineDenoFlags,
			'--v8-flags=--max-old-space-size=256,--max-semi-space-size=2'
		];
		args.push(...(denoConfig ? ['--config', denoConfig] : ['--no-config']), bootstrap);
		this.proc = spawn(denoBin, args, {
			cwd: functionsDir,
			env: { ...functionEnv(name, entry), ...extraEnv },
			stdio: ['ignore', 'pipe', 'pipe']
		});
		this.ready = new Promise<number>((resolve, reject) => {
			const timer = setTimeout(() => {
				reject(
					new BootError(
						`function ${this.name} did not start listening within ${bootTimeoutMs / 1000}s`
					)
				);
				this.stop();
			}, bootTimeoutMs);
			createInterface({ input: this.proc.stdout! }).on('line', (line) => {
				if (line.startsWith(marker)) {
					clearTimeout(timer);
					resolve(Number(line.slice(marker.length)));
				} else process.stdout.write(`[fn ${this.name}] ${line}\n`);
			});
			createInterface({ input: this.proc.stderr! }).on('line', (line) => {
				this.stderrTail = [...this.stderrTail.slice(-4), line];
				this.missingDependency ??= missingDependencyHint(line);
				process.stderr.write(`[fn ${this.name}] ${line}\n`);
			});
			this.proc.once('error', (e) => {
				clearTimeout(timer);
				reject(new BootError(`could not run Deno (${denoBin}): ${e.message}; run npm install`));
			});
			this.proc.once('exit', (code, signal) => {
				clearTimeout(timer);
				this.exited = true;
				this.exitCode = code ?? signal;
				const why = this.stderrTail.join(' | ') || 'no output';
				const hint = this.missingDependency;
				reject(
					new BootError(
						hint
							? `function ${this.name} cannot start: ${hint}`
							: `function ${this.name} exited before serving (exit ${code ?? signal}): ${why}`
					)
				);
				this.cleanup();
			});
		});
		// A rejected boot is reported to the caller that awaits it; never unhandled here.
		this.ready.catch(() => {});
		this.watchFiles();
		this.touch();
	}

	private watchFiles() {
		const { dir, denoConfig } = this.spec;
		const paths = [dir, join(functionsDir, '_shared'), denoConfig, dotenvFile];
		for (const path of paths) {
			if (!path || !existsSync(path)) continue;
			try {
				const w = watch(path, { recursive: path === dir }, () => this.stop());
				w.on('error', () => {});
				this.watchers.push(w);
			} catch {
				// Not watchable (e.g. too many watches): changes then need a gateway restart.
			}
		}
	}

	/** Marks the worker used now; it stops itself after a long idle period. */
	touch() {
		clearTimeout(this.idleTimer);
		this.idleTimer = setTimeout(() => this.stop(), idleMs).unref();
	}

	private cleanup() {
		clearTimeout(this.idleTimer);
		for (const w of this.watchers) w.close();
		this.watchers = [];
		this.onGone(this);
	}

	stop() {
		this.cleanup();
		if (this.exited) return;
		this.proc.kill('SIGTERM');
		setTimeout(() => {
			if (!this.exited) this.proc.kill('SIGKILL');
		}, 2000).unref();
	}
}

/**
 * Runs `fn` at most once per `intervalMs`: the first call at once, calls during the wait folded
 * into one trailing run. A run still in flight delays the next (never two at once).
 */
export function throttle(fn: () => Promise<void> | void, intervalMs: number) {
	let last = -Infinity;
	let timer: ReturnType<typeof setTimeout> | null = null;
	let running = false;
	let pending = false;

	async function run() {
		timer = null;
		if (running) {
			pending = true;
			return;
		}
		running = true;
		last = Date.now();
		try {
			await fn();
		} finally {
			running = false;
			if (pending) {
				pending = false;
				schedule();
			}
		}
	}

	function schedule() {
		if (timer) return;
		const wait = Math.max(0, last + intervalMs - Date.now());
		timer = setTimeout(() => void run(), wait);
	}

	return {
		/** Ask for a run; it happens now or when the interval allows. */
		request: schedule,
		cancel() {
			if (timer) clearTimeout(timer);
			timer = null;
			pending = false;
		}
	};
}

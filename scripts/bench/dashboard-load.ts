// The bot page's first load for bench:dashboard (scripts/bench/dashboard.ts): largest contentful
// paint cold and warm, and the gzipped JavaScript hydration needs, beside the sign-in page's
// figures measured the same way in the same run.
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { Browser, BrowserContext } from '@playwright/test';
import { percentile } from '../../stack/testing.ts';

const round = (n: number, d = 1) => Number(n.toFixed(d));

/** A browser context signed in through the sign-in page, as a user does. */
export async function signedInContext(
	browser: Browser,
	base: string,
	email: string,
	password: string
): Promise<BrowserContext> {
	const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
	const page = await ctx.newPage();
	await page.goto(`${base}/sign-in`);
	await page.getByLabel('Email').fill(email);
	await page.getByLabel('Password').fill(password);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await page.getByRole('link', { name: 'Skip to content' }).waitFor({ state: 'attached' });
	await page.close();
	return ctx;
}

type ManifestChunk = { file: string; imports?: string[] };
let manifest: Map<string, ManifestChunk> | null = null;

/**
 * The files a page needs before it can hydrate: the entries and route nodes it loaded and their
 * static imports, from the build's Vite manifest. Dynamic imports (lazy chunks) are left out even
 * though Vite's preload helper adds modulepreload links for them once they are asked for.
 */
function staticClosure(buildRoot: string, loadedFiles: string[]): Set<string> {
	if (!manifest) {
		const raw = JSON.parse(
			readFileSync(`${buildRoot}/svelte-kit/output/client/.vite/manifest.json`, 'utf8')
		) as Record<string, ManifestChunk>;
		manifest = new Map(Object.entries(raw));
	}
	const byFile = new Map([...manifest].map(([key, c]) => [c.file, key]));
	const out = new Set<string>();
	const visit = (key: string) => {
		const chunk = manifest!.get(key);
		if (!chunk || out.has(chunk.file)) return;
		out.add(chunk.file);
		for (const k of chunk.imports ?? []) visit(k);
	};
	for (const f of loadedFiles) {
		const key = byFile.get(f);
		if (key && /_app\/immutable\/(entry|nodes)\//.test(f)) visit(key);
	}
	return out;
}

/**
 * Loads `path` and returns its LCP, which element it was, and the gzipped JavaScript: `jsBytes`
 * is what hydration needs (staticClosure), `totalJsBytes` adds the chunks imported lazily.
 */
async function measureLoad(
	ctx: BrowserContext,
	base: string,
	buildRoot: string,
	path: string,
	settled?: string
) {
	const page = await ctx.newPage();
	const scripts: Promise<{ url: string; gz: number }>[] = [];
	page.on('response', (r) => {
		if (r.request().resourceType() === 'script') {
			scripts.push(
				r.body().then(
					(b) => ({ url: r.url(), gz: gzipSync(b).length }),
					() => ({ url: r.url(), gz: 0 })
				)
			);
		}
	});
	await page.goto(`${base}${path}`, { waitUntil: 'load' });
	const { lcp, element } = await page.evaluate(
		() =>
			new Promise<{ lcp: number; element: string }>((resolve) => {
				new PerformanceObserver((list) => {
					const last = list.getEntries().at(-1) as PerformanceEntry & { element?: Element };
					const el = last.element;
					const what = el
						? `${el.tagName.toLowerCase()}${el.className ? `.${String(el.className).split(' ')[0]}` : ''}`
						: 'unknown';
					resolve({ lcp: last.startTime, element: what });
				}).observe({ type: 'largest-contentful-paint', buffered: true });
			})
	);
	// Let lazy chunks arrive (and be drawn) before counting the total.
	if (settled) await page.locator(settled).first().waitFor({ state: 'attached', timeout: 60_000 });
	await page.waitForLoadState('networkidle');
	const loaded = await Promise.all(scripts);
	const sum = (xs: { gz: number }[]) => xs.reduce((a, b) => a + b.gz, 0);
	await page.close();
	const initial = staticClosure(
		buildRoot,
		loaded.map((s) => new URL(s.url).pathname.slice(1))
	);
	return {
		lcp,
		element,
		jsBytes: sum(loaded.filter((s) => initial.has(new URL(s.url).pathname.slice(1)))),
		totalJsBytes: sum(loaded)
	};
}

export async function loadFigures(options: {
	browser: Browser;
	/** The app's origin, e.g. http://127.0.0.1:4199 */
	base: string;
	/** The build folder, whose Vite manifest tells the initial chunks from the lazy ones. */
	buildRoot: string;
	/** The bot page to measure, e.g. /bots/<id>?range=24h */
	botPath: string;
	runs: number;
	signIn: { email: string; password: string };
}) {
	const { browser, base, buildRoot, botPath, runs, signIn } = options;
	const out: Record<string, number[]> = { botCold: [], botWarm: [], refCold: [], refWarm: [] };
	let js = { bot: 0, ref: 0, botTotal: 0, refTotal: 0 };
	const lcpElements = new Set<string>();
	for (let i = 0; i < runs; i++) {
		for (const [name, path] of [
			['bot', botPath],
			['ref', '/sign-in']
		] as const) {
			// Cold: a fresh context (empty cache); warm: the same context again.
			const ctx =
				name === 'bot'
					? await signedInContext(browser, base, signIn.email, signIn.password)
					: await browser.newContext();
			// The bot page's last lazy chunk is the replies canvas.
			const settled = name === 'bot' ? 'canvas' : undefined;
			const cold = await measureLoad(ctx, base, buildRoot, path, settled);
			const warm = await measureLoad(ctx, base, buildRoot, path, settled);
			out[`${name}Cold`].push(cold.lcp);
			out[`${name}Warm`].push(warm.lcp);
			if (name === 'bot') lcpElements.add(cold.element).add(warm.element);
			js = { ...js, [name]: cold.jsBytes, [`${name}Total`]: cold.totalJsBytes };
			await ctx.close();
		}
	}
	const med = (xs: number[]) => percentile(xs, 50)!;
	return {
		lcp_cold_ms: { value: round(med(out.botCold)), target: 2000, met: med(out.botCold) <= 2000 },
		lcp_warm_ms: { value: round(med(out.botWarm)), target: 1000, met: med(out.botWarm) <= 1000 },
		lcp_elements: [...lcpElements],
		reference_sign_in_lcp_ms: { cold: round(med(out.refCold)), warm: round(med(out.refWarm)) },
		lcp_ratio_vs_sign_in: {
			cold: round(med(out.botCold) / med(out.refCold), 2),
			warm: round(med(out.botWarm) / med(out.refWarm), 2)
		},
		runs,
		initial_js_gzip_kb: { value: round(js.bot / 1024), target: 150, met: js.bot / 1024 <= 150 },
		total_js_gzip_kb_after_lazy_chunks: round(js.botTotal / 1024),
		reference_sign_in_js_gzip_kb: round(js.ref / 1024),
		js_ratio_vs_sign_in: round(js.bot / js.ref, 2),
		load_average: loadavg().map((n) => round(n, 2))
	};
}

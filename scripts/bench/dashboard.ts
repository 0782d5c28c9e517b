// Live bot page benchmark (issue 11), against the running local platform and the app's
// production build served by this script, in Debian's Chromium:
// - largest contentful paint of the bot page, cold (new browser context) and warm (same context
//   again), beside the sign-in page's LCP measured the same way in the same run;
// - the page's initial JavaScript, gzipped, beside the sign-in page's;
// - event -> on screen: ingest call returned -> row in the feed's DOM, p50/p95 at 20 events/s
//   for 60 s, beside a Node realtime-js subscriber to the same changes (what the platform
//   itself delivers);
// - chart frame time p95 while the canvas chart holds 10,000 points and takes 100 appends/s,
//   beside the same page's frames with no appends;
// - JS heap growth (after GC) after 72,000 live events.
// Then the conversations explorer's figures (scripts/bench/explorer.ts, issue 12) under
// `explorer`. Prints JSON. `--quick` shortens every phase (figures then only indicative).
//
//   npm run bench:dashboard [-- --quick] [--no-build] [--skip-explorer] [--only chart_frames,heap]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { createClient } from '@supabase/supabase-js';
import postgres from 'postgres';
import WebSocket from 'ws';
import { config, projectRoot } from '../../stack/config.ts';
import { loadFigures, signedInContext } from './dashboard-load.ts';
import { percentile } from '../../stack/testing.ts';

const { values: args } = parseArgs({
	options: {
		quick: { type: 'boolean', default: false },
		'no-build': { type: 'boolean', default: false },
		'skip-explorer': { type: 'boolean', default: false },
		/** Comma-separated phases: load, event_to_screen, chart_frames, heap (default: all). */
		only: { type: 'string' },
		port: { type: 'string', default: '4199' }
	}
});
const quick = args.quick!;
const only = args.only ? new Set(args.only.split(',')) : null;
const wanted = (phase: string) => !only || only.has(phase);
const port = Number(args.port);
const base = `http://127.0.0.1:${port}`;
// BENCH_BUILD_ROOT reuses another build folder (an e2e build) with --no-build.
const buildRoot = process.env.BENCH_BUILD_ROOT ?? `.stack-bench-${port}`;
const EVENT_RATE = 20;
const EVENT_SECONDS = quick ? 10 : 60;
const CHART_POINTS = 10_000;
const APPENDS_PER_S = 100;
const FRAME_SECONDS = quick ? 4 : 10;
const HEAP_EVENTS = quick ? 7_200 : 72_000;
const ALICE = 'alice@botflow.test';
const PASSWORD = 'password123';
const ACME_SUPPORT = 'a1000000-0000-4000-8000-0000000000a1';

const log = (m: string) => process.stderr.write(`${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (n: number | null, d = 1) => (n === null ? null : Number(n.toFixed(d)));
const stats = (xs: number[]) => ({
	p50: round(percentile(xs, 50)),
	p95: round(percentile(xs, 95)),
	samples: xs.length
});
const sql = postgres(config.db.url, { max: 4, onnotice: () => {} });

// ----------------------------------------------------------------------------- the app
function buildAndServe(): ChildProcess {
	const env = {
		...process.env,
		BUILD_DIR: `${buildRoot}/build`,
		SVELTEKIT_OUT_DIR: `${buildRoot}/svelte-kit`,
		PORT: String(port),
		HOST: '127.0.0.1',
		ORIGIN: base,
		PUBLIC_SUPABASE_URL: config.api.url,
		PUBLIC_SUPABASE_ANON_KEY: config.keys.anon
	};
	if (!args['no-build']) {
		log('building the app (production)…');
		const b = spawnSync('npx', ['vite', 'build'], { cwd: projectRoot, env, stdio: 'ignore' });
		if (b.status !== 0) throw new Error('vite build failed: run `npm run build` to see why');
	}
	return spawn(process.execPath, [`${buildRoot}/build`], {
		cwd: projectRoot,
		env,
		stdio: 'ignore'
	});
}

async function waitFor(url: string, ms = 60_000) {
	const end = Date.now() + ms;
	while (Date.now() < end) {
		if (
			await fetch(url).then(
				(r) => r.ok,
				() => false
			)
		)
			return;
		await sleep(200);
	}
	throw new Error(`${url} did not answer within ${ms} ms`);
}

// ----------------------------------------------------------------------------- fixtures
/** A bot of Acme with an API key, made for this run and dropped at the end. */
async function benchBot(): Promise<{ id: string; key: string }> {
	const id = crypto.randomUUID();
	const key = `bf_live_bench_${id.replace(/-/g, '')}`;
	await sql`insert into public.bots (id, organization_id, name, channel, timezone)
		select ${id}, organization_id, 'Bench bot', 'web', 'Europe/Paris' from public.bots where id = ${ACME_SUPPORT}`;
	await sql`insert into public.bot_api_keys (bot_id, name, key_prefix, key_hash)
		values (${id}, 'bench', ${key.slice(0, 12)}, extensions.digest(${key}, 'sha256'))`;
	// The heap phase sends far more than a real bot: the admin's way to raise a bot's limits.
	await sql`insert into private.ingest_rate_limits (bot_id, requests_per_second, events_per_second)
		values (${id}, 1000, 100000)
		on conflict (bot_id) do update set requests_per_second = 1000, events_per_second = 100000`;
	return { id, key };
}

let seq = 0;
/** Sends `n` bot replies in one ingest call; resolves with the contents and when it returned. */
async function ingest(key: string, n: number, prefix: string) {
	const now = new Date().toISOString();
	const contents = Array.from({ length: n }, () => `${prefix}-${++seq}`);
	const res = await fetch(`${config.api.url}/functions/v1/ingest`, {
		method: 'POST',
		headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
		body: JSON.stringify({
			events: contents.map((c) => ({
				type: 'message',
				conversation_id: `bench-conv-${seq % 50}`,
				message_id: c,
				role: 'bot',
				content: c,
				response_time_ms: 200 + (seq % 1800),
				success: true,
				tokens_in: 50,
				tokens_out: 20,
				timestamp: now
			}))
		})
	});
	const body = await res.text();
	if (res.status !== 200) throw new Error(`ingest answered ${res.status}: ${body.slice(0, 200)}`);
	return { contents, returnedAt: Date.now() };
}

// ----------------------------------------------------------------------------- browser
/** Opens the bench bot's live page with a recorder of when each feed row appears. */
async function openLivePage(ctx: BrowserContext, botId: string): Promise<Page> {
	const page = await ctx.newPage();
	await page.addInitScript(() => {
		const seen = new Map<string, number>();
		(window as unknown as { __seen: Map<string, number> }).__seen = seen;
		new MutationObserver((records) => {
			const at = Date.now();
			for (const r of records)
				for (const n of r.addedNodes) {
					if (!(n instanceof HTMLElement)) continue;
					for (const p of n.matches('li[data-message-id]')
						? [n]
						: n.querySelectorAll('li[data-message-id]')) {
						const text = p.querySelector('.content')?.textContent ?? '';
						if (!seen.has(text)) seen.set(text, at);
					}
				}
		}).observe(document, { childList: true, subtree: true });
	});
	await page.goto(`${base}/bots/${botId}?range=1h`);
	await page
		.getByTestId('connection-status')
		.filter({ hasText: 'Live' })
		.waitFor({ timeout: 30_000 });
	return page;
}

async function eventToScreen(ctx: BrowserContext, bot: { id: string; key: string }) {
	const page = await openLivePage(ctx, bot.id);
	// The reference: a Node subscriber to the same changes through realtime-js.
	const client = createClient(config.api.url, config.keys.anon, {
		auth: { persistSession: false, autoRefreshToken: false },
		realtime: { transport: WebSocket as unknown as typeof globalThis.WebSocket }
	});
	await client.auth.signInWithPassword({ email: ALICE, password: PASSWORD });
	const nodeSeen = new Map<string, number>();
	const channel = client
		.channel(`bench-ref-${bot.id}`)
		.on(
			'postgres_changes',
			{ event: 'INSERT', schema: 'public', table: 'messages', filter: `bot_id=eq.${bot.id}` },
			(p) => nodeSeen.set(String((p.new as { content: string }).content), Date.now())
		);
	await new Promise<void>((resolve) => channel.subscribe((s) => s === 'SUBSCRIBED' && resolve()));
	await sleep(1000);

	const sent: { content: string; returnedAt: number }[] = [];
	const total = EVENT_RATE * EVENT_SECONDS;
	const start = Date.now();
	const inflight: Promise<void>[] = [];
	for (let i = 0; i < total; i++) {
		const due = start + (i * 1000) / EVENT_RATE;
		await sleep(Math.max(0, due - Date.now()));
		inflight.push(
			ingest(bot.key, 1, 'live').then(
				(r) => void sent.push({ content: r.contents[0], returnedAt: r.returnedAt })
			)
		);
	}
	await Promise.all(inflight);
	await sleep(3000);
	const pageSeen = new Map<string, number>(
		await page.evaluate(() => [...(window as unknown as { __seen: Map<string, number> }).__seen])
	);
	const pageLat: number[] = [];
	const nodeLat: number[] = [];
	for (const s of sent) {
		const p = pageSeen.get(s.content);
		const n = nodeSeen.get(s.content);
		if (p !== undefined) pageLat.push(Math.max(0, p - s.returnedAt));
		if (n !== undefined) nodeLat.push(Math.max(0, n - s.returnedAt));
	}
	await client.removeChannel(channel);
	await page.close();
	const page95 = percentile(pageLat, 95);
	const node95 = percentile(nodeLat, 95);
	return {
		rate_per_s: EVENT_RATE,
		seconds: EVENT_SECONDS,
		sent: sent.length,
		page_ms: stats(pageLat),
		missing_on_page: sent.length - pageLat.length,
		target_p95_ms: 150,
		met: page95 !== null && page95 <= 150,
		reference_node_realtime_js_ms: stats(nodeLat),
		ratio_p95_vs_reference: page95 !== null && node95 ? round(page95 / node95, 2) : null,
		note: 'latency = DOM row seen (MutationObserver, Date.now) minus the ingest call returning; both clocks are this machine'
	};
}

async function frameTimes(page: Page, seconds: number): Promise<number[]> {
	// A string, not a function: tsx would wrap a named inner function in a helper the page lacks.
	return page.evaluate(`new Promise((resolve) => {
		const deltas = [];
		let last = performance.now();
		const end = last + ${seconds * 1000};
		function tick(t) {
			deltas.push(t - last);
			last = t;
			if (t < end) requestAnimationFrame(tick);
			else resolve(deltas.slice(1));
		}
		requestAnimationFrame(tick);
	})`) as Promise<number[]>;
}

async function chartFrames(ctx: BrowserContext, bot: { id: string; key: string }) {
	// 10,000 replies in the last hour, written straight to the database (a bot's past hour).
	await sql`
		with c as (
			insert into public.conversations (bot_id, external_id, started_at, last_message_at)
			values (${bot.id}, 'bench-history', now() - interval '59 minutes', now()) returning id
		)
		insert into public.messages (bot_id, conversation_id, external_id, role, content, sent_at, response_time_ms, success)
		select ${bot.id}, c.id, 'hist-' || g, 'bot', 'history ' || g,
			now() - make_interval(secs => 3540 * random()), (200 + random() * 4000)::int, true
		from c, generate_series(1, ${CHART_POINTS}) g`;
	const page = await openLivePage(ctx, bot.id);
	await page.waitForFunction(
		(n) =>
			Number(document.querySelector('[data-testid="live-replies"]')?.getAttribute('data-points')) >=
			n,
		CHART_POINTS,
		{ timeout: 30_000 }
	);
	const idle = await frameTimes(page, FRAME_SECONDS);
	// 100 appends/s: ten batches of ten per second.
	let running = true;
	const sender = (async () => {
		const start = Date.now();
		for (let i = 0; running; i++) {
			await sleep(Math.max(0, start + i * 100 - Date.now()));
			void ingest(bot.key, APPENDS_PER_S / 10, 'frame').catch(() => {});
		}
	})();
	await sleep(1500);
	const busy = await frameTimes(page, FRAME_SECONDS);
	running = false;
	await sender;
	const points = Number(await page.getByTestId('live-replies').getAttribute('data-points'));
	await page.close();
	const p95 = percentile(busy, 95)!;
	return {
		points_on_chart: points,
		appends_per_s: APPENDS_PER_S,
		frame_ms: stats(busy),
		target_p95_ms: 16,
		met: p95 <= 16.7,
		reference_idle_frame_ms: stats(idle),
		ratio_p95_vs_idle: round(p95 / percentile(idle, 95)!, 2),
		note: 'requestAnimationFrame intervals; 16.7 ms is one 60 Hz frame'
	};
}

async function heapGrowth(ctx: BrowserContext, bot: { id: string; key: string }) {
	const page = await openLivePage(ctx, bot.id);
	const cdp = await ctx.newCDPSession(page);
	const heap = async () => {
		await cdp.send('HeapProfiler.collectGarbage');
		return (await cdp.send('Runtime.getHeapUsage')).usedSize;
	};
	await sleep(2000);
	const before = await heap();
	const batch = 100;
	const start = Date.now();
	for (let sentN = 0; sentN < HEAP_EVENTS; sentN += batch * 4) {
		await Promise.all(Array.from({ length: 4 }, () => ingest(bot.key, batch, 'heap')));
	}
	const sendSeconds = (Date.now() - start) / 1000;
	await sleep(5000);
	const after = await heap();
	const rows = await page.locator('li[data-message-id]').count();
	await page.close();
	const growthMb = (after - before) / 2 ** 20;
	return {
		events: HEAP_EVENTS,
		send_seconds: round(sendSeconds),
		heap_before_mb: round(before / 2 ** 20),
		heap_after_mb: round(after / 2 ** 20),
		growth_mb: round(growthMb),
		target_mb: 20,
		met: growthMb <= 20,
		feed_rows_in_dom: rows
	};
}

// ----------------------------------------------------------------------------- main
async function main() {
	const server = buildAndServe();
	let browser: Browser | null = null;
	const bots: string[] = [];
	const result: Record<string, unknown> = { quick, app: base, api: config.api.url };
	try {
		await waitFor(`${base}/sign-in`);
		browser = await chromium.launch({
			executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
			args: [
				'--no-sandbox',
				'--disable-gpu',
				'--disable-quic',
				'--disable-background-networking',
				'--disable-component-update',
				'--disable-sync',
				'--no-first-run',
				'--enable-precise-memory-info'
			]
		});
		if (wanted('load')) {
			log('page load…');
			result.load = await loadFigures({
				browser,
				base,
				buildRoot,
				botPath: `/bots/${ACME_SUPPORT}?range=24h`,
				runs: quick ? 2 : 5,
				signIn: { email: ALICE, password: PASSWORD }
			});
		}
		const ctx = await signedInContext(browser, base, ALICE, PASSWORD);
		for (const [name, fn] of [
			['event_to_screen', eventToScreen],
			['chart_frames', chartFrames],
			['heap', heapGrowth]
		] as const) {
			if (!wanted(name)) continue;
			log(`${name}…`);
			const bot = await benchBot();
			bots.push(bot.id);
			result[name] = await fn(ctx, bot).catch((e: Error) => ({ error: e.message }));
		}
		await ctx.close();
		if (!args['skip-explorer']) {
			log('explorer…');
			const { runExplorerBench } = await import('./explorer.ts');
			result.explorer = await runExplorerBench().catch((e: Error) => ({ error: e.message }));
		}
	} finally {
		await browser?.close();
		server.kill();
		for (const id of bots) await sql`delete from public.bots where id = ${id}`;
		await sql.end();
	}
	process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

main().catch((e) => {
	log(e instanceof Error ? (e.stack ?? e.message) : String(e));
	process.exit(1);
});

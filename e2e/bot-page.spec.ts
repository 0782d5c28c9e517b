// The live bot page, as its owner uses it: events sent to ingest appear without a reload, other
// tenants never see them, a realtime outage is announced and caught up exactly once, the range
// lives in the URL (Back included, even while the page starts), navigation leaves one channel,
// and axe is clean in both themes.
import { expect, test, type Page } from '@playwright/test';
import { startServices, stopServices } from '../stack/gateway/launcher.ts';
import { adminSql } from '../stack/testing.ts';
import { expectAccessibleInBothThemes } from './helpers/axe';
import { apiUrl, DEMO_PASSWORD, demoUsers } from './helpers/platform';

const ACME_SUPPORT = 'a1000000-0000-4000-8000-0000000000a1';
const GLOBEX_HELPDESK = 'b1000000-0000-4000-8000-0000000000b1';
const botPage = (id: string, query = '') => `/bots/${id}${query}`;

function tag(what: string): string {
	return `${what}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

/** One message through the real ingest function, as the bot would send it (a user's by default). */
async function ingestMessage(
	apiKey: string,
	content: string,
	fields: Record<string, unknown> = {}
) {
	const res = await fetch(`${apiUrl}/functions/v1/ingest`, {
		method: 'POST',
		headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
		body: JSON.stringify({
			events: [
				{
					type: 'message',
					conversation_id: tag('e2e-conv'),
					message_id: tag('e2e-msg'),
					role: 'user',
					content,
					timestamp: new Date().toISOString(),
					...fields
				}
			]
		})
	});
	expect(res.status, await res.text()).toBe(200);
}

const feed = (page: Page) => page.getByTestId('live-feed');
const status = (page: Page) => page.getByTestId('connection-status');

/** The live feed sits behind a tab on a phone: open it there. */
async function showFeed(page: Page) {
	const tab = page.getByRole('tab', { name: 'Live feed' });
	if (await tab.isVisible()) await tab.click();
}

/** The total message count the "Messages per hour" card shows ("1,204 in all"). */
async function messagesInAll(page: Page): Promise<number> {
	const text = await page.locator('[data-metric="per-hour"] .detail').textContent();
	return Number((text ?? '').replace(/[^0-9]/g, ''));
}

/** Signs in through the form and lands on `path` (the page streams: give a busy machine time). */
async function signIn(page: Page, email: string, path = '/') {
	await page.goto(`/sign-in?redirectTo=${encodeURIComponent(path)}`);
	await page.getByLabel('Email').fill(email);
	await page.getByLabel('Password').fill(DEMO_PASSWORD);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await expect(page.getByRole('link', { name: 'Skip to content' })).toBeAttached({
		timeout: 20_000
	});
}

async function openLive(page: Page, email: string, botId: string, query = '') {
	await signIn(page, email, botPage(botId, query));
	await expect(page).toHaveURL(new RegExp(`/bots/${botId}`));
	await expect(status(page)).toHaveText('Live', { timeout: 15_000 });
	await showFeed(page);
}

test('an event sent to ingest shows in the feed and the cards without a reload', async ({
	page
}) => {
	// 30 days: the demo's traffic spans 21, so no message leaves the window while the test runs
	// (in the last hour, one ages out about every minute and the count would drift).
	await openLive(page, demoUsers.alice, ACME_SUPPORT, '?range=30d');
	const before = await messagesInAll(page);
	const content = tag('Where is my parcel');
	await ingestMessage('bf_live_demo_acme_support', content);

	await expect(feed(page).getByText(content)).toBeVisible();
	// Cards are re-read from the read API, never counted in the browser.
	await expect.poll(() => messagesInAll(page)).toBe(before + 1);
	await expect(feed(page).getByText(content)).toHaveCount(1);
});

test("a second tenant's page never shows another tenant's event, nor opens its bot", async ({
	page
}) => {
	await openLive(page, demoUsers.bob, GLOBEX_HELPDESK);
	const acme = tag('Acme secret');
	const globex = tag('Globex hello');
	await ingestMessage('bf_live_demo_acme_support', acme);
	await ingestMessage('bf_live_demo_globex_helpdesk', globex);
	// Bob's own event arrives after Acme's was committed, so Acme's had its chance to leak.
	await expect(feed(page).getByText(globex)).toBeVisible();
	await expect(page.getByText(acme)).toHaveCount(0);

	// Another tenant's bot reads exactly like one that does not exist.
	for (const id of [ACME_SUPPORT, crypto.randomUUID()]) {
		await page.goto(botPage(id));
		await expect(page.getByRole('heading', { level: 1, name: 'Page not found' })).toBeVisible();
		await expect(page.getByText('belongs to an organization you are not in')).toBeVisible();
	}
});

test('a realtime outage shows "reconnecting", then the rows committed meanwhile appear exactly once', async ({
	page
}) => {
	test.setTimeout(120_000);
	await openLive(page, demoUsers.alice, ACME_SUPPORT, '?range=1h');
	const sql = adminSql();
	try {
		stopServices();
		await expect(status(page)).toHaveText(/Reconnecting|Offline/);

		// What ingest would have written while realtime was down (the database stayed up).
		const contents = [tag('missed one'), tag('missed two'), tag('missed three')];
		const convId = tag('e2e-outage');
		await sql.begin(async (tx) => {
			const [conv] = await tx`
				insert into public.conversations (bot_id, external_id, started_at, last_message_at)
				values (${ACME_SUPPORT}, ${convId}, now(), now()) returning id`;
			for (const [i, content] of contents.entries()) {
				await tx`
					insert into public.messages (bot_id, conversation_id, external_id, role, content, sent_at)
					values (${ACME_SUPPORT}, ${conv.id}, ${`${convId}-${i}`}, 'user', ${content}, now())`;
			}
		});

		await startServices();
		await expect(status(page)).toHaveText('Live', { timeout: 30_000 });
		for (const content of contents) {
			await expect(feed(page).getByText(content)).toHaveCount(1);
		}
		// A later catch-up (tab shown again) adds nothing twice.
		await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
		const after = tag('after outage');
		await ingestMessage('bf_live_demo_acme_support', after);
		await expect(feed(page).getByText(after)).toBeVisible();
		for (const content of contents) {
			await expect(feed(page).getByText(content)).toHaveCount(1);
		}
	} finally {
		await startServices();
		await sql.end();
	}
});

test('a range preset changes the URL, and a reload or going back restores the view', async ({
	page
}) => {
	await openLive(page, demoUsers.alice, ACME_SUPPORT);
	const range = page.getByRole('navigation', { name: 'Time range' });
	await expect(range.getByRole('link', { name: '24 h' })).toHaveAttribute('aria-current', 'true');

	await range.getByRole('link', { name: '7 d' }).click();
	await expect(page).toHaveURL(/\?range=7d$/);
	await expect(range.getByRole('link', { name: '7 d' })).toHaveAttribute('aria-current', 'true');
	await page.reload();
	await expect(range.getByRole('link', { name: '7 d' })).toHaveAttribute('aria-current', 'true');
	// Daily buckets for a week: the first table row is a day, not an hour.
	await expect(page.getByText('Times in Europe/Paris').first()).toBeVisible();

	await page.goBack();
	await expect(page).not.toHaveURL(/range=7d/);
	await expect(range.getByRole('link', { name: '24 h' })).toHaveAttribute('aria-current', 'true');
});

test('Back pressed while a reloaded page is still starting shows the view the address names', async ({
	page
}) => {
	await openLive(page, demoUsers.alice, ACME_SUPPORT);
	const range = page.getByRole('navigation', { name: 'Time range' });
	await range.getByRole('link', { name: '7 d' }).click();
	await expect(page).toHaveURL(/\?range=7d$/);

	// A slow phone: the reloaded page is still hydrating when Back is pressed.
	const cdp = await page.context().newCDPSession(page);
	await cdp.send('Emulation.setCPUThrottlingRate', { rate: 20 });
	await page.reload({ waitUntil: 'domcontentloaded' });
	await page.goBack({ waitUntil: 'commit' });
	await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });

	await expect(page).not.toHaveURL(/range=7d/);
	await expect(range.getByRole('link', { name: '24 h' })).toHaveAttribute('aria-current', 'true');
});

test('a chart bucket opens the conversations it counts, by click or keyboard', async ({ page }) => {
	await openLive(page, demoUsers.alice, ACME_SUPPORT);
	const volume = page.getByRole('region', { name: 'Message volume' });
	const buckets = volume.getByRole('link', { name: /messages\. Open its conversations/ });
	await expect(buckets.first()).toBeAttached();
	// One tab stop per chart: the current bucket; arrows move to the others.
	const last = buckets.last();
	await last.focus();
	await expect(page.getByText(/\d+ conversations started/).first()).toBeVisible();
	await page.keyboard.press('ArrowLeft');
	const focusedHref = await page.evaluate(() => (document.activeElement as HTMLAnchorElement).href);
	expect(focusedHref).toMatch(/\/conversations\?from=.+&to=.+/);
	await page.keyboard.press('Enter');
	await expect(page).toHaveURL(
		/\/bots\/a1000000-0000-4000-8000-0000000000a1\/conversations\?from=/
	);
	const url = new URL(page.url());
	expect(Date.parse(url.searchParams.get('to')!) - Date.parse(url.searchParams.get('from')!)).toBe(
		3_600_000
	);
});

test('navigating away and back ten times leaves one live channel', async ({ page }) => {
	const joins = new Map<string, number>();
	page.on('websocket', (ws) => {
		ws.on('framesent', ({ payload }) => {
			const text = typeof payload === 'string' ? payload : payload.toString();
			// Serializer 1.0.0 sends objects, 2.0.0 arrays: [join_ref, ref, topic, event, payload].
			const m =
				/"(realtime:bot-live:[^"]+)"\s*,\s*"(phx_join|phx_leave)"/.exec(text) ??
				/"topic":"(realtime:bot-live:[^"]+)","event":"(phx_join|phx_leave)"/.exec(text);
			if (!m) return;
			joins.set(m[1], (joins.get(m[1]) ?? 0) + (m[2] === 'phx_join' ? 1 : -1));
		});
	});
	await openLive(page, demoUsers.alice, ACME_SUPPORT);
	for (let i = 0; i < 10; i++) {
		const menu = page.getByRole('button', { name: 'Menu' });
		if (await menu.isVisible()) await menu.click();
		await page.getByRole('link', { name: 'Overview', exact: true }).click();
		await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
		await page.getByRole('link', { name: 'Acme Support' }).click();
		await expect(status(page)).toHaveText('Live');
	}
	const open = [...joins.values()].reduce((a, b) => a + b, 0);
	expect(open).toBe(1);
});

test('an empty bot explains how to send its first event, and comes alive when it arrives', async ({
	page
}) => {
	// A fresh bot with a key, created as its owner would in settings (here straight in SQL).
	const sql = adminSql();
	const botId = crypto.randomUUID();
	const key = `bf_live_${tag('e2e').replace(/-/g, '_')}`;
	try {
		await sql`insert into public.bots (id, organization_id, name, channel, timezone)
			select ${botId}, organization_id, 'E2E quiet bot', 'web', 'Asia/Kolkata'
			from public.bots where id = ${ACME_SUPPORT}`;
		await sql`insert into public.bot_api_keys (bot_id, name, key_prefix, key_hash)
			values (${botId}, 'e2e', ${key.slice(0, 12)}, extensions.digest(${key}, 'sha256'))`;
		await openLive(page, demoUsers.alice, botId);
		const help = page.getByTestId('first-event');
		await expect(help).toContainText(`${apiUrl}/functions/v1/ingest`);
		await expect(help).toContainText('curl -X POST');

		const content = tag('first ever');
		await ingestMessage(key, content);
		await expect(feed(page).getByText(content)).toBeVisible();
		await expect(help).toHaveCount(0);

		// Its first reply: one hour of the chart has a response time and its neighbours none, so
		// p50 and p95 are a dot each (a line needs two points; it used to draw nothing).
		await ingestMessage(key, tag('first reply'), { role: 'bot', response_time_ms: 420 });
		const responseTime = page.getByRole('region', { name: 'Response time (p50, p95)' });
		await expect(responseTime.locator('svg circle')).toHaveCount(2);
		await expect(responseTime.locator('svg circle').first()).toBeVisible();

		// The reply is also a dot of the last hour's scatter, drawn whole although it sits at
		// "now", on the plot's right edge, where half of it used to be cut off: as wide as high.
		const replies = page.getByTestId('live-replies');
		await expect(replies).toHaveAttribute('data-points', '1');
		const dot = () =>
			replies.locator('canvas').evaluate((canvas: HTMLCanvasElement) => {
				const { width, height } = canvas;
				const alpha = canvas.getContext('2d')!.getImageData(0, 0, width, height).data;
				const xs: number[] = [];
				const ys: number[] = [];
				for (let i = 3; i < alpha.length; i += 4)
					if (alpha[i] > 0) {
						xs.push(((i - 3) / 4) % width);
						ys.push(Math.floor((i - 3) / 4 / width));
					}
				if (!xs.length) return null;
				return {
					width: Math.max(...xs) - Math.min(...xs) + 1,
					height: Math.max(...ys) - Math.min(...ys) + 1
				};
			});
		await expect.poll(dot).not.toBeNull();
		const drawn = (await dot())!;
		expect(drawn.width).toBeGreaterThanOrEqual(drawn.height - 1);
	} finally {
		await sql`delete from public.bots where id = ${botId}`;
		await sql.end();
	}
});

test('the bot page has no WCAG 2.1 AA violation in light and dark mode', async ({ page }) => {
	// axe walks every chart's bucket links twice: slow on a busy two-core machine.
	test.setTimeout(240_000);
	await signIn(page, demoUsers.alice);
	await expectAccessibleInBothThemes(page, botPage(ACME_SUPPORT), async () => {
		await expect(status(page)).toHaveText('Live');
		await expect(
			page.getByRole('region', { name: 'Message volume' }).locator('svg').first()
		).toBeVisible();
	});
});

// Conversations explorer: filters live in the URL, a chart bucket's link lists exactly the
// conversations the bucket counted, the transcript shows each message's stored response time,
// other tenants get the same 404 as a missing conversation, axe is clean.
import { expect, test, type Page } from '@playwright/test';
import { signIn } from './helpers/auth';
import { expectAccessibleInBothThemes } from './helpers/axe';
import { apiUrl, DEMO_PASSWORD, demoUsers, signedInClient } from './helpers/platform';

const ACME_SUPPORT = 'a1000000-0000-4000-8000-0000000000a1';
const GLOBEX_HELPDESK = 'b1000000-0000-4000-8000-0000000000b1';
const list = (q = '') => `/bots/${ACME_SUPPORT}/conversations${q ? `?${q}` : ''}`;

const count = (page: Page) => page.getByTestId('conversation-count');
const countValue = async (page: Page) => Number((await count(page).innerText()).replace(/,/g, ''));

test('filters change the URL, and a reload or back/forward restores them', async ({ page }) => {
	await signIn(page, demoUsers.alice, DEMO_PASSWORD, list('range=30d'));
	await expect(page.getByRole('heading', { level: 1, name: 'Conversations' })).toBeVisible();
	const all = await countValue(page);
	expect(all).toBeGreaterThan(0);

	await page.getByLabel('Outcome').selectOption({ label: 'Resolved' });
	await expect(page).toHaveURL(/[?&]status=completed/);
	await expect(page).toHaveURL(/[?&]range=30d/);
	await page.getByLabel('Search messages').fill('"card payment"');
	await page.getByLabel('Search messages').press('Enter');
	await expect(page).toHaveURL(/[?&]q=%22card\+payment%22/);
	await expect(count(page)).not.toHaveText(String(all));
	const filtered = await countValue(page);
	expect(filtered).toBeGreaterThan(0);
	expect(filtered).toBeLessThan(all);

	await page.reload();
	await expect(page.getByLabel('Outcome')).toHaveValue('completed');
	await expect(page.getByLabel('Search messages')).toHaveValue('"card payment"');
	await expect(
		page.getByRole('navigation', { name: 'Time range' }).getByRole('link', { name: '30 d' })
	).toHaveAttribute('aria-current', 'true');
	expect(await countValue(page)).toBe(filtered);

	await page.goBack();
	await expect(page).not.toHaveURL(/q=/);
	await expect(page.getByLabel('Search messages')).toHaveValue('');
	await expect(page.getByLabel('Outcome')).toHaveValue('completed');
	await page.goForward();
	await expect(page.getByLabel('Search messages')).toHaveValue('"card payment"');
});

test('a search that matches nothing says so and clears back to the list', async ({ page }) => {
	await signIn(page, demoUsers.alice, DEMO_PASSWORD, list('range=30d&q=zzqqxxnothing'));
	await expect(
		page.getByRole('heading', { name: 'No conversation matches these filters' })
	).toBeVisible();
	await page.getByRole('link', { name: 'Clear filters' }).click();
	await expect(page).toHaveURL(/range=30d$/);
	await expect(count(page)).not.toHaveText('0');
});

test('chart buckets drill down: each list counts what its bucket counted', async ({ page }) => {
	const sb = await signedInClient(demoUsers.alice);
	const to = new Date();
	const from = new Date(to.getTime() - 3 * 86_400_000);
	const { data, error } = await sb.rpc('bot_usage_series', {
		p_bot_id: ACME_SUPPORT,
		p_from: from.toISOString(),
		p_to: to.toISOString(),
		p_bucket: 'hour'
	});
	expect(error).toBeNull();
	const rows = data!.map((r, i) => ({
		...r,
		end: i + 1 < data!.length ? data![i + 1].bucket_start : to.toISOString()
	}));
	// The busiest bucket of each kind (links as the live page builds them, per the contract).
	const pick = (key: 'conversations' | 'resolved_conversations' | 'handed_off_conversations') =>
		rows.reduce((a, b) => (Number(b[key]) > Number(a[key]) ? b : a));
	const cases = [
		{ bucket: pick('conversations'), value: 'conversations', extra: '' },
		{
			bucket: pick('resolved_conversations'),
			value: 'resolved_conversations',
			extra: '&by=ended&status=completed'
		},
		{
			bucket: pick('handed_off_conversations'),
			value: 'handed_off_conversations',
			extra: '&by=handed_off'
		}
	] as const;
	await signIn(page, demoUsers.alice, DEMO_PASSWORD, list());
	for (const { bucket, value, extra } of cases) {
		const expected = Number(bucket[value]);
		expect(expected, `a ${value} bucket with data`).toBeGreaterThan(0);
		const q = `from=${new Date(bucket.bucket_start).toISOString()}&to=${new Date(bucket.end).toISOString()}${extra}`;
		await page.goto(list(q));
		await expect(count(page)).toHaveText(String(expected));
		await expect(page.getByRole('row')).toHaveCount(Math.min(expected, 50) + 1);
	}
});

test('a bucket of the bot page chart opens, with Enter, a list counting what it showed', async ({
	page
}) => {
	await signIn(page, demoUsers.alice, DEMO_PASSWORD, `/bots/${ACME_SUPPORT}?range=7d`);
	// The success chart's buckets link to the conversations handed off in them (their label
	// says how many); take the busiest one.
	const buckets = page.getByRole('link', {
		name: /handed off\. Open the handed-off conversations/
	});
	await expect(buckets.first()).toBeAttached({ timeout: 30_000 });
	const labels = await buckets.evaluateAll((links) =>
		links.map((a) => a.getAttribute('aria-label') ?? a.textContent ?? '')
	);
	const values = labels.map((l) =>
		Number(/([\d,]+) handed off\./.exec(l)?.[1].replace(/,/g, '') ?? 0)
	);
	const best = values.indexOf(Math.max(...values));
	expect(values[best]).toBeGreaterThan(0);
	await buckets.nth(best).focus();
	await page.keyboard.press('Enter');
	await expect(page).toHaveURL(/\/conversations\?.*by=handed_off/);
	await expect(count(page)).toHaveText(values[best].toLocaleString('en-US'));
});

test('a transcript shows every message with its response time as stored', async ({ page }) => {
	await signIn(page, demoUsers.alice, DEMO_PASSWORD, list('range=30d&status=completed'));
	const first = page.getByRole('table').getByRole('link').first();
	await first.click();
	await expect(page).toHaveURL(/\/conversations\/[0-9a-f-]{36}$/);
	const id = page.url().split('/').at(-1)!;
	await expect(page.getByTestId('outcome')).toHaveText('Resolved');

	const sb = await signedInClient(demoUsers.alice);
	const { data: stored } = await sb
		.from('messages')
		.select('id, role, response_time_ms, model')
		.eq('conversation_id', id)
		.order('sent_at')
		.order('id');
	expect(stored!.length).toBeGreaterThan(1);
	await expect(page.getByTestId('message')).toHaveCount(stored!.length);
	const shown = await page.getByTestId('response-time').allInnerTexts();
	const expected = stored!
		.filter((m) => m.response_time_ms !== null)
		.map((m) => `${m.response_time_ms!.toLocaleString('en-US')} ms`);
	expect(expected.length).toBeGreaterThan(0);
	expect(shown).toEqual(expected);
	const model = stored!.find((m) => m.model)?.model;
	if (model) await expect(page.getByText(model).first()).toBeVisible();
	await expect(page.getByText(/Times in Europe\/|Times in /)).toBeVisible();
});

test('an active conversation transcript appends new messages live, without reload', async ({
	page
}) => {
	const external = `e2e-live-${Date.now()}-${Math.random().toString(36).slice(2, 7)}`;
	const send = async (n: number, role: string, content: string) => {
		const res = await fetch(`${apiUrl}/functions/v1/ingest`, {
			method: 'POST',
			headers: {
				Authorization: 'Bearer bf_live_demo_acme_support',
				'Content-Type': 'application/json'
			},
			body: JSON.stringify({
				events: [
					{
						type: 'message',
						conversation_id: external,
						message_id: `${external}-${n}`,
						role,
						content,
						timestamp: new Date().toISOString(),
						...(role === 'bot' ? { response_time_ms: 777, model: 'gpt-4o-mini' } : {})
					}
				]
			})
		});
		expect(res.status, await res.text()).toBeLessThan(300);
	};
	await send(1, 'user', 'Is my parcel on its way?');
	const sb = await signedInClient(demoUsers.alice);
	const { data } = await sb
		.from('conversations')
		.select('id, status')
		.eq('bot_id', ACME_SUPPORT)
		.eq('external_id', external)
		.single();
	expect(data!.status).toBe('active');
	await signIn(
		page,
		demoUsers.alice,
		DEMO_PASSWORD,
		`/bots/${ACME_SUPPORT}/conversations/${data!.id}`
	);
	await expect(page.getByTestId('message')).toHaveCount(1);
	await expect(page.getByText('Live: new messages appear here')).toBeVisible({ timeout: 15_000 });
	await send(2, 'bot', 'Yes, it ships today.');
	await expect(page.getByTestId('message')).toHaveCount(2);
	await expect(page.getByTestId('message').nth(1)).toContainText('Yes, it ships today.');
	await expect(page.getByTestId('response-time')).toHaveText(['777 ms']);
});

test('another tenant opening a conversation by URL gets the same 404 as a missing one', async ({
	page
}) => {
	const sb = await signedInClient(demoUsers.alice);
	const { data } = await sb.from('conversations').select('id').eq('bot_id', ACME_SUPPORT).limit(1);
	const aliceConversation = data![0].id;
	await signIn(page, demoUsers.bob);
	const shown = async (path: string) => {
		const res = await page.goto(path);
		expect(res!.status(), path).toBe(404);
		await expect(page.getByRole('heading', { level: 1 })).toHaveText('Page not found');
		return page.getByRole('main').innerText();
	};
	const missing = await shown(`/bots/${GLOBEX_HELPDESK}/conversations/${crypto.randomUUID()}`);
	expect(missing).toContain('belongs to an organization you are not in');
	// Alice's conversation under Bob's own bot, and under Alice's bot; then a missing bot.
	expect(await shown(`/bots/${GLOBEX_HELPDESK}/conversations/${aliceConversation}`)).toBe(missing);
	expect(await shown(`/bots/${ACME_SUPPORT}/conversations/${aliceConversation}`)).toBe(missing);
	expect(await shown(`/bots/${ACME_SUPPORT}/conversations`)).toBe(missing);
	expect(await shown(`/bots/${crypto.randomUUID()}/conversations`)).toBe(missing);
});

test('the list and a transcript are accessible in light and dark', async ({ page }) => {
	// Six pages through axe, on a machine other builds share.
	test.setTimeout(180_000);
	await signIn(page, demoUsers.alice, DEMO_PASSWORD, list());
	await expectAccessibleInBothThemes(page, list('range=30d&status=handed_off'), async () => {
		await expect(count(page)).toBeVisible();
	});
	const href = await page.getByRole('table').getByRole('link').first().getAttribute('href');
	await expectAccessibleInBothThemes(page, href!, async () => {
		await expect(page.getByTestId('message').first()).toBeVisible();
	});
	await expectAccessibleInBothThemes(page, list('range=1h&q=zzqqxxnothing'), async () => {
		await expect(
			page.getByRole('heading', { name: 'No conversation matches these filters' })
		).toBeVisible();
	});
});

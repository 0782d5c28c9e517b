// Export of a filtered view: the CSV's rows are exactly the conversations the list shows.
// Where the browser can write to a picked file (desktop Chromium) the page streams into it with
// progress; a phone browser has no such API and gets the browser's own download.
import { readFile } from 'node:fs/promises';
import { expect, test, type Page } from '@playwright/test';
import { signIn } from './helpers/auth';
import { DEMO_PASSWORD, demoUsers } from './helpers/platform';

const ACME_SUPPORT = 'a1000000-0000-4000-8000-0000000000a1';
const LIST = `/bots/${ACME_SUPPORT}/conversations`;
const VIEW = `${LIST}?range=30d&status=completed&q=%22card+payment%22`;
/** Filters on an intent of its messages, no handoff and its median response time. */
const NARROW = `${LIST}?range=7d&intent=payment_issue&handoff=no&min_response=1000&max_response=3000`;

/** Every conversation id the list shows, following its pages. */
async function listedIds(page: Page): Promise<string[]> {
	const ids: string[] = [];
	for (;;) {
		ids.push(...(await page.getByRole('table').getByRole('link').allInnerTexts()));
		const next = page.getByRole('link', { name: 'Next page' });
		if ((await next.count()) === 0) return ids;
		const cursor = new URL((await next.getAttribute('href'))!, page.url()).searchParams.get(
			'after'
		)!;
		await next.click();
		await expect(page).toHaveURL((url) => url.searchParams.get('after') === cursor);
		await expect(page.locator('.table-wrap[aria-busy="false"]')).toBeVisible();
	}
}

/** The first column (conversation_id) of each data row of a CSV (no quoted line breaks here). */
function firstColumn(csv: string): string[] {
	const lines = csv
		.replace(/^\uFEFF/, '')
		.split(/\r?\n/)
		.filter(Boolean);
	expect(lines[0].split(',')[0]).toBe('conversation_id');
	return lines.slice(1).map((l) => l.split(',')[0].replace(/^"|"$/g, ''));
}

for (const [name, view] of [
	['search + status', VIEW],
	['intent + handoff + response time', NARROW]
])
	test(`the export of a view filtered by ${name} holds exactly the listed conversations`, async ({
		page
	}, info) => {
		const phone = info.project.name === 'phone';
		// The page under test writes through the browser's save-file API; here the "disk" is an
		// array the test reads back. A phone browser has no such API at all.
		await page.addInitScript((phone) => {
			const w = window as unknown as Record<string, unknown>;
			if (phone) {
				delete w.showSaveFilePicker;
				return;
			}
			const saved: string[] = [];
			w.__saved = saved;
			w.showSaveFilePicker = async () => ({
				createWritable: async () => {
					const decoder = new TextDecoder();
					return new WritableStream<Uint8Array>({
						write: (chunk) => void saved.push(decoder.decode(chunk, { stream: true })),
						close: () => void (w.__closed = true)
					});
				}
			});
		}, phone);

		await signIn(page, demoUsers.alice, DEMO_PASSWORD, view);
		const total = Number(
			(await page.getByTestId('conversation-count').innerText()).replace(/,/g, '')
		);
		expect(total).toBeGreaterThan(0);
		const exportButton = page.getByRole('link', { name: 'Export CSV' });
		await expect(page.getByText(`${total} rows, the conversations listed.`)).toBeVisible();

		let csv: string;
		if (phone) {
			const download = page.waitForEvent('download');
			await exportButton.click();
			const file = await download;
			expect(file.suggestedFilename()).toMatch(/^acme-support-conversations-.*\.csv$/);
			csv = await readFile((await file.path())!, 'utf8');
			await expect(
				page.getByRole('status').filter({ hasText: 'Your browser is saving' })
			).toBeVisible();
		} else {
			await exportButton.click();
			await expect(page.getByText(`Saved ${total} rows`).first()).toBeVisible();
			expect(
				await page.evaluate(() => (window as unknown as { __closed?: boolean }).__closed)
			).toBe(true);
			csv = (await page.evaluate(() => (window as unknown as { __saved: string[] }).__saved)).join(
				''
			);
		}
		const exported = firstColumn(csv);
		expect(exported.length).toBe(total);
		const listed = await listedIds(page);
		expect(listed.length).toBe(total);
		expect([...exported].sort()).toEqual([...listed].sort());
	});

test('only daily metrics, whole-bot figures, say which list filters they leave out', async ({
	page
}) => {
	await signIn(page, demoUsers.alice, DEMO_PASSWORD, `${VIEW}&intent=payment_issue`);
	await expect(page.getByText(/^[\d,]+ rows, the conversations listed\.$/)).toBeVisible();
	await page.getByRole('radio', { name: 'Messages' }).check();
	await expect(
		page.getByText('The messages of the conversations listed, sent in the range.')
	).toBeVisible();
	await page.getByRole('radio', { name: 'Daily metrics' }).check();
	await expect(
		page.getByText(
			"Daily metrics cover the whole bot per day: the list's status, search, intent filters do not apply."
		)
	).toBeVisible();
});

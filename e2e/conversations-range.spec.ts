// The conversations list's period is the bot page's range picker: a preset or a custom range of
// whole days in the bot's zone goes into the URL with the other filters kept, a reload and
// back/forward restore it, and the count is the read API's count for exactly that range.
import { expect, test, type Locator, type Page } from '@playwright/test';
import { daysRange } from '../src/lib/range';
import { signIn } from './helpers/auth';
import { DEMO_PASSWORD, demoUsers, signedInClient } from './helpers/platform';

const ACME_SUPPORT = 'a1000000-0000-4000-8000-0000000000a1';
const list = (q = '') => `/bots/${ACME_SUPPORT}/conversations${q ? `?${q}` : ''}`;
const count = (page: Page) => page.getByTestId('conversation-count');
const countValue = async (page: Page) => Number((await count(page).innerText()).replace(/,/g, ''));
const picker = (page: Page) => page.getByRole('navigation', { name: 'Time range' });

/** The read API's count of completed conversations started in [from, to). */
async function completedBetween(from: string, to: string) {
	const sb = await signedInClient(demoUsers.alice);
	const { data, error } = await sb.rpc('count_explored_conversations', {
		p_bot_id: ACME_SUPPORT,
		p_from: from,
		p_to: to,
		p_status: 'completed'
	});
	expect(error).toBeNull();
	return Number(data);
}

/** 'YYYY-MM-DD' of `daysAgo` days before today in `timeZone`. */
function localDay(timeZone: string, daysAgo: number) {
	const today = new Intl.DateTimeFormat('en-CA', { timeZone }).format(new Date());
	const d = new Date(`${today}T12:00:00Z`);
	d.setUTCDate(d.getUTCDate() - daysAgo);
	return d.toISOString().slice(0, 10);
}
/** How bits-ui's calendar names a day button. */
const dayName = (day: string) =>
	new Intl.DateTimeFormat('en-US', {
		weekday: 'long',
		month: 'long',
		day: 'numeric',
		year: 'numeric',
		timeZone: 'UTC'
	}).format(new Date(`${day}T12:00:00Z`));

const monthNames = Array.from({ length: 12 }, (_, m) =>
	new Intl.DateTimeFormat('en-US', { month: 'long', timeZone: 'UTC' }).format(Date.UTC(2026, m, 15))
);
/**
 * Pages the calendar to `day`'s month, as a person would (three days can straddle two months,
 * and the calendar opens on the current one), then clicks the day.
 */
async function pickDay(dialog: Locator, day: string) {
	const heading = dialog.getByText(new RegExp(`^(${monthNames.join('|')}) \\d{4}$`));
	const target = Number(day.slice(0, 4)) * 12 + Number(day.slice(5, 7)) - 1;
	for (let step = 0; ; step++) {
		const shown = await heading.innerText();
		const [name, year] = shown.split(' ');
		const at = Number(year) * 12 + monthNames.indexOf(name);
		if (at === target) break;
		expect(step, `the calendar never reached ${day}`).toBeLessThan(24);
		await dialog.getByRole('button', { name: at > target ? /^Previous/ : /^Next/ }).click();
		await expect(heading).not.toHaveText(shown);
	}
	await dialog.getByRole('button', { name: dayName(day), exact: true }).click();
}

test('a preset and a custom range from the picker land in the URL and survive reload and back', async ({
	page
}) => {
	await signIn(page, demoUsers.alice, DEMO_PASSWORD, list('status=completed'));
	await expect(count(page)).toBeVisible();
	// The default period is the 7-day preset, marked as the current one.
	await expect(picker(page).getByRole('link', { name: '7 d' })).toHaveAttribute(
		'aria-current',
		'true'
	);

	await picker(page).getByRole('link', { name: '30 d' }).click();
	await expect(page).toHaveURL(/\?range=30d&status=completed$/);
	await expect(picker(page).getByRole('link', { name: '30 d' })).toHaveAttribute(
		'aria-current',
		'true'
	);
	const month = await countValue(page);
	expect(month).toBeGreaterThan(0);

	// A custom range: three whole days ending yesterday, in the bot's zone.
	const { data: bot } = await (
		await signedInClient(demoUsers.alice)
	)
		.from('bots')
		.select('timezone')
		.eq('id', ACME_SUPPORT)
		.single();
	const zone = bot!.timezone;
	const [start, end] = [localDay(zone, 3), localDay(zone, 1)];
	await picker(page)
		.getByRole('button', { name: /Custom/ })
		.click();
	const dialog = page.getByRole('dialog', { name: 'Custom range' });
	await expect(dialog.getByText(`Whole days in ${zone}.`)).toBeVisible();
	for (const day of [start, end]) await pickDay(dialog, day);
	await dialog.getByRole('button', { name: 'Apply' }).click();

	const expected = daysRange(start, end, zone);
	const from = expected.from.toISOString();
	const to = expected.to.toISOString();
	await expect(page).toHaveURL(
		`${list(`from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&status=completed`)}`
	);
	const custom = picker(page).getByRole('button', { name: /–/ });
	await expect(custom).toHaveAttribute('aria-current', 'true');
	const label = (await custom.innerText()).replace('▾', '').trim();
	expect(label).toMatch(/^\d{1,2} \w{3} \d{4} – \d{1,2} \w{3} \d{4}$/);
	await expect(count(page)).toHaveText((await completedBetween(from, to)).toLocaleString('en-US'));
	const shown = await countValue(page);
	expect(shown).toBeLessThanOrEqual(month);

	await page.reload();
	await expect(page.getByLabel('Outcome')).toHaveValue('completed');
	await expect(custom).toHaveText(new RegExp(label));
	await expect(custom).toHaveAttribute('aria-current', 'true');
	expect(await countValue(page)).toBe(shown);

	await page.goBack();
	await expect(page).toHaveURL(/\?range=30d&status=completed$/);
	await expect(picker(page).getByRole('link', { name: '30 d' })).toHaveAttribute(
		'aria-current',
		'true'
	);
	await page.goForward();
	await expect(page).toHaveURL(/from=.*&to=.*&status=completed$/);
	await expect(custom).toHaveAttribute('aria-current', 'true');
});

test('a chart bucket link shows its exact hours in the picker, and a filter keeps them', async ({
	page
}) => {
	const to = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000);
	const from = new Date(to.getTime() - 3_600_000);
	const q = `from=${from.toISOString()}&to=${to.toISOString()}`;
	await signIn(page, demoUsers.alice, DEMO_PASSWORD, list(q));
	const custom = picker(page).getByRole('button', { name: /\d{2}:\d{2}–\d{2}:\d{2}/ });
	await expect(custom).toHaveAttribute('aria-current', 'true');
	await page.getByLabel('Outcome').selectOption({ label: 'Resolved' });
	await expect(page).toHaveURL(
		list(
			`from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}&status=completed`
		)
	);
	await expect(count(page)).toHaveText(
		(await completedBetween(from.toISOString(), to.toISOString())).toLocaleString('en-US')
	);
});

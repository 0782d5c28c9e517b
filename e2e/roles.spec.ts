import { expect, test } from '@playwright/test';
import { signIn } from './helpers/auth';
import { demoUsers, signedInClient } from './helpers/platform';

test('a viewer sees read-only settings: no create, revoke, invite or role controls', async ({
	page
}) => {
	await signIn(page, demoUsers.carol);
	await page.goto('/settings');
	await expect(page.getByRole('heading', { level: 1, name: 'Bots and API keys' })).toBeVisible();
	await expect(page.getByRole('note')).toContainText('You are a viewer');
	await expect(page.getByRole('link', { name: 'Acme Support' })).toBeVisible();
	await expect(page.getByRole('button', { name: 'Create bot' })).toHaveCount(0);
	await expect(page.getByRole('button', { name: 'Rename' })).toHaveCount(0);
	await expect(page.getByRole('button', { name: 'Save retention' })).toHaveCount(0);

	await page.getByRole('link', { name: 'Acme Support' }).click();
	await expect(page.getByRole('heading', { level: 2, name: 'API keys' })).toBeVisible();
	await expect(page.getByRole('cell', { name: /^bf_live_demo/ }).first()).toBeVisible();
	await expect(page.getByRole('button', { name: 'Create key' })).toHaveCount(0);
	await expect(page.getByRole('button', { name: /^Revoke/ })).toHaveCount(0);
	await expect(page.getByRole('button', { name: 'Save bot' })).toHaveCount(0);

	await page.goto('/settings/members');
	await expect(page.getByRole('cell', { name: /alice@botflow\.test/ })).toBeVisible();
	await expect(page.getByRole('button', { name: 'Send invitation' })).toHaveCount(0);
	await expect(page.getByRole('button', { name: /^Remove/ })).toHaveCount(0);
	await expect(page.getByRole('combobox', { name: /^Role of/ })).toHaveCount(0);
});

test('a viewer writing straight to the REST API is refused by the database', async () => {
	const carol = await signedInClient(demoUsers.carol);
	const { data: bots } = await carol.from('bots').select('id, name, organization_id').limit(1);
	expect(bots).toHaveLength(1);
	const bot = bots![0];

	const rename = await carol.from('bots').update({ name: 'Hijacked' }).eq('id', bot.id).select();
	expect(rename.data ?? []).toEqual([]);
	const insert = await carol
		.from('bots')
		.insert({ organization_id: bot.organization_id, name: 'Sneaky', channel: 'web' });
	expect(insert.error?.code).toBe('42501');
	const key = await carol.rpc('create_bot_api_key', { p_bot_id: bot.id, p_name: 'sneaky' });
	expect(key.error?.code).toBe('42501');

	const { data: after } = await carol.from('bots').select('name').eq('id', bot.id).single();
	expect(after?.name).toBe(bot.name);
});

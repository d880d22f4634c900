/**
 * API keys made by the workspace owner in the app: the owner adds the workspace to the relay,
 * creates a key in "API keys" (Models → API keys), uses it on the relay's OpenAI-compatible
 * `/v1/models` (200), revokes it in the dialog, and the same request is then refused (401).
 * Before the relay keeps the workspace, the dialog says so instead of failing.
 */
import type { BrowserContext } from '@playwright/test';
import { expect, test, watchContext } from './suite';
import { createWorkspace, keepOnRelay, openApp } from './helpers';
import { startRelayProcess, type RelayProcess } from './relays';

let relay: RelayProcess | undefined;
let context: BrowserContext | undefined;

test.afterAll(async () => {
	await context?.close().catch(() => {});
	await relay?.kill();
});

test('the owner creates an API key in the app, uses it on /v1 and revokes it', async ({ browser }) => {
	relay = await startRelayProcess(4290);
	context = await browser.newContext({ baseURL: relay.url, locale: 'en-US' });
	watchContext(context);
	const page = await context.newPage();
	await openApp(page);
	await createWorkspace(page, 'Keys');

	const openKeys = async () => {
		await page.getByRole('button', { name: 'Models' }).click();
		await page.getByRole('dialog', { name: 'Models in this browser' }).getByRole('button', { name: 'API keys' }).click();
		return page.getByRole('dialog', { name: 'API keys' });
	};
	await page.getByRole('button', { name: 'New chat' }).click();

	// Not on the relay yet: a clear message, no key can be made.
	let keys = await openKeys();
	await expect(keys.getByRole('alert')).toContainText('The relay does not keep a copy of this workspace');
	await expect(keys.getByRole('button', { name: 'Create API key' })).toHaveCount(0);
	await keys.getByRole('button', { name: 'Close' }).click();

	await page.getByRole('button', { name: 'Invite' }).click();
	const invite = page.getByRole('dialog', { name: /^Invite to / });
	await keepOnRelay(invite);

	keys = await openKeys();
	// The roster reaches the relay by sync moments after it archives the workspace.
	await expect(async () => {
		if (await keys.getByRole('button', { name: 'Try again' }).isVisible()) await keys.getByRole('button', { name: 'Try again' }).click();
		await expect(keys.getByText('No API keys yet.')).toBeVisible({ timeout: 1000 });
	}).toPass({ timeout: 20_000 });

	// A key needs a name: nothing is made without one.
	await keys.getByRole('button', { name: 'Create API key' }).click();
	await expect(keys.getByRole('alert')).toHaveText('Give the key a name that says what it is for.');
	await expect(keys.getByText('No API keys yet.')).toBeVisible();

	await keys.getByRole('textbox', { name: 'Key name' }).fill('Editor plugin');
	await keys.getByRole('button', { name: 'Create API key' }).click();
	const shown = keys.getByRole('textbox', { name: 'New API key' });
	await expect(shown).toHaveValue(/^sk-outpost-/);
	const key = await shown.inputValue();
	await keys.getByRole('button', { name: 'Copy' }).click();
	await expect(keys.getByRole('status')).toHaveText('Copied');
	await expect(keys.getByRole('list', { name: 'API keys of this workspace' }).getByRole('listitem')).toHaveText([/Editor plugin/]);

	const models = () => fetch(`${relay!.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
	const ok = await models();
	expect(ok.status).toBe(200);
	expect(((await ok.json()) as { object: string }).object).toBe('list');

	// Shown once: reopening the dialog lists the key but never its secret.
	await keys.getByRole('button', { name: 'Close' }).click();
	keys = await openKeys();
	await expect(keys.getByRole('list', { name: 'API keys of this workspace' }).getByRole('listitem')).toHaveText([/Editor plugin/]);
	await expect(keys.getByRole('textbox', { name: 'New API key' })).toHaveCount(0);

	// Revoking asks first; Escape cancels the step only, and the key stays.
	await keys.getByRole('button', { name: 'Revoke Editor plugin' }).click();
	const confirm = keys.getByRole('alertdialog', { name: 'Revoke Editor plugin?' });
	await expect(confirm.getByRole('button', { name: 'Cancel' })).toBeFocused();
	await page.keyboard.press('Escape');
	await expect(confirm).toHaveCount(0);
	await expect(keys).toBeVisible();
	await expect(keys.getByRole('button', { name: 'Revoke Editor plugin' })).toBeFocused();
	expect((await models()).status).toBe(200);
	await keys.getByRole('button', { name: 'Revoke Editor plugin' }).click();
	await confirm.getByRole('button', { name: 'Revoke', exact: true }).click();
	await expect(keys.getByText('No API keys yet.')).toBeVisible();
	expect((await models()).status).toBe(401);
});

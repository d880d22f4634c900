/**
 * Every peer can use every model in the mesh: a browser loads the suite's tiny GGUF from
 * the relay and shares it with the workspace; another browser (separate context, no model
 * of its own) sees it in the Model picker as served by that member, and gets its answer
 * over the mesh, with a usage trace naming the peer that served it. Unsharing withdraws it;
 * the choice to share is kept across a reload.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { llamaGgufPath, tinyLlama } from '../fixtures/gguf';
import { channelLink, createWorkspace, openApp, setDisplayName } from './helpers';

// The relay of playwright.config.ts serves <its data dir>/models.
const MODELS_DIR = join('test-results', 'relay-data', 'models');

const contexts: BrowserContext[] = [];

test.beforeAll(() => {
	mkdirSync(MODELS_DIR, { recursive: true });
	copyFileSync(llamaGgufPath(), join(MODELS_DIR, `${tinyLlama.name}.gguf`));
});
test.afterEach(async () => {
	for (const context of contexts.splice(0)) await context.close().catch(() => {});
});

async function inviteLinkOf(page: Page): Promise<string> {
	await page.getByRole('button', { name: 'Invite' }).click();
	const dialog = page.getByRole('dialog', { name: /^Invite to / });
	const link = await dialog.getByRole('textbox', { name: 'Invite link' }).inputValue();
	await dialog.getByRole('button', { name: 'Close' }).click();
	return link;
}

async function joinWith(page: Page, link: string, name: string): Promise<void> {
	await page.getByRole('button', { name: 'Join workspace' }).first().click();
	const dialog = page.getByRole('dialog', { name: 'Join a workspace' });
	await dialog.getByRole('textbox', { name: 'Invite link' }).fill(link);
	await dialog.getByRole('textbox', { name: 'Display name' }).fill(name);
	await dialog.getByRole('button', { name: 'Join' }).click();
	await expect(dialog).toBeHidden();
}

test('a model shared by one browser answers another browser of the workspace', async ({ browser }) => {
	const device = async () => {
		const context = await browser.newContext({ locale: 'en-US' });
		contexts.push(context);
		const page = await context.newPage();
		await openApp(page);
		return page;
	};
	const ada = await device();
	await setDisplayName(ada, 'Ada');
	await createWorkspace(ada, 'Lab');
	const link = await inviteLinkOf(ada);

	// Ada loads the tiny model and shares it.
	await ada.getByRole('button', { name: 'New chat' }).click();
	await ada.getByRole('button', { name: 'Models', exact: true }).click();
	const dialog = ada.getByRole('dialog', { name: 'Models in this browser' });
	const share = dialog.getByRole('checkbox', { name: 'Share this model with the workspace' });
	await expect(share).not.toBeChecked();
	await dialog.getByRole('button', { name: `Load ${tinyLlama.name}.gguf` }).click();
	await expect(dialog.getByText(`Loaded in this browser: ${tinyLlama.name}`)).toBeVisible({ timeout: 30_000 });
	await share.check();
	await dialog.getByRole('button', { name: 'Close' }).click();

	// Bea has no model of her own: the picker lists Ada's, served by Ada, on wllama.
	const bea = await device();
	await joinWith(bea, link, 'Bea');
	await expect(bea.getByRole('navigation', { name: 'Channels' }).getByRole('heading', { name: 'Lab' })).toBeVisible({ timeout: 20_000 });
	await expect(channelLink(bea, 'general')).toBeVisible();
	await bea.getByRole('button', { name: 'New chat' }).click();
	const picker = bea.getByRole('combobox', { name: 'Model' });
	const option = picker.getByRole('option', { name: new RegExp(`^${tinyLlama.name} — peer Ada \\(wllama`) });
	await expect(option).toHaveCount(1, { timeout: 40_000 });
	await picker.selectOption({ label: (await option.textContent())!.trim() });

	const box = bea.getByRole('textbox', { name: 'Message the model' });
	await box.fill('What is a CRDT?');
	await box.press('Enter');
	const answer = bea.getByRole('region', { name: 'Messages with the model' }).getByRole('article', { name: 'Assistant' }).first();
	await expect(answer).toContainText(`${tinyLlama.name} · served by Ada`, { timeout: 30_000 });
	await expect(answer).toContainText(/\d+ in, \d+ out/);

	// Ada stops sharing: the model leaves Bea's picker.
	await ada.getByRole('button', { name: 'Models', exact: true }).click();
	await dialog.getByRole('checkbox', { name: 'Share this model with the workspace' }).uncheck();
	await dialog.getByRole('button', { name: 'Close' }).click();
	await expect(option).toHaveCount(0, { timeout: 20_000 });
	await expect(bea.getByText('No model is available yet.')).toBeVisible();

	// The choice is kept on the device: shared again, it is still ticked after a reload.
	await ada.getByRole('button', { name: 'Models', exact: true }).click();
	await share.check();
	await dialog.getByRole('button', { name: 'Close' }).click();
	await ada.reload();
	await ada.getByRole('link', { name: 'Chat 1' }).click();
	await ada.getByRole('button', { name: 'Models', exact: true }).click();
	await expect(share).toBeChecked();
	await expect(dialog.getByText('No model is loaded yet: the one you load will be shared.')).toBeVisible();
});

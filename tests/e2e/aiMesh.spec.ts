/**
 * Every peer can use every model in the mesh: a browser loads the suite's tiny GGUF from
 * the relay and shares it with the workspace; another browser (separate context, no model
 * of its own) sees it in the Model picker as served by that member, and gets its answer
 * over the mesh, with a usage trace naming the peer that served it. Unsharing withdraws it;
 * the choice to share is kept across a reload. In a channel, `@model question` from one member
 * streams the model's answer into the channel, where a third member watches it arrive.
 *
 * It runs on the suite's shared relay, after the accessibility and AI specs' browsers have come
 * and gone from the same address: before the mesh turned off gossipsub's IP colocation penalty
 * (README, "Fixed: browsers stopped meeting…"), its browsers no longer met there.
 */
import type { Browser, BrowserContext, Page } from '@playwright/test';
import { expect, test, watchContext } from './suite';
import { tinyLlama } from '../fixtures/gguf';
import { channelLink, createWorkspace, inviteLinkOf, joinWith, message, openApp, post, setDisplayName } from './helpers';
import { answers, loadTinyModel, serveTinyModel } from './models';

const contexts: BrowserContext[] = [];

test.beforeAll(serveTinyModel);
test.afterEach(async () => {
	for (const context of contexts.splice(0)) await context.close().catch(() => {});
});

/** A fresh browser profile with the app open. */
async function device(browser: Browser): Promise<Page> {
	const context = await browser.newContext({ locale: 'en-US' });
	contexts.push(context);
	watchContext(context);
	const page = await context.newPage();
	await openApp(page);
	return page;
}

/** Ada creates the workspace "Lab", loads the tiny model in her browser and shares it; returns the invite link. */
async function adaSharesTheModel(ada: Page): Promise<string> {
	await setDisplayName(ada, 'Ada');
	await createWorkspace(ada, 'Lab');
	const link = await inviteLinkOf(ada);
	await ada.getByRole('button', { name: 'New chat' }).click();
	await loadTinyModel(ada, { share: true });
	return link;
}

test('a model shared by one browser answers another browser of the workspace', async ({ browser }) => {
	const ada = await device(browser);
	const link = await adaSharesTheModel(ada);
	const dialog = ada.getByRole('dialog', { name: 'Models in this browser' });
	const share = dialog.getByRole('checkbox', { name: 'Share this model with the workspace' });

	// Bea has no model of her own: the picker lists Ada's, served by Ada, on wllama.
	const bea = await device(browser);
	await joinWith(bea, link, 'Bea');
	// Bea meets Ada through the relay's discovery topic (announced every 10 s), then over WebRTC.
	await expect(bea.getByRole('navigation', { name: 'Channels' }).getByRole('heading', { name: 'Lab' })).toBeVisible({ timeout: 40_000 });
	await expect(channelLink(bea, 'general')).toBeVisible();
	await bea.getByRole('button', { name: 'New chat' }).click();
	const picker = bea.getByRole('combobox', { name: 'Model' });
	const option = picker.getByRole('option', { name: new RegExp(`^${tinyLlama.name} — peer Ada \\(wllama`) });
	await expect(option).toHaveCount(1, { timeout: 40_000 });
	await picker.selectOption({ label: (await option.textContent())!.trim() });

	const box = bea.getByRole('textbox', { name: 'Message the model' });
	await box.fill('What is a CRDT?');
	await box.press('Enter');
	const answer = answers(bea).first();
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

test('@model in a channel: the answer streams in as the model\'s message, seen by a third member', async ({ browser }) => {
	const ada = await device(browser);
	const link = await adaSharesTheModel(ada);
	await channelLink(ada, 'general').click();
	const members: Page[] = [];
	for (const name of ['Bea', 'Cy']) {
		const page = await device(browser);
		await joinWith(page, link, name);
		await expect(channelLink(page, 'general')).toBeVisible({ timeout: 40_000 });
		await channelLink(page, 'general').click();
		members.push(page);
	}
	const [bea, cy] = members as [Page, Page];
	// Bea's composer offers the model once its advert arrived.
	await expect(bea.getByText(`@${tinyLlama.name}`)).toBeVisible({ timeout: 40_000 });
	await post(bea, `@${tinyLlama.name} What is a CRDT?`);

	for (const page of [cy, bea, ada]) {
		const answer = page.getByRole('main').getByRole('article', { name: tinyLlama.name });
		await expect(answer).toHaveCount(1, { timeout: 30_000 });
		await expect(answer).toContainText('on Ada');
		await expect(answer).toContainText('asked by Bea');
		// Finished: the usage line replaces "Writing…", and the text is there.
		await expect(answer.getByRole('status')).toContainText(/\d+ tokens · [\d.]+ tokens\/s/, { timeout: 30_000 });
		await expect(answer.getByRole('paragraph').first()).not.toBeEmpty();
	}
	// Everyone reads the same answer, right after the question.
	const texts = await Promise.all(
		[cy, bea, ada].map((p) => p.getByRole('main').getByRole('article', { name: tinyLlama.name }).getByRole('paragraph').first().innerText())
	);
	expect(texts[0]).not.toBe('');
	expect(new Set(texts).size).toBe(1);
	const order = await cy.getByRole('main').getByRole('article').evaluateAll((articles) => articles.map((a) => a.getAttribute('aria-label')));
	expect(order.slice(-2)).toEqual(['Bea', tinyLlama.name]);
	await expect(message(cy, 'What is a CRDT?')).toHaveCount(1);
});

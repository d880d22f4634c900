/**
 * Tools and workspace knowledge in an AI chat (issue 15), with a model loaded into this
 * browser (wllama on the suite's own random-weight GGUF, with a longer context than the
 * tiny model so that a tool's description and a call fit): the user makes the model use
 * "post_message" (a forced call: the engine's grammar makes even a random model write a valid
 * call, naming a real channel), approves it, sees the call folded under the answer, and finds
 * the message in the channel; a denied call changes nothing. The same with `@model` in a
 * channel, where "Always in this channel" stops the asking.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, test } from './suite';
import { llamaGgufPath } from '../fixtures/gguf';
import { channelLink, createWorkspace, message, newNote, openApp, post } from './helpers';
import { answers, loadTinyModel, MODELS_DIR } from './models';

const TOOLS_MODEL = 'tiny-tools';

test.beforeAll(() => {
	mkdirSync(MODELS_DIR, { recursive: true });
	copyFileSync(llamaGgufPath({ name: TOOLS_MODEL, contextLength: 2048 }), join(MODELS_DIR, `${TOOLS_MODEL}.gguf`));
});

/** Loads the longer-context model into this browser. */
const loadToolsModel = (page: Page) => loadTinyModel(page, { name: TOOLS_MODEL });

test('a tool call that needs approval: approve posts the message, deny changes nothing', async ({ page }) => {
	await openApp(page);
	await createWorkspace(page, 'Lab');
	await page.getByRole('button', { name: 'New chat' }).click();
	await loadToolsModel(page);
	await expect(page.getByRole('combobox', { name: 'Model' })).toContainText(TOOLS_MODEL);

	const tools = page.getByRole('combobox', { name: 'Tools' });
	await expect(tools.getByRole('option', { name: 'Use post_message (asks first)' })).toHaveCount(1);
	await tools.selectOption({ label: 'Use post_message (asks first)' });

	const box = page.getByRole('textbox', { name: 'Message the model' });
	await box.fill('Tell the crew we sail at dawn.');
	await box.press('Enter');

	// The model calls post_message; nothing happens until the user approves.
	const approval = page.getByRole('alertdialog', { name: 'The model wants to use post_message' });
	await expect(approval).toBeVisible({ timeout: 60_000 });
	await expect(approval.getByRole('button', { name: 'Approve' })).toBeFocused();
	const pending = answers(page).last().getByText('Tool call: post_message — waiting for your approval');
	await expect(pending).toBeVisible();
	await approval.getByRole('button', { name: 'Approve' }).click();
	await expect(approval).toBeHidden();

	// The call shows folded under the answer, with its arguments and result when opened.
	const step = answers(page).last().getByText('Tool call: post_message — done', { exact: false });
	await expect(step).toBeVisible({ timeout: 60_000 });
	await step.click();
	const details = answers(page).last().locator('details').first();
	await expect(details).toContainText('Arguments');
	await expect(details).toContainText('"channel": "general"');
	await expect(details).toContainText('Result');
	await expect(details).toContainText('Posted in #general');
	const argumentsText = (await details.locator('pre').first().textContent()) ?? '';
	expect((JSON.parse(argumentsText) as { text: string }).text.length).toBeGreaterThan(0);
	// The answer ends (the model writes text after the call).
	await expect(answers(page).last()).toContainText('served by this browser', { timeout: 60_000 });

	// Denying the next call: it is recorded as denied, and nothing more is posted.
	await box.fill('And again.');
	await box.press('Enter');
	await expect(approval).toBeVisible({ timeout: 60_000 });
	await page.keyboard.press('Escape');
	await expect(answers(page).last().getByText('Tool call: post_message — denied')).toBeVisible({ timeout: 60_000 });
	await expect(answers(page).last()).toContainText('served by this browser', { timeout: 60_000 });

	// The approved message is in #general (the only one: the denied call posted nothing).
	await channelLink(page, 'general').click();
	const messages = page.getByRole('main').getByRole('article');
	await expect(messages).toHaveCount(1, { timeout: 10_000 });
});

test('@model in a channel uses a tool once the asker approves, and "Always in this channel" stops the asking', async ({ page }) => {
	await openApp(page);
	await createWorkspace(page, 'Deck');
	// A model loaded into this browser (from an AI chat's Models dialog) answers in channels too.
	await page.getByRole('button', { name: 'New chat' }).click();
	await loadToolsModel(page);
	await channelLink(page, 'general').click();
	await expect(page.getByText(`@${TOOLS_MODEL}`)).toBeVisible();

	const tools = page.getByRole('combobox', { name: 'Tools for @model' });
	await expect(tools.getByRole('option', { name: 'Use post_message (asks first)' })).toHaveCount(1);
	await tools.selectOption({ label: 'Use post_message (asks first)' });
	await expect(page.getByText('Tools read only what everyone in this channel may read', { exact: false })).toBeVisible();
	await post(page, `@${TOOLS_MODEL} Tell the crew we sail at dawn.`, 'Tell the crew we sail at dawn.');

	// The model's message shows the call waiting; nothing is posted until the asker approves.
	const approval = page.getByRole('alertdialog', { name: 'The model wants to use post_message' });
	await expect(approval).toBeVisible({ timeout: 60_000 });
	await expect(approval.getByRole('button', { name: 'Approve' })).toBeFocused();
	const answer = page.getByRole('main').getByRole('article', { name: TOOLS_MODEL });
	await expect(answer.getByText('Tool call: post_message — waiting for your approval')).toBeVisible();
	// Tall enough that the windowed message list shows every message of the test at once
	// (until now the usual window: the approval leaves the messages room).
	await page.setViewportSize({ width: 1280, height: 2000 });
	const all = page.getByRole('main').getByRole('article');
	await expect(all).toHaveCount(2); // the question and the model's message
	await approval.getByRole('checkbox', { name: 'Always in this channel' }).check();
	await approval.getByRole('button', { name: 'Approve' }).click();
	await expect(approval).toBeHidden();

	// The call shows folded in the model's message; the answer finishes; the tool's message is in the channel.
	const step = answer.getByText('Tool call: post_message — done', { exact: false });
	await expect(step).toBeVisible({ timeout: 60_000 });
	await expect(answer.getByRole('status')).toContainText(/\d+ tokens · [\d.]+ tokens\/s/, { timeout: 60_000 });
	await expect(all).toHaveCount(3);
	await step.click();
	await expect(answer.locator('details').first()).toContainText('Posted in #general');
	await step.click();

	// The next question: approved already, so the tool runs without asking.
	await post(page, `@${TOOLS_MODEL} And once more.`, 'And once more.');
	const second = page.getByRole('main').getByRole('article', { name: TOOLS_MODEL }).nth(1);
	await expect(second.getByText('Tool call: post_message — done', { exact: false })).toBeVisible({ timeout: 60_000 });
	await expect(second.getByRole('status')).toContainText(/\d+ tokens/, { timeout: 60_000 });
	await expect(approval).toHaveCount(0);
	await expect(message(page, 'And once more.')).toHaveCount(1);
	await expect(all).toHaveCount(6);
});

test('a knowledge answer lists its sources, and a source opens the note at the cited place', async ({ page }) => {
	await openApp(page);
	await createWorkspace(page, 'Ship');
	// Two notes; only one is about the question (Chinese and English words both indexed).
	await newNote(page, 'Galley rota', '# Week one\n\nPeeling potatoes: Ada.\n\n# Anchor drill\n\nThe anchor drill is on Tuesday at 0600. 锚演习在星期二。');
	await newNote(page, 'Engine log', 'Oil pressure normal.');
	// A private channel of the asker's on the same question: every member reads an AI chat, so
	// its knowledge (and its tools) never carry a private channel there.
	await page.getByRole('button', { name: 'New channel' }).click();
	const dialog = page.getByRole('dialog', { name: 'New channel' });
	await dialog.getByRole('textbox', { name: 'Channel name' }).fill('salvage');
	await dialog.getByRole('checkbox', { name: 'Private channel' }).check();
	await dialog.getByRole('button', { name: 'Create channel' }).click();
	await post(page, 'The anchor drill is secretly off: we dive for the wreck on Tuesday at 0600.');

	await page.getByRole('button', { name: 'New chat' }).click();
	await loadToolsModel(page);

	// Model access (the role table shared with Members → Tools): a rule written as a signed op
	// shows as the table's state, "(default)" goes, and it is still there when the dialog reopens.
	await page.getByRole('button', { name: 'Models', exact: true }).click();
	const models = page.getByRole('dialog', { name: 'Models in this browser' });
	const access = models.getByRole('region', { name: 'Model access' });
	const row = access.getByRole('row', { name: new RegExp(TOOLS_MODEL) });
	await expect(row).toContainText('(default)');
	const guests = access.getByRole('checkbox', { name: `Guest (read-only) may use ${TOOLS_MODEL}` });
	await expect(guests).not.toBeChecked();
	await expect(access.getByRole('checkbox', { name: `Member may use ${TOOLS_MODEL}` })).toBeChecked();
	await guests.check();
	await expect(row).not.toContainText('(default)');
	await models.getByRole('button', { name: 'Close' }).click();
	await page.getByRole('button', { name: 'Models', exact: true }).click();
	await expect(guests).toBeChecked();
	await models.getByRole('button', { name: 'Close' }).click();

	await page.getByRole('checkbox', { name: 'Use workspace knowledge' }).check();
	const box = page.getByRole('textbox', { name: 'Message the model' });
	await box.fill('When is the anchor drill?');
	await box.press('Enter');

	const sources = answers(page).last().getByRole('list', { name: 'Sources' });
	await expect(sources).toBeVisible({ timeout: 60_000 });
	const first = sources.getByRole('button', { name: /^\[1\] Galley rota/ });
	await expect(first).toBeVisible();
	await expect(sources.getByRole('button', { name: /Engine log/ })).toHaveCount(0);
	await expect(answers(page).last()).toContainText('served by this browser', { timeout: 60_000 });
	await expect(sources.getByRole('button')).not.toHaveCount(0);
	await expect(sources.getByRole('button', { name: /salvage/ })).toHaveCount(0);
	await expect(answers(page).last()).not.toContainText('wreck');

	// A Chinese question finds the same passage through the full-text side.
	await box.fill('锚演习是什么时候？');
	await box.press('Enter');
	await expect(answers(page).last().getByRole('list', { name: 'Sources' }).getByRole('button', { name: /^\[1\] Galley rota/ })).toBeVisible({ timeout: 60_000 });
	await expect(answers(page).last()).toContainText('served by this browser', { timeout: 60_000 });

	// The source opens the note, with the cursor at the cited section.
	await first.click();
	await expect(page.getByRole('textbox', { name: 'Note title' })).toHaveValue('Galley rota');
	const cursorLine = await page.evaluate(() => {
		const selection = document.getSelection();
		const node = selection?.anchorNode;
		return (node?.nodeType === Node.TEXT_NODE ? node.parentElement : (node as Element | null))?.closest('.cm-line')?.textContent ?? '';
	});
	expect(cursorLine).toMatch(/Anchor drill|anchor drill/);
});

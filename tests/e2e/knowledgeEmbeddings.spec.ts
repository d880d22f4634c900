/**
 * "Knowledge embeddings" in an AI chat (issue 15): with "Use workspace knowledge" on, the user
 * picks an embedding model the relay serves (the suite's random-weight GGUF, loaded by wllama
 * in this browser), asks, and the answer's sources are ranked by meaning and words, every
 * passage embedded; a source still opens its note. The choice is kept on this device across a
 * reload, and "None" goes back to full text. A model file that cannot load says so, and full
 * text still answers.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, test } from './suite';
import { llamaGgufPath } from '../fixtures/gguf';
import { audit } from './axe';
import { createWorkspace, newNote, openApp } from './helpers';
import { answers, loadTinyModel, MODELS_DIR } from './models';

/** The chat model (a longer context than the tiny model, so the quoted sources fit). */
const CHAT_MODEL = 'tiny-tools';
/** The embedding model: another random-weight GGUF (a chat model: wllama pools its last token). */
const EMBED_MODEL = 'tiny-embed';
/** A file named like a model that is not one. */
const BROKEN_MODEL = 'broken-embed';

test.beforeAll(() => {
	mkdirSync(MODELS_DIR, { recursive: true });
	copyFileSync(llamaGgufPath({ name: CHAT_MODEL, contextLength: 2048 }), join(MODELS_DIR, `${CHAT_MODEL}.gguf`));
	copyFileSync(llamaGgufPath({ name: EMBED_MODEL, contextLength: 512, seed: 7 }), join(MODELS_DIR, `${EMBED_MODEL}.gguf`));
	writeFileSync(join(MODELS_DIR, `${BROKEN_MODEL}.gguf`), 'GGUF but not really a model'.repeat(100));
});

/** A workspace with two notes, and an AI chat with the chat model loaded and knowledge on. */
async function shipWithChat(page: Page): Promise<void> {
	await openApp(page);
	await createWorkspace(page, 'Ship');
	await newNote(page, 'Galley rota', '# Week one\n\nPeeling potatoes: Ada.\n\n# Anchor drill\n\nThe anchor drill is on Tuesday at 0600.');
	await newNote(page, 'Engine log', 'Oil pressure normal.');
	await page.getByRole('button', { name: 'New chat' }).click();
	await loadTinyModel(page, { name: CHAT_MODEL });
	await page.getByRole('checkbox', { name: 'Use workspace knowledge' }).check();
}

/** Asks in the open chat and waits for the answer to finish; returns its sources (this answer's, whatever follows). */
async function ask(page: Page, question: string) {
	const before = await answers(page).count();
	const box = page.getByRole('textbox', { name: 'Message the model' });
	await box.fill(question);
	await box.press('Enter');
	const answer = answers(page).nth(before);
	const sources = answer.getByRole('list', { name: 'Sources' });
	await expect(sources).toBeVisible({ timeout: 60_000 });
	await expect(answer).toContainText('served by this browser', { timeout: 60_000 });
	return sources;
}

const embeddings = (page: Page) => page.getByRole('combobox', { name: 'Knowledge embeddings' });

test('an embedding model ranks knowledge by meaning too; the choice is kept; a source opens its note', async ({ page }) => {
	test.setTimeout(240_000);
	await shipWithChat(page);

	const picker = embeddings(page);
	await expect(picker).toHaveValue('');
	await expect(picker.getByRole('option', { name: 'None (full text only)' })).toHaveCount(1);
	await expect(picker.getByRole('option', { name: new RegExp(`^${EMBED_MODEL}\\.gguf \\(`) })).toHaveCount(1);
	await picker.selectOption(`${EMBED_MODEL}.gguf`);
	await expect(page.getByRole('status').filter({ hasText: `${EMBED_MODEL}.gguf is ready` })).toBeVisible({ timeout: 30_000 });

	const sources = await ask(page, 'When is the anchor drill?');
	const ranked = page.getByRole('status').filter({ hasText: 'Sources ranked by meaning and words' });
	await expect(ranked).toBeVisible();
	// Every passage had its vector when the question was ranked.
	const [, embedded, passages] = /\((\d+) of (\d+) passages? embedded\)/.exec((await ranked.textContent()) ?? '') ?? [];
	expect(Number(passages)).toBeGreaterThanOrEqual(3);
	expect(embedded).toBe(passages);
	await audit(page, 'AI chat with knowledge embeddings');

	// The choice is kept on this device: after a reload it is still chosen, to load with the next question.
	await page.reload();
	await page.getByRole('link', { name: 'Chat 1' }).click();
	await page.getByRole('checkbox', { name: 'Use workspace knowledge' }).check();
	await expect(embeddings(page)).toHaveValue(`${EMBED_MODEL}.gguf`);
	await expect(page.getByRole('status').filter({ hasText: `${EMBED_MODEL}.gguf loads with your next question` })).toBeVisible();
	await loadTinyModel(page, { name: CHAT_MODEL });
	await ask(page, 'Who peels potatoes?');
	await expect(page.getByRole('status').filter({ hasText: 'Sources ranked by meaning and words' })).toBeVisible();

	// "None": full text alone ranks again.
	await embeddings(page).selectOption({ label: 'None (full text only)' });
	const fullText = await ask(page, 'When is the anchor drill?');
	await expect(page.getByRole('status').filter({ hasText: 'Sources ranked by words only.' })).toBeVisible();
	await expect(fullText.getByRole('button', { name: /^\[1\] Galley rota › Anchor drill/ })).toBeVisible();

	// A source of the answer ranked with vectors still opens the note at its place.
	await sources.getByRole('button', { name: /Galley rota › Anchor drill/ }).click();
	await expect(page.getByRole('textbox', { name: 'Note title' })).toHaveValue('Galley rota');
});

test('a model that cannot load says so, and full text still answers', async ({ page }) => {
	test.setTimeout(180_000);
	await shipWithChat(page);
	const picker = embeddings(page);
	await picker.selectOption(`${BROKEN_MODEL}.gguf`);
	const alert = page.getByRole('alert').filter({ hasText: `Could not load the embedding model ${BROKEN_MODEL}.gguf` });
	await expect(alert).toBeVisible({ timeout: 30_000 });
	await expect(alert).toContainText('The file is not a model this browser can load. Answers use full text only');
	await expect(alert.getByRole('button', { name: 'Try again' })).toBeVisible();

	const sources = await ask(page, 'When is the anchor drill?');
	await expect(sources.getByRole('button', { name: /^\[1\] Galley rota › Anchor drill/ })).toBeVisible();
	await expect(page.getByRole('status').filter({ hasText: 'Sources ranked by words only.' })).toBeVisible();
});

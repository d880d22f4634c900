/**
 * AI chats in the browser: a model file served by the relay (the suite's own tiny
 * random-weight GGUF) is loaded into this browser with wllama, and a chat streams its
 * answers, with the usage trace, Regenerate and Edit and resend (Stop: tests/unit/state/aiChat.test.ts).
 */
import type { Page } from '@playwright/test';
import * as Y from 'yjs';
import { expect, test } from './suite';
import { tinyLlama } from '../fixtures/gguf';
import { AiThreadDoc } from '../../src/lib/doc/AiThreadDoc';
import { AiRecordKind } from '../../src/lib/doc/schema';
import { createWorkspace, openApp } from './helpers';
import { answers, loadTinyModel, serveTinyModel } from './models';

test.beforeAll(serveTinyModel);

/**
 * The usage records (signed answers with their stats) of AI chat `docId` as this browser
 * stored them: its IndexedDB updates, read back and replayed into a document here.
 */
async function usageRecords(page: Page, docId: string): Promise<{ id: string; tokensOut: number }[]> {
	const updates = await page.evaluate(async (name) => {
		if (!(await indexedDB.databases()).some((d) => d.name === name)) return []; // not stored yet (opening would create it)
		const db = await new Promise<IDBDatabase>((resolve, reject) => {
			const req = indexedDB.open(name);
			req.onsuccess = () => resolve(req.result);
			req.onerror = () => reject(req.error);
		});
		const values = await new Promise<unknown[]>((resolve, reject) => {
			const req = db.transaction('updates').objectStore('updates').getAll();
			req.onsuccess = () => resolve(req.result);
			req.onerror = () => reject(req.error);
		});
		db.close();
		return values.filter((v) => v instanceof Uint8Array).map((v) => Array.from(v as Uint8Array));
	}, `outpost-doc:${docId}`);
	const doc = new Y.Doc();
	for (const update of updates) Y.applyUpdate(doc, new Uint8Array(update));
	return new AiThreadDoc(doc)
		.readRecords()
		.filter((r) => r.kind === AiRecordKind.answer && r.stats !== undefined)
		.map((r) => ({ id: r.id, tokensOut: r.stats!.tokensOut }));
}



test('a chat with a model loaded into this browser: stream, usage, regenerate, edit and resend', async ({ page }) => {
	await openApp(page);
	await createWorkspace(page, 'Lab');
	await page.getByRole('button', { name: 'New chat' }).click();
	await expect(page.getByRole('link', { name: 'Chat 1' })).toHaveAttribute('aria-current', 'page');
	await expect(page.getByText('No model is available yet.')).toBeVisible();
	await expect(page.getByRole('textbox', { name: 'Message the model' })).toBeDisabled();

	await loadTinyModel(page);
	const picker = page.getByRole('combobox', { name: 'Model' });
	await expect(picker).toContainText(tinyLlama.name);
	await expect(picker).toContainText('this browser');

	await page.getByRole('button', { name: 'System prompt' }).click();
	await page.getByRole('textbox', { name: 'System prompt' }).fill('Answer briefly.');
	await page.getByRole('button', { name: 'Save system prompt' }).click();

	const box = page.getByRole('textbox', { name: 'Message the model' });
	await box.fill('What is a CRDT?');
	await box.press('Enter');
	await expect(page.getByRole('article', { name: 'You' })).toContainText('What is a CRDT?');
	// The answer finishes with its usage trace: model, where it ran, tokens, speed.
	await expect(answers(page).first()).toContainText(`${tinyLlama.name} · served by this browser`, { timeout: 30_000 });
	await expect(answers(page).first()).toContainText(/\d+ in, \d+ out/);

	// Regenerate runs a new generation: a new answer (a new message in place of the old one)
	// with a usage record of its own, beside the first answer's.
	const chatId = (await page.getByRole('link', { name: 'Chat 1' }).getAttribute('href'))!.split('/').pop()!;
	await expect.poll(() => usageRecords(page, chatId), { timeout: 10_000 }).toHaveLength(1);
	const [first] = await usageRecords(page, chatId);
	const shown = await answers(page).first().elementHandle();
	await answers(page).first().getByRole('button', { name: 'Regenerate' }).click();
	await expect(answers(page)).toHaveCount(1);
	await expect(answers(page).first()).toContainText('served by this browser', { timeout: 30_000 });
	await expect.poll(() => shown!.evaluate((article) => article.isConnected)).toBe(false);
	await expect.poll(() => usageRecords(page, chatId), { timeout: 10_000 }).toHaveLength(2);
	const [kept, again] = await usageRecords(page, chatId);
	expect(kept).toEqual(first);
	expect(again!.id).not.toBe(first!.id);
	expect(again!.tokensOut).toBeGreaterThan(0);

	await page.getByRole('article', { name: 'You' }).getByRole('button', { name: 'Edit' }).click();
	await page.getByRole('textbox', { name: 'Edit question' }).fill('Explain Yjs.');
	await page.getByRole('button', { name: 'Resend' }).click();
	// An answer follows the question: resending asks first, since it leaves the chat for everyone.
	const confirm = page.getByRole('alertdialog', { name: 'Ask again from here?' });
	await expect(confirm).toContainText('The message after this question leaves the chat, for everyone in it.');
	await confirm.getByRole('button', { name: 'Remove them and resend' }).click();
	await expect(page.getByRole('article', { name: 'You' })).toHaveText(/Explain Yjs\./);
	await expect(page.getByRole('article', { name: 'You' })).toHaveCount(1);
	await expect(answers(page).first()).toContainText('served by this browser', { timeout: 30_000 });

	// The chat is a workspace document: it is still there after a reload.
	await page.reload();
	await page.getByRole('link', { name: 'Chat 1' }).click();
	await expect(page.getByRole('article', { name: 'You' })).toContainText('Explain Yjs.');
	await expect(answers(page)).toHaveCount(1);
});

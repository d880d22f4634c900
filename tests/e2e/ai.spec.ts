/**
 * AI chats in the browser: a model file served by the relay (the suite's own tiny
 * random-weight GGUF) is loaded into this browser with wllama, and a chat streams its
 * answers, with the usage trace, Regenerate and Edit and resend (Stop: tests/unit/state/aiChat.test.ts).
 */
import type { Page } from '@playwright/test';
import { expect, test } from './suite';
import { tinyLlama } from '../fixtures/gguf';
import { createWorkspace, openApp } from './helpers';
import { answers, loadTinyModel, serveTinyModel } from './models';

test.beforeAll(serveTinyModel);



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

	await answers(page).first().getByRole('button', { name: 'Regenerate' }).click();
	await expect(answers(page)).toHaveCount(1);
	await expect(answers(page).first()).toContainText('served by this browser', { timeout: 30_000 });

	await page.getByRole('article', { name: 'You' }).getByRole('button', { name: 'Edit' }).click();
	await page.getByRole('textbox', { name: 'Edit question' }).fill('Explain Yjs.');
	await page.getByRole('button', { name: 'Resend' }).click();
	await expect(page.getByRole('article', { name: 'You' })).toHaveText(/Explain Yjs\./);
	await expect(page.getByRole('article', { name: 'You' })).toHaveCount(1);
	await expect(answers(page).first()).toContainText('served by this browser', { timeout: 30_000 });

	// The chat is a workspace document: it is still there after a reload.
	await page.reload();
	await page.getByRole('link', { name: 'Chat 1' }).click();
	await expect(page.getByRole('article', { name: 'You' })).toContainText('Explain Yjs.');
	await expect(answers(page)).toHaveCount(1);
});

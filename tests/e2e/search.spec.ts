/**
 * Search: one box across the workspace finds an English word and a Chinese phrase, marks the
 * matched terms, opens each result at its message (a reply in its thread), indexes messages
 * that arrived while their channel was closed, and keeps its index across reloads.
 */
import type { Page } from '@playwright/test';
import { expect, test } from './suite';
import {
	channelId,
	channelLink,
	channelUpdate,
	createChannel,
	createWorkspace,
	message,
	openApp,
	memberDevice,
	plantUpdates,
	post,
	signedMessage
} from './helpers';

function searchBox(page: Page) {
	return page.getByRole('searchbox', { name: 'Search' });
}

function results(page: Page) {
	return page.getByRole('listbox', { name: 'Search results' });
}

async function search(page: Page, query: string): Promise<void> {
	const box = searchBox(page);
	await box.fill(query);
	await box.press('Enter');
}

test('finds English words and Chinese phrases, opens messages and thread replies, and survives a reload', async ({ page }) => {
	await openApp(page);
	await createWorkspace(page, 'Crew');
	await post(page, 'The harbour pilot boards at dawn');
	await post(page, '我们明天讨论数据主权的问题');
	const parent = message(page, 'The harbour pilot');
	await parent.hover();
	await parent.getByRole('button', { name: 'Reply' }).click();
	const thread = page.getByRole('complementary', { name: 'Thread' });
	await thread.getByRole('textbox', { name: 'Thread reply' }).fill('The lighthouse keeper confirms the tide');
	await thread.getByRole('button', { name: 'Send reply' }).click();
	await expect(thread.getByRole('article')).toHaveCount(2);
	await thread.getByRole('button', { name: 'Close thread' }).click();
	// Results must switch channels to open.
	await createChannel(page, 'random');
	await post(page, 'Unrelated chatter <b>about</b> lunch');

	// English word: one result, the word marked.
	await search(page, 'harbour');
	const english = results(page).getByRole('option');
	await expect(english).toHaveCount(1);
	await expect(english.first()).toContainText('# general');
	await expect(english.first().locator('mark')).toHaveText(['harbour']);
	await english.first().click();
	await expect(channelLink(page, 'general')).toHaveAttribute('aria-current', 'page');
	const found = message(page, 'The harbour pilot');
	await expect(found).toBeFocused();
	await expect(found).toHaveAttribute('aria-current', 'true');
	await expect(results(page)).toHaveCount(0);

	// Chinese phrase (no spaces between words): found and marked as one phrase.
	await search(page, '数据主权');
	const chinese = results(page).getByRole('option');
	await expect(chinese).toHaveCount(1);
	await expect(chinese.first().locator('mark')).toHaveText(['数据主权']);
	// A phrase made of the same characters in another order is not a match.
	await search(page, '主权数据');
	await expect(page.getByRole('status').filter({ hasText: 'No results for “主权数据”' })).toBeVisible();

	// A thread reply opens its thread, with the reply focused; the keyboard picks it.
	await createChannel(page, 'ops');
	await search(page, 'lighthouse');
	await expect(results(page).getByRole('option')).toHaveCount(1);
	await expect(results(page).getByRole('option').first()).toContainText('thread reply');
	await searchBox(page).press('ArrowDown');
	await expect(results(page).getByRole('option').first()).toHaveAttribute('aria-selected', 'true');
	await searchBox(page).press('Enter');
	await expect(channelLink(page, 'general')).toHaveAttribute('aria-current', 'page');
	const reply = page.getByRole('complementary', { name: 'Thread' }).getByRole('article').filter({ hasText: 'lighthouse keeper' });
	await expect(reply).toBeFocused();
	await expect(reply).toHaveAttribute('aria-current', 'true');

	// Markup in messages stays text in results.
	await search(page, 'lunch');
	await expect(results(page).getByRole('option').first()).toContainText('Unrelated chatter <b>about</b> lunch');
	await expect(results(page).locator('b')).toHaveCount(0);

	// Escape clears the box; an unknown word says so.
	await searchBox(page).press('Escape');
	await expect(searchBox(page)).toHaveValue('');
	await search(page, 'zeppelin');
	await expect(page.getByRole('status').filter({ hasText: 'No results for “zeppelin”' })).toBeVisible();

	// After a reload the index comes back from IndexedDB.
	await page.reload();
	await expect(channelLink(page, 'general')).toBeVisible();
	await search(page, '数据主权');
	await expect(results(page).getByRole('option')).toHaveCount(1);
	await results(page).getByRole('option').first().click();
	await expect(message(page, '我们明天讨论数据主权的问题')).toBeFocused();
	await search(page, 'harbour');
	await expect(results(page).getByRole('option')).toHaveCount(1);
});

test('messages stored while their channel was closed are indexed, and an old one opens scrolled into view', async ({ page }) => {
	await openApp(page);
	await createWorkspace(page, 'Vessel');
	const general = await channelId(page, 'general');
	await createChannel(page, 'random');
	// Another device's messages arrive in storage for "general" (closed): an old needle, then many newer ones.
	const device = await memberDevice(page);
	const start = Date.now() - 3_600_000;
	const needle = await signedMessage(device, 'Bilge pump inspection notes 数据主权', start);
	const filler = await Promise.all(Array.from({ length: 120 }, (_, i) => signedMessage(device, `Routine log entry ${i}`, start + 1000 * (i + 1))));
	await plantUpdates(page, general, [Array.from(channelUpdate([needle, ...filler]))]);
	await page.reload();
	await expect(channelLink(page, 'random')).toHaveAttribute('aria-current', 'page');

	await search(page, 'bilge');
	await expect(results(page).getByRole('option')).toHaveCount(1);
	await results(page).getByRole('option').first().click();
	await expect(channelLink(page, 'general')).toHaveAttribute('aria-current', 'page');
	const found = message(page, 'Bilge pump inspection');
	await expect(found).toBeFocused();
	await expect(found).toBeInViewport();
	await expect(message(page, 'Routine log entry 119')).not.toBeInViewport();
});

test('notes are searched too: an English word and a Chinese phrase open the note at the match', async ({ page }) => {
	await openApp(page);
	await createWorkspace(page, 'Office');
	await post(page, '数据主权 is on the agenda');
	await page.getByRole('button', { name: 'New note' }).click();
	await page.getByRole('textbox', { name: 'Note title' }).fill('Policy memo');
	const body = page.getByRole('textbox', { name: 'Note body' });
	await body.click();
	await page.keyboard.type('Intro line.\nWe keep 数据主权 on every vessel; the quartermaster signs off.');
	await channelLink(page, 'general').click();

	// The Chinese phrase: in the message and in the note, each result saying where it is.
	await search(page, '数据主权');
	const both = results(page).getByRole('option');
	await expect(both).toHaveCount(2);
	await expect(both.filter({ hasText: 'Policy memo' })).toHaveCount(1);
	await expect(both.filter({ hasText: '# general' })).toHaveCount(1);

	// An English word only in the note: it opens with the cursor at the match.
	await search(page, 'quartermaster');
	const note = results(page).getByRole('option');
	await expect(note).toHaveCount(1);
	await expect(note.first().locator('mark')).toHaveText(['quartermaster']);
	await note.first().click();
	await expect(page.getByRole('textbox', { name: 'Note title' })).toHaveValue('Policy memo');
	await expect(body).toBeFocused();
	const caret = await page.evaluate(() => {
		const selection = getSelection();
		return selection?.anchorNode?.textContent?.slice(selection.anchorOffset, selection.anchorOffset + 12) ?? '';
	});
	expect(caret).toBe('quartermaste');
});

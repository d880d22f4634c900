/**
 * Notes end to end: two browsers (separate profiles, synced over the mesh through a relay
 * process, WebRTC over the network namespace of scripts/in-netns.sh) co-edit a note and see
 * each other's cursors; and in one browser, everything else a note does: title, tags,
 * preview, [[links]] between notes and from messages (side panel), snapshots with restore
 * and undo, export as Markdown, and "Ask a model about this note" with the suite's tiny model.
 */
import { readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { expect, test, watchContext } from './suite';
import { CHROMIUM_ARGS } from '../../playwright.config';
import { tinyLlama } from '../fixtures/gguf';
import { channelLink, channelNav, createWorkspace, inviteLinkOf, joinWith, newNote as createNote, openApp, post, setDisplayName } from './helpers';
import { loadTinyModel, serveTinyModel } from './models';
import { startRelayProcess, type RelayProcess } from './relays';

const relays: RelayProcess[] = [];
const contexts: BrowserContext[] = [];
let browser: Browser | undefined;

test.afterAll(async () => {
	await browser?.close();
});
test.afterEach(async () => {
	for (const context of contexts.splice(0)) await context.close().catch(() => {});
	for (const relay of relays.splice(0)) await relay.kill().catch(() => {});
});

/** A browser of its own (separate profile) with the app open from `at`. */
async function device(at: RelayProcess): Promise<Page> {
	browser ??= await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
	const context = await browser.newContext({ baseURL: at.url, locale: 'en-US' });
	contexts.push(context);
	watchContext(context);
	const page = await context.newPage();
	await openApp(page);
	return page;
}

function notesList(page: Page) {
	return channelNav(page).getByRole('list', { name: 'Notes' });
}

function body(page: Page) {
	return page.getByRole('textbox', { name: 'Note body' });
}

function title(page: Page) {
	return page.getByRole('textbox', { name: 'Note title' });
}

/** Creates a note (helpers.ts) and checks the list shows it as the open one. */
async function newNote(page: Page, name: string): Promise<void> {
	await createNote(page, name);
	await expect(notesList(page).getByRole('link', { name })).toHaveAttribute('aria-current', 'page');
}

test('two browsers co-edit a note and see each other’s cursors', async () => {
	const hasLan = Object.values(networkInterfaces())
		.flat()
		.some((i) => i !== undefined && !i.internal && i.family === 'IPv4');
	expect(hasLan, 'WebRTC needs a non-loopback interface: run the e2e suite through scripts/in-netns.sh').toBe(true);
	const relay = await startRelayProcess(4192);
	relays.push(relay);
	const ada = await device(relay);
	await setDisplayName(ada, 'Ada');
	await createWorkspace(ada, 'Logbook');
	const link = await inviteLinkOf(ada);
	const bea = await device(relay);
	await joinWith(bea, link, 'Bea');
	await expect(channelNav(bea).getByRole('heading', { name: 'Logbook' })).toBeVisible({ timeout: 20_000 });

	await newNote(ada, 'Passage plan');
	await body(ada).click();
	await ada.keyboard.type('Leave at dawn.');
	await notesList(bea).getByRole('link', { name: 'Passage plan' }).click({ timeout: 20_000 });
	await expect(body(bea)).toContainText('Leave at dawn.', { timeout: 20_000 });

	// Both type at once, at either end of the text.
	await body(bea).click();
	await bea.keyboard.press('Control+End');
	await ada.keyboard.press('Control+Home');
	await Promise.all([ada.keyboard.type('Plan: '), bea.keyboard.type(' Bea packs food.')]);
	// Each sees the other's caret, labelled with their name, inside the editor.
	await expect(body(ada).getByText('Bea', { exact: true })).toBeVisible();
	await expect(body(bea).getByText('Ada', { exact: true })).toBeVisible();
	// Both have the merged text (read from the preview: the editor also holds the carets' labels).
	for (const page of [ada, bea]) {
		await page.getByRole('button', { name: 'Preview' }).click();
		await expect(page.getByRole('document', { name: 'Preview' })).toHaveText('Plan: Leave at dawn. Bea packs food.');
		await page.getByRole('button', { name: 'Preview' }).click();
	}
	// A cursor belongs to its note: in another note Ada's caret is not drawn for Bea, even at
	// the end of the text (a position Yjs records by the text's name, valid in any note).
	await body(ada).click();
	await ada.keyboard.press('Control+End');
	await ada.keyboard.type(' Go.');
	await expect(body(bea).getByText('Ada', { exact: true })).toBeVisible();
	await newNote(bea, 'Crew list');
	await body(bea).click();
	await bea.keyboard.type('Cook, navigator');
	await expect(body(bea)).toContainText('Cook, navigator');
	await expect(body(bea).getByText('Ada', { exact: true })).toHaveCount(0);
	// The title and the list follow the other browser's edits.
	await expect(notesList(ada).getByRole('link', { name: 'Crew list' })).toBeVisible({ timeout: 20_000 });
	await title(ada).fill('Passage plan v2');
	await expect(notesList(bea).getByRole('link', { name: 'Passage plan v2' })).toBeVisible();
});

test('a note: title, tags, preview, links, snapshots and export', async ({ page }) => {
	await openApp(page);
	await createWorkspace(page, 'Vessel');
	await expect(channelNav(page).getByText('No notes yet.')).toBeVisible();

	await newNote(page, 'Engine log');
	await body(page).click();
	await page.keyboard.type('Oil changed.');
	await newNote(page, 'Plan');
	// Most recently edited first.
	await expect(notesList(page).getByRole('link')).toHaveText(['Plan', 'Engine log']);

	// Tags: bad input is refused with a message; add and remove.
	await page.getByRole('button', { name: 'Add tag' }).click();
	await expect(page.getByRole('alert')).toHaveText('Type a tag first.');
	await page.getByRole('textbox', { name: 'New tag' }).fill('#ops');
	await page.getByRole('button', { name: 'Add tag' }).click();
	await page.getByRole('textbox', { name: 'New tag' }).fill('crew');
	await page.getByRole('textbox', { name: 'New tag' }).press('Enter');
	const tags = page.getByRole('list', { name: 'Tags' });
	await expect(tags.getByRole('listitem')).toHaveText([/^#ops\b/, /^#crew\b/]);
	await page.getByRole('textbox', { name: 'New tag' }).fill('OPS');
	await page.getByRole('button', { name: 'Add tag' }).click();
	await expect(page.getByRole('alert')).toHaveText('This note already has that tag.');
	await page.getByRole('button', { name: 'Remove tag crew' }).click();
	await expect(tags.getByRole('listitem')).toHaveText([/^#ops\b/]);

	// Markdown with a link to the other note; the preview renders it.
	await body(page).click();
	await page.keyboard.type('# Route\nSee [[Engine log]] first.');
	await page.getByRole('button', { name: 'Preview' }).click();
	const preview = page.getByRole('document', { name: 'Preview' });
	await expect(preview.getByRole('heading', { name: 'Route' })).toBeVisible();
	await preview.getByRole('link', { name: 'Engine log' }).click();
	await expect(title(page)).toHaveValue('Engine log');
	await expect(notesList(page).getByRole('link', { name: 'Engine log' })).toHaveAttribute('aria-current', 'page');
	await notesList(page).getByRole('link', { name: 'Plan' }).click();
	await expect(title(page)).toHaveValue('Plan');
	// Another note opens in the editor, not in the preview.
	await expect(body(page)).toContainText('See [[Engine log]] first.');

	// History: save a snapshot, change the text, view and restore it, undo the restore.
	await page.getByRole('button', { name: 'History' }).click();
	await page.getByRole('button', { name: 'Save snapshot' }).click();
	await expect(page.getByRole('alert')).toHaveText('Give the snapshot a name.');
	await page.getByRole('textbox', { name: 'Snapshot name' }).fill('First route');
	await page.getByRole('button', { name: 'Save snapshot' }).click();
	await expect(page.getByRole('status').filter({ hasText: 'Snapshot "First route" saved.' })).toBeVisible();
	await body(page).click();
	await page.keyboard.press('Control+a');
	await page.keyboard.type('Changed my mind.');
	await expect(body(page)).toHaveText('Changed my mind.');
	await page.getByRole('button', { name: 'View First route' }).click();
	await expect(page.getByRole('document', { name: 'Snapshot "First route"' }).getByRole('heading', { name: 'Route' })).toBeVisible();
	await page.getByRole('button', { name: 'Restore' }).click();
	await expect(body(page)).toHaveText('# RouteSee [[Engine log]] first.');
	await body(page).click();
	await page.keyboard.press('Control+z');
	await expect(body(page)).toHaveText('Changed my mind.');
	await page.keyboard.press('Control+Shift+z');
	await expect(body(page)).toHaveText('# RouteSee [[Engine log]] first.');

	// Export as Markdown from the note's menu.
	await page.getByRole('button', { name: 'Note actions' }).click();
	const downloading = page.waitForEvent('download');
	await page.getByRole('menuitem', { name: 'Export as Markdown' }).click();
	const download = await downloading;
	expect(download.suggestedFilename()).toBe('Plan.md');
	expect(await readFile(await download.path(), 'utf8')).toBe('---\ntitle: "Plan"\ntags: ["ops"]\n---\n\n# Route\nSee [[Engine log]] first.\n');

	// From a channel, a [[link]] in a message opens the note beside the channel.
	await channelLink(page, 'general').click();
	await post(page, 'Read [[Plan]] before we leave', 'Read Plan before we leave');
	await page.getByRole('article').getByRole('link', { name: 'Plan' }).click();
	const panel = page.getByRole('complementary', { name: 'Note' });
	await expect(panel.getByRole('textbox', { name: 'Note title' })).toHaveValue('Plan');
	await expect(page.getByRole('textbox', { name: 'Message', exact: true })).toBeVisible();
	await expect(page.getByRole('button', { name: 'Ask a model about this note' })).toHaveCount(0);
	await panel.getByRole('button', { name: 'Close note' }).click();
	await expect(panel).toBeHidden();
	// A link to a note that does not exist yet creates it, as in a wiki.
	await post(page, 'Someone write [[Checklist]]', 'Someone write Checklist');
	await page.getByRole('article').getByRole('link', { name: 'Checklist' }).click();
	await expect(panel.getByRole('textbox', { name: 'Note title' })).toHaveValue('Checklist');
	await expect(notesList(page).getByRole('link', { name: 'Checklist' })).toBeVisible();
	await panel.getByRole('textbox', { name: 'Note title' }).press('Escape');
	await expect(panel).toBeHidden();
});

test('"Ask a model about this note" appears with a model and starts a chat with the note as context', async ({ page }) => {
	serveTinyModel();
	await openApp(page);
	await createWorkspace(page, 'Lab');
	await newNote(page, 'Plan');
	await body(page).click();
	await page.keyboard.type('Reach the harbour by noon.');
	await expect(page.getByRole('button', { name: 'Ask a model about this note' })).toHaveCount(0);

	await page.getByRole('button', { name: 'New chat' }).click();
	await loadTinyModel(page);

	await notesList(page).getByRole('link', { name: 'Plan' }).click();
	await page.getByRole('button', { name: 'Ask a model about this note' }).click();
	await expect(page.getByRole('link', { name: 'About: Plan' })).toHaveAttribute('aria-current', 'page');
	await page.getByRole('button', { name: 'System prompt' }).click();
	await expect(page.getByRole('textbox', { name: 'System prompt' })).toHaveValue(/title: "Plan"\n---\n\nReach the harbour by noon\./);
});

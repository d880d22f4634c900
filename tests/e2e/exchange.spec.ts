/**
 * Export and import end to end: a workspace with channels, messages, an edit, a thread reply
 * and an AI chat (answered by the suite's tiny model) is exported with "Export workspace",
 * imported with "Import" into a fresh browser profile (every document's Yjs state arrives
 * exactly), imported again (nothing duplicated), and damaged or foreign files are refused
 * with a visible error and change nothing.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Browser, Page } from '@playwright/test';
import { expect, test, watchContext } from './suite';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { tinyLlama } from '../fixtures/gguf';
import { channelLink, channelNav, createChannel, createWorkspace, message, openApp, post, setDisplayName } from './helpers';
import { answers, loadTinyModel, serveTinyModel } from './models';

test.beforeAll(serveTinyModel);

interface Manifest {
	workspace: { id: string; rosterId: string };
	documents: { id: string; kind: string; state: string }[];
}

async function freshPage(browser: Browser): Promise<Page> {
	const context = await browser.newContext({ locale: 'en-US' });
	watchContext(context);
	const page = await context.newPage();
	await openApp(page);
	return page;
}

async function openSettings(page: Page) {
	await page.getByRole('button', { name: 'Settings' }).click();
	const dialog = page.getByRole('dialog', { name: 'Settings' });
	await expect(dialog).toBeVisible();
	return dialog;
}

/** "Export workspace" in Settings; saves the download at `path` and returns its bytes. */
async function exportTo(page: Page, path: string): Promise<Uint8Array> {
	const dialog = await openSettings(page);
	const downloading = page.waitForEvent('download');
	await dialog.getByRole('button', { name: 'Export workspace' }).click();
	const download = await downloading;
	expect(download.suggestedFilename()).toMatch(/\.outpost\.zip$/);
	await download.saveAs(path);
	await expect(dialog.getByRole('status')).toContainText('Exported');
	await dialog.getByRole('button', { name: 'Close' }).click();
	return new Uint8Array(readFileSync(path));
}

/** "Import" in Settings with the file at `path`; returns the (still open) dialog. */
async function importFrom(page: Page, path: string) {
	const dialog = await openSettings(page);
	await expect(dialog.getByLabel('Workspace export file')).toBeAttached();
	const choosing = page.waitForEvent('filechooser');
	await dialog.getByRole('button', { name: 'Import', exact: true }).click();
	await (await choosing).setFiles(path);
	return dialog;
}

/** The raw Yjs state of each document in an export, by document id. */
function statesOf(bytes: Uint8Array): { manifest: Manifest; states: Map<string, string> } {
	const files = unzipSync(bytes);
	const manifest = JSON.parse(strFromU8(files['manifest.json'])) as Manifest;
	return { manifest, states: new Map(manifest.documents.map((d) => [d.id, Buffer.from(files[d.state]).toString('base64')])) };
}



/** What the channel shows: top-level messages' texts, and the replies of the first one. */
async function checkContent(page: Page): Promise<void> {
	await channelLink(page, 'general').click();
	const list = page.getByRole('main').getByRole('article');
	await expect(list).toHaveCount(2);
	await expect(message(page, 'Anchor at 06:00')).toHaveCount(1);
	await expect(message(page, 'Fuel at 85%')).toHaveCount(1);
	await expect(message(page, 'Fuel at 85%').getByText('edited', { exact: true })).toBeVisible();
	const parent = message(page, 'Anchor at 06:00');
	await parent.getByRole('button', { name: '1 reply' }).click();
	const thread = page.getByRole('complementary', { name: 'Thread' });
	await expect(thread.getByRole('article')).toHaveCount(2);
	await expect(thread.getByText('Confirmed, chain out')).toBeVisible();
	await thread.getByRole('button', { name: 'Close thread' }).click();
	await channelLink(page, '数据主权 log').click();
	await expect(page.getByRole('main').getByRole('article')).toHaveCount(1);
	await expect(message(page, '测量数据 ok')).toHaveCount(1);
	const notes = channelNav(page).getByRole('list', { name: 'Notes' });
	await notes.getByRole('link', { name: '航行计划 Passage' }).click();
	await expect(page.getByRole('textbox', { name: 'Note title' })).toHaveValue('航行计划 Passage');
	await expect(page.getByRole('textbox', { name: 'Note body' })).toHaveText('Leave at dawn, 数据主权 first.');
	await page.getByRole('link', { name: 'Chat 1' }).click();
	await expect(page.getByRole('article', { name: 'You' })).toHaveCount(1);
	await expect(page.getByRole('article', { name: 'You' })).toContainText('Where is the tide?');
	await expect(answers(page)).toHaveCount(1);
}

test('export a workspace, import it into a fresh browser profile exactly, and again without duplicates', async ({ page, browser }, testInfo) => {
	test.setTimeout(120_000);
	await openApp(page);
	await createWorkspace(page, 'Expedition');
	await setDisplayName(page, 'Grace');
	await post(page, 'Anchor at 06:00');
	await post(page, 'Fuel at 80%');
	const fuel = message(page, 'Fuel at 80%');
	await fuel.hover();
	await fuel.getByRole('button', { name: 'Edit' }).click();
	await page.getByRole('textbox', { name: 'Edit message' }).fill('Fuel at 85%');
	await page.getByRole('textbox', { name: 'Edit message' }).press('Enter');
	await expect(message(page, 'Fuel at 85%')).toHaveCount(1);
	const parent = message(page, 'Anchor at 06:00');
	await parent.hover();
	await parent.getByRole('button', { name: 'Reply' }).click();
	const thread = page.getByRole('complementary', { name: 'Thread' });
	await thread.getByRole('textbox', { name: 'Thread reply' }).fill('Confirmed, chain out');
	await thread.getByRole('button', { name: 'Send reply' }).click();
	await expect(thread.getByRole('article')).toHaveCount(2);
	await thread.getByRole('button', { name: 'Close thread' }).click();
	await createChannel(page, '数据主权 log');
	await post(page, '测量数据 ok');
	await page.getByRole('button', { name: 'New note' }).click();
	await page.getByRole('textbox', { name: 'Note title' }).fill('航行计划 Passage');
	await page.getByRole('textbox', { name: 'Note body' }).click();
	await page.keyboard.type('Leave at dawn, 数据主权 first.');
	await expect(page.getByRole('textbox', { name: 'Note body' })).toHaveText('Leave at dawn, 数据主权 first.');

	await page.getByRole('button', { name: 'New chat' }).click();
	await loadTinyModel(page);
	await page.getByRole('textbox', { name: 'Message the model' }).fill('Where is the tide?');
	await page.getByRole('textbox', { name: 'Message the model' }).press('Enter');
	await expect(answers(page).first()).toContainText('served by this browser', { timeout: 30_000 });
	await checkContent(page);

	// One channel as Markdown, from the channel's header.
	await channelLink(page, 'general').click();
	const saving = page.waitForEvent('download');
	await page.getByRole('button', { name: 'Export as Markdown' }).click();
	const markdown = await saving;
	expect(markdown.suggestedFilename()).toBe('general.md');
	await markdown.saveAs(testInfo.outputPath('general.md'));
	const transcript = readFileSync(testInfo.outputPath('general.md'), 'utf8');
	expect(transcript).toMatch(/^# #general\n/);
	expect(transcript).toContain('**Grace** · ');
	expect(transcript).toContain('Fuel at 85%');
	expect(transcript).not.toContain('Fuel at 80%');
	expect(transcript).toContain('> **Thread: 1 reply**');

	const path = testInfo.outputPath('expedition.outpost.zip');
	const exported = await exportTo(page, path);
	const original = statesOf(exported);
	expect(original.manifest.documents.map((d) => d.kind).sort()).toEqual(['ai-thread', 'channel', 'channel', 'note', 'roster', 'workspace']);
	const files = unzipSync(exported);
	expect(strFromU8(files['channels/general.md'])).toContain('**Grace**');
	expect(strFromU8(files['channels/general.md'])).toContain('> Confirmed, chain out');
	expect(strFromU8(files['channels/数据主权 log.md'])).toContain('测量数据 ok');
	const noteFile = Object.keys(files).find((name) => name.startsWith('notes/') && name.endsWith('.md'));
	expect(noteFile).toBeDefined();
	expect(strFromU8(files[noteFile!]!)).toContain('Leave at dawn, 数据主权 first.');

	// A fresh profile: nothing there, not even through the relay (the export has no secret).
	const other = await freshPage(browser);
	const dialog = await importFrom(other, path);
	await expect(dialog.getByRole('status')).toContainText('Restored “Expedition” (6 documents)');
	await dialog.getByRole('button', { name: 'Close' }).click();
	await expect(channelNav(other).getByRole('heading', { name: 'Expedition' })).toBeVisible();
	await checkContent(other);
	// Without the secret it cannot invite anyone: Invite says how to get it synced.
	await other.getByRole('button', { name: 'Invite' }).click();
	const invite = other.getByRole('dialog', { name: /^Invite to / });
	await expect(invite.getByRole('note')).toContainText('join it with an invite link from a member');
	await expect(invite.getByRole('textbox', { name: 'Invite link' })).toHaveCount(0);
	await invite.getByRole('button', { name: 'Close' }).click();

	// Every document arrived exactly: its exported state is byte for byte the original
	// (the roster gains the new device as a member, so it only has to contain the original).
	const again = statesOf(await exportTo(other, testInfo.outputPath('again.outpost.zip')));
	expect(again.manifest.workspace).toEqual(original.manifest.workspace);
	for (const [id, state] of original.states) {
		if (id === original.manifest.workspace.rosterId) continue;
		expect(again.states.get(id), id).toBe(state);
	}

	// The same file again: nothing changes, nothing is duplicated.
	const second = await importFrom(other, path);
	await expect(second.getByRole('status')).toContainText('“Expedition” is already up to date: nothing changed.');
	await second.getByRole('button', { name: 'Close' }).click();
	await expect(other.getByRole('navigation', { name: 'Workspaces' }).getByRole('button', { name: 'Expedition' })).toHaveCount(1);
	await checkContent(other);
	// And after a reload, from storage.
	await other.reload();
	await expect(channelNav(other).getByRole('heading', { name: 'Expedition' })).toBeVisible();
	await checkContent(other);
	await other.context().close();
});

test('a truncated, foreign or damaged file is refused with a message and changes nothing', async ({ page, browser }, testInfo) => {
	await openApp(page);
	await createWorkspace(page, 'Source');
	await post(page, 'from the source');
	const exported = await exportTo(page, testInfo.outputPath('source.outpost.zip'));

	const truncated = testInfo.outputPath('truncated.zip');
	writeFileSync(truncated, exported.slice(0, Math.floor(exported.length * 0.6)));
	const foreign = testInfo.outputPath('holiday-photos.zip');
	writeFileSync(foreign, zipSync({ 'photo-1.txt': strToU8('not a photo'), 'notes/readme.md': strToU8('# hello') }));
	const text = testInfo.outputPath('notes.zip');
	writeFileSync(text, 'just some text with a .zip name');
	const damaged = testInfo.outputPath('damaged.zip');
	const files = unzipSync(exported);
	const { documents } = JSON.parse(strFromU8(files['manifest.json'])) as Manifest;
	const state = files[documents.find((d) => d.kind === 'channel')!.state];
	state[state.length - 2] ^= 0x55;
	writeFileSync(damaged, zipSync(files));

	const other = await freshPage(browser);
	await createWorkspace(other, 'Keep');
	await post(other, 'keep this');
	const databases = () => other.evaluate(async () => (await indexedDB.databases()).map((d) => d.name).sort());
	const before = await databases();

	const cases: [string, RegExp][] = [
		[truncated, /damaged or incomplete/],
		[foreign, /not an Outpost workspace export: it has no manifest/],
		[text, /not an Outpost workspace export/],
		[damaged, /does not match its checksum/]
	];
	for (const [file, error] of cases) {
		const dialog = await importFrom(other, file);
		await expect(dialog.getByRole('alert')).toHaveText(error);
		await expect(dialog.getByRole('alert')).toContainText('Nothing was changed');
		await expect(dialog.getByRole('status')).toHaveCount(0);
		await dialog.getByRole('button', { name: 'Close' }).click();
	}
	expect(await databases()).toEqual(before);
	await expect(other.getByRole('navigation', { name: 'Workspaces' }).getByRole('button', { name: 'Source' })).toHaveCount(0);
	await expect(channelNav(other).getByRole('heading', { name: 'Keep' })).toBeVisible();
	await expect(other.getByRole('main').getByRole('article')).toHaveCount(1);
	await other.context().close();
});

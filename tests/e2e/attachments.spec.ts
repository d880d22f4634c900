/**
 * Attachments end to end, every step through the UI: a member attaches an image and a file in
 * one browser; another browser shows the image inline (the full image, fetched peer to peer
 * over WebRTC, not only the sender's thumbnail) and downloads the file with the same bytes. The
 * relay, which archives the workspace, pins both: a member who joins after the sender has
 * closed their browser still gets them. In a private channel the file is sealed on the sender
 * (its device stores no plaintext) and opens on the other member's device. Media is made by
 * the test (an image drawn on a canvas).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Page } from '@playwright/test';
import { expect, test } from './suite';
import { channelLink, channelNav, createInvite, createWorkspace, inviteDialog, inviteLinkOf, joinWith, keepOnRelay, message, setDisplayName } from './helpers';
import { useDevices } from './devices';

const { relay, device } = useDevices();

/** A private channel's link in the navigation. */
function privateLink(page: Page, name: string) {
	return channelNav(page).getByRole('link', { name: new RegExp(`^${name}\\b.*\\bPrivate\\b`) });
}

/** A PNG of `width`×`height` drawn in the page (gradient and noise, so it does not compress to nothing). */
async function drawnPng(page: Page, width: number, height: number): Promise<Buffer> {
	const base64 = await page.evaluate(
		async ({ width, height }) => {
			const canvas = new OffscreenCanvas(width, height);
			const g = canvas.getContext('2d')!;
			const gradient = g.createLinearGradient(0, 0, width, height);
			gradient.addColorStop(0, '#0a6');
			gradient.addColorStop(1, '#06c');
			g.fillStyle = gradient;
			g.fillRect(0, 0, width, height);
			for (let i = 0; i < 4000; i++) {
				g.fillStyle = `hsl(${(i * 37) % 360} 70% 50%)`;
				g.fillRect((i * 7919) % width, (i * 104729) % height, 6, 6);
			}
			const blob = await canvas.convertToBlob({ type: 'image/png' });
			const bytes = new Uint8Array(await blob.arrayBuffer());
			let text = '';
			for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
			return btoa(text);
		},
		{ width, height }
	);
	return Buffer.from(base64, 'base64');
}

/** Waits until the image named `name` shows the whole picture (its natural size, not the thumbnail's). */
async function expectFullImage(page: Page, name: string, width: number): Promise<void> {
	const image = page.getByRole('main').getByRole('img', { name }).first();
	await expect(image).toBeVisible({ timeout: 30_000 });
	await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { timeout: 30_000 }).toBe(width);
}

/** Downloads `name` from its card and returns the bytes' SHA-256. */
async function downloaded(page: Page, name: string): Promise<string> {
	const waiting = page.waitForEvent('download', { timeout: 30_000 });
	await page.getByRole('main').getByRole('button', { name: `Download ${name}` }).click();
	const download = await waiting;
	expect(download.suggestedFilename()).toBe(name);
	return createHash('sha256').update(await readFile((await download.path())!)).digest('hex');
}

test('an image and a file reach another browser, and a member who joins after the sender left', async () => {
	test.setTimeout(150_000);
	const r = await relay(4191);
	const ada = await device(r);
	await createWorkspace(ada, 'Survey');
	await ada.getByRole('button', { name: 'Invite', exact: true }).click();
	const dialog = inviteDialog(ada);
	const link = await createInvite(dialog, { uses: 10 });
	await keepOnRelay(dialog);

	const bea = await device(r);
	await joinWith(bea, link, 'Bea');
	await expect(bea.getByRole('navigation', { name: 'Channels' }).getByRole('heading', { name: 'Survey' })).toBeVisible({ timeout: 20_000 });
	await channelLink(bea, 'general').click();

	// Ada attaches an image (1200×800) and a file, with a line of text.
	const png = await drawnPng(ada, 1200, 800);
	const report = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31) % 256));
	const reportHash = createHash('sha256').update(report).digest('hex');
	await ada.getByLabel('Files to attach').setInputFiles([
		{ name: 'reef.png', mimeType: 'image/png', buffer: png },
		{ name: 'report.bin', mimeType: 'application/octet-stream', buffer: report }
	]);
	const chips = ada.getByRole('list', { name: 'Files to send' });
	await expect(chips.getByRole('button', { name: 'Remove reef.png' })).toBeVisible();
	await expect(chips.getByRole('progressbar')).toHaveCount(0, { timeout: 20_000 });
	await ada.getByRole('textbox', { name: 'Message', exact: true }).fill('survey photos');
	await ada.getByRole('button', { name: 'Send', exact: true }).click();
	await expect(chips).toHaveCount(0);
	await expectFullImage(ada, 'reef.png', 1200);

	// Bea sees the whole image, fetched from Ada, and downloads the same bytes of the file.
	await expect(message(bea, 'survey photos')).toBeVisible({ timeout: 20_000 });
	await expectFullImage(bea, 'reef.png', 1200);
	await expect(message(bea, 'survey photos').getByText('report.bin')).toBeVisible();
	expect(await downloaded(bea, 'report.bin')).toBe(reportHash);
	// The image opens full size.
	await bea.getByRole('button', { name: 'Open reef.png' }).click();
	const viewer = bea.getByRole('dialog', { name: 'reef.png' });
	await expect(viewer.getByRole('img', { name: 'reef.png' })).toBeVisible();
	await viewer.getByRole('button', { name: 'Close' }).click();
	await expect(viewer).toBeHidden();

	// Ada and Bea leave; Cy joins and gets both from the relay alone.
	await ada.context().close();
	await bea.context().close();
	const cy = await device(r);
	await joinWith(cy, link, 'Cy');
	await expect(cy.getByRole('navigation', { name: 'Channels' }).getByRole('heading', { name: 'Survey' })).toBeVisible({ timeout: 30_000 });
	await channelLink(cy, 'general').click();
	await expect(message(cy, 'survey photos')).toBeVisible({ timeout: 30_000 });
	await expectFullImage(cy, 'reef.png', 1200);
	expect(await downloaded(cy, 'report.bin')).toBe(reportHash);
});

test('an image in a private channel is sealed on the sender and opens on the other member’s device', async () => {
	test.setTimeout(120_000);
	const r = await relay(4193);
	const ada = await device(r);
	await setDisplayName(ada, 'Ada');
	await createWorkspace(ada, 'Salvage');
	const link = await inviteLinkOf(ada);
	const bea = await device(r);
	await joinWith(bea, link, 'Bea');
	await expect(channelLink(bea, 'general')).toBeVisible({ timeout: 30_000 });

	await ada.getByRole('button', { name: 'New channel' }).click();
	const dialog = ada.getByRole('dialog', { name: 'New channel' });
	await dialog.getByRole('textbox', { name: 'Channel name' }).fill('wreck');
	await dialog.getByRole('checkbox', { name: 'Private channel' }).check();
	await expect(dialog.getByRole('checkbox', { name: 'Share with Bea' })).toBeVisible({ timeout: 20_000 });
	await dialog.getByRole('checkbox', { name: 'Share with Bea' }).check();
	await dialog.getByRole('button', { name: 'Create channel' }).click();
	await expect(privateLink(ada, 'wreck')).toHaveAttribute('aria-current', 'page');

	const png = await drawnPng(ada, 900, 600);
	await ada.getByLabel('Files to attach').setInputFiles([{ name: 'hull.png', mimeType: 'image/png', buffer: png }]);
	await expect(ada.getByRole('list', { name: 'Files to send' }).getByRole('progressbar')).toHaveCount(0, { timeout: 20_000 });
	await ada.getByRole('textbox', { name: 'Message', exact: true }).fill('hull damage');
	await ada.getByRole('button', { name: 'Send', exact: true }).click();
	await expectFullImage(ada, 'hull.png', 900);

	// What Ada's device stores is the sealed blob: no run of the PNG's bytes appears in it.
	const stored = await ada.evaluate(async () => {
		const open = indexedDB.open('outpost');
		const db = await new Promise<IDBDatabase>((resolve, reject) => {
			open.onsuccess = () => resolve(open.result);
			open.onerror = () => reject(open.error);
		});
		const rows = await new Promise<Array<{ bytes: Uint8Array }>>((resolve, reject) => {
			const request = db.transaction('blobChunks').objectStore('blobChunks').getAll();
			request.onsuccess = () => resolve(request.result as Array<{ bytes: Uint8Array }>);
			request.onerror = () => reject(request.error);
		});
		db.close();
		return rows.map((row) => Array.from(row.bytes.subarray(0, 4096)));
	});
	expect(stored.length).toBeGreaterThan(0);
	const head = png.subarray(0, 32);
	for (const chunk of stored) expect(Buffer.from(chunk).includes(head)).toBe(false);

	await expect(privateLink(bea, 'wreck')).toBeVisible({ timeout: 30_000 });
	await privateLink(bea, 'wreck').click();
	await expect(message(bea, 'hull damage')).toBeVisible({ timeout: 20_000 });
	await expectFullImage(bea, 'hull.png', 900);
});

test('an admin blocks a type and sets the largest file; a member is told why a file cannot be attached', async () => {
	test.setTimeout(90_000);
	const r = await relay(4194);
	const ada = await device(r);
	await createWorkspace(ada, 'Rules');
	const link = await inviteLinkOf(ada);
	const bea = await device(r);
	await joinWith(bea, link, 'Bea');
	await expect(channelLink(bea, 'general')).toBeVisible({ timeout: 30_000 });

	// Ada (the owner) sets the rule in Members → Files.
	await ada.getByRole('button', { name: 'Members', exact: true }).click();
	const members = ada.getByRole('dialog', { name: /^Members of / });
	const files = members.getByRole('region', { name: 'Files' });
	await files.getByRole('spinbutton', { name: 'Largest file (MB)' }).fill('1');
	await files.getByRole('textbox', { name: 'Blocked types' }).fill('.exe, video/*');
	await files.getByRole('button', { name: 'Save file rules' }).click();
	await expect(files.getByRole('status')).toHaveText('File rules saved.');
	await expect(files.getByText(/Blocked: \.exe, video\/\*/)).toBeVisible();
	await members.getByRole('button', { name: 'Close' }).last().click();

	// Bea reads the rule, and her device refuses what it forbids, saying why.
	await bea.getByRole('button', { name: 'Members', exact: true }).click();
	const beaMembers = bea.getByRole('dialog', { name: /^Members of / });
	await expect(beaMembers.getByText(/Blocked: \.exe, video\/\*/)).toBeVisible({ timeout: 20_000 });
	await expect(beaMembers.getByRole('button', { name: 'Save file rules' })).toHaveCount(0);
	await beaMembers.getByRole('button', { name: 'Close' }).last().click();
	const input = bea.getByLabel('Files to attach');
	await input.setInputFiles([{ name: 'setup.exe', mimeType: 'application/octet-stream', buffer: Buffer.alloc(1000, 1) }]);
	await expect(bea.getByRole('alert').filter({ hasText: 'The workspace does not allow files like setup.exe' })).toBeVisible();
	await input.setInputFiles([{ name: 'survey.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(1024 * 1024 + 1, 2) }]);
	await expect(bea.getByRole('alert').filter({ hasText: /survey\.bin is .* over the .* limit/ })).toBeVisible();
	await expect(bea.getByRole('list', { name: 'Files to send' }).getByRole('listitem')).toHaveCount(0);
	// What is allowed still goes.
	await input.setInputFiles([{ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('tide tables') }]);
	await expect(bea.getByRole('list', { name: 'Files to send' }).getByRole('button', { name: 'Remove notes.txt' })).toBeVisible();
});

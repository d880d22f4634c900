/**
 * Data that arrives from elsewhere: forged signatures, damaged storage, messages written
 * long ago that arrive late, and unread messages by others. The data is planted straight
 * into the page's IndexedDB, as another device's sync or a damaged disk would leave it.
 */
import { expect, test } from './suite';
import * as Y from 'yjs';
import { formatHlc } from '../../src/lib/doc/hlc';
import { signDeletion } from '../../src/lib/doc/signature';
import {
	channelId,
	channelLink,
	channelUpdate,
	createChannel,
	createWorkspace,
	message,
	openApp,
	memberDevice,
	otherDevice,
	plantUpdates,
	post,
	signedMessage
} from './helpers';

test.beforeEach(async ({ page }) => {
	await openApp(page);
	await createWorkspace(page, 'Integrity');
});

test('a forged message (signature mismatch) is marked, a genuine one is not', async ({ page }) => {
	const id = await channelId(page, 'general');
	const mallory = await memberDevice(page, 'Mallory');
	const genuine = await signedMessage(mallory, 'genuine words', Date.now());
	const signed = await signedMessage(mallory, 'pay 10 coins to Alice', Date.now());
	const forged = { ...signed, text: 'pay 1000 coins to Mallory' };
	await plantUpdates(page, id, [Array.from(channelUpdate([genuine, forged]))]);
	await page.reload();
	const bad = message(page, 'pay 1000 coins to Mallory');
	await expect(bad.getByRole('note')).toHaveText(/Unverified: the signature does not match/);
	await expect(message(page, 'genuine words')).toBeVisible();
	await expect(message(page, 'genuine words').getByRole('note')).toHaveCount(0);
});

test('a post signed by a key the team never admitted does not show (a guest\'s throwaway key)', async ({ page }) => {
	const id = await channelId(page, 'general');
	const stranger = await otherDevice();
	await plantUpdates(page, id, [Array.from(channelUpdate([await signedMessage(stranger, 'posted with a throwaway key', Date.now())]))]);
	await page.reload();
	await expect(page.getByRole('main').getByRole('note').filter({ hasText: 'Not shown: posted where its author may not post' })).toHaveCount(1);
	await expect(page.getByText('posted with a throwaway key')).toHaveCount(0);
});

test('a deletion forged in the author\'s name does not hide the message', async ({ page }) => {
	await post(page, 'do not let Mallory hide this');
	const id = await channelId(page, 'general');
	const msgId = await message(page, 'do not let Mallory hide this').getAttribute('data-message-id');
	const author = await page.evaluate(async () => {
		const req = indexedDB.open('outpost');
		const db = await new Promise<IDBDatabase>((r) => (req.onsuccess = () => r(req.result)));
		const row = await new Promise<{ peerId: string }>((r) => {
			const get = db.transaction('identity').objectStore('identity').get('self');
			get.onsuccess = () => r(get.result);
		});
		db.close();
		return row.peerId;
	});
	const mallory = await otherDevice();
	const forged = await signDeletion(mallory.key, msgId!, { by: author, hlc: formatHlc({ wall: Date.now(), counter: 0, node: author }) });
	const doc = new Y.Doc();
	doc.getMap('deletions').set(msgId!, forged);
	await plantUpdates(page, id, [Array.from(Y.encodeStateAsUpdate(doc))]);
	await page.reload();
	await expect(message(page, 'do not let Mallory hide this')).toBeVisible();
	await expect(page.getByText('message deleted', { exact: true })).toHaveCount(0);
});

test('a message written long ago lands in its place in history and is marked as arrived later', async ({ page }) => {
	await post(page, 'first, written today');
	await post(page, 'second, written today');
	await page.waitForTimeout(700); // the device's bookkeeping of what it has seen
	const id = await channelId(page, 'general');
	const sailor = await memberDevice(page);
	const old = await signedMessage(sailor, 'written offline two hours ago', Date.now() - 2 * 3600_000);
	await plantUpdates(page, id, [Array.from(channelUpdate([old]))]);
	await page.reload();
	const articles = page.getByRole('main').getByRole('article');
	await expect(articles).toHaveCount(3);
	await expect(articles.nth(0)).toContainText('written offline two hours ago');
	await expect(articles.nth(0)).toContainText('arrived later');
	await expect(articles.nth(1)).not.toContainText('arrived later');
	// The mark is this device's memory and survives another reload.
	await page.reload();
	await expect(message(page, 'written offline two hours ago')).toContainText('arrived later');
});

test('unread counts per channel, and a jump to the first unread', async ({ page }) => {
	await createChannel(page, 'ops');
	for (let i = 1; i <= 3; i++) await post(page, `my own note ${i}`);
	await channelLink(page, 'general').click();
	await page.waitForTimeout(700);
	const ops = await channelId(page, 'ops');
	const peer = await memberDevice(page);
	const now = Date.now();
	const news = [];
	for (let i = 1; i <= 40; i++) news.push(await signedMessage(peer, `update ${i} from the bridge`, now + i));
	await plantUpdates(page, ops, [Array.from(channelUpdate(news))]);
	await page.reload();
	await expect(channelLink(page, 'ops').getByLabel('40 unread messages')).toBeVisible();
	await channelLink(page, 'ops').click();
	await page.getByRole('button', { name: 'Jump to first unread' }).click();
	await expect(message(page, 'update 1 from the bridge')).toBeInViewport();
	await expect(page.getByRole('separator')).toHaveText('New messages');
	await channelLink(page, 'general').click();
	await expect(channelLink(page, 'ops').getByLabel(/unread/)).toHaveCount(0);
});

test('a damaged stored entry gives a clear error for that channel; the rest keeps working', async ({ page }) => {
	await createChannel(page, 'damaged');
	await post(page, 'this survives the damage');
	await channelLink(page, 'general').click();
	await post(page, 'general is fine');
	const id = await channelId(page, 'damaged');
	await plantUpdates(page, id, [[255, 255, 255, 255, 255, 255, 255, 255, 255, 255], 'not an update at all']);
	await page.reload();
	await expect(message(page, 'general is fine')).toBeVisible();
	await channelLink(page, 'damaged').click();
	await expect(page.getByRole('alert')).toContainText('damaged and has been set aside (2 entries)');
	await expect(message(page, 'this survives the damage')).toBeVisible();
	await post(page, 'still writable');
	await page.reload();
	await channelLink(page, 'damaged').click();
	await expect(message(page, 'still writable')).toBeVisible();
	await expect(message(page, 'this survives the damage')).toBeVisible();
	// The damaged bytes were set aside, not deleted.
	const kept = await page.evaluate(async (name) => {
		const db = await new Promise<IDBDatabase>((resolve) => {
			const req = indexedDB.open(name);
			req.onsuccess = () => resolve(req.result);
		});
		const keys = await new Promise<IDBValidKey[]>((resolve) => {
			const req = db.transaction('custom').objectStore('custom').getAllKeys();
			req.onsuccess = () => resolve(req.result);
		});
		db.close();
		return keys.map(String).filter((k) => k.startsWith('quarantine:')).length;
	}, `outpost-doc:${id}`);
	expect(kept).toBe(2);
});

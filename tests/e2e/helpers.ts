/**
 * Shared steps of the end-to-end tests, written against the UI contract (roles and
 * accessible names), plus tools to plant data in a page's IndexedDB the way another
 * device's sync (or a damaged disk) would.
 */
import type { Locator, Page } from '@playwright/test';
import { expect } from './suite';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import * as Y from 'yjs';
import { formatHlc } from '../../src/lib/doc/hlc';
import { newId } from '../../src/lib/doc/ids';
import type { MessageRecord } from '../../src/lib/doc/schema';
import { signMessage } from '../../src/lib/doc/signature';
import { deviceKeyFromProtobuf, peerIdOfKey } from '../../src/lib/doc/deviceKey';
import { addTeamOp, readTeamOps } from '../../src/lib/doc/team/TeamDoc';
import type { TeamRole } from '../../src/lib/doc/team/ops';
import { signTeamOp } from '../../src/lib/doc/team/sign';

/** Opens the app and waits until it is ready. */
export async function openApp(page: Page): Promise<void> {
	await page.goto('/');
	await expect(page.getByRole('button', { name: 'New workspace' }).first()).toBeVisible();
}

/** Creates a workspace through the UI; it opens on its "general" channel. */
export async function createWorkspace(page: Page, name: string): Promise<void> {
	await page.getByRole('button', { name: 'New workspace' }).first().click();
	const dialog = page.getByRole('dialog', { name: 'New workspace' });
	await dialog.getByRole('textbox', { name: 'Workspace name' }).fill(name);
	await dialog.getByRole('button', { name: 'Create workspace' }).click();
	await expect(dialog).toBeHidden();
	await expect(channelNav(page).getByRole('heading', { name })).toBeVisible();
	await expect(channelLink(page, 'general')).toHaveAttribute('aria-current', 'page');
}

/** The channel navigation landmark. */
export function channelNav(page: Page) {
	return page.getByRole('navigation', { name: 'Channels' });
}

/** A channel's link in the navigation. */
export function channelLink(page: Page, name: string) {
	return channelNav(page).getByRole('link', { name: new RegExp(`^# ${name}\\b`) });
}

/** Creates a channel through the UI (it opens). */
export async function createChannel(page: Page, name: string, topic = ''): Promise<void> {
	await page.getByRole('button', { name: 'New channel' }).click();
	const dialog = page.getByRole('dialog', { name: 'New channel' });
	await dialog.getByRole('textbox', { name: 'Channel name' }).fill(name);
	if (topic) await dialog.getByRole('textbox', { name: 'Topic' }).fill(topic);
	await dialog.getByRole('button', { name: 'Create channel' }).click();
	await expect(dialog).toBeHidden();
	await expect(channelLink(page, name)).toHaveAttribute('aria-current', 'page');
}

/** In the open Invite dialog: asks the relay that served the app to keep the workspace, waits until it does, and closes the dialog. */
export async function keepOnRelay(dialog: Locator): Promise<void> {
	await dialog.getByRole('button', { name: 'Add this workspace to the relay' }).click();
	await expect(dialog.getByText('The relay keeps a copy of this workspace.')).toBeVisible();
	await dialog.getByRole('button', { name: 'Close' }).click();
}

/**
 * Creates a note through "New note" and gives it a title (once the new note is open, its title
 * empty: typed earlier, the title would go to the note before it); with `body`, types it too.
 */
export async function newNote(page: Page, name: string, body?: string): Promise<void> {
	await page.getByRole('button', { name: 'New note' }).click();
	const title = page.getByRole('textbox', { name: 'Note title' });
	await expect(title).toHaveValue('');
	await title.fill(name);
	if (body === undefined) return;
	await page.getByRole('textbox', { name: 'Note body' }).click();
	await page.keyboard.type(body);
}

/**
 * Posts a message in the open channel and waits for it to appear (`shown` is the rendered
 * text to wait for, when Markdown changes it).
 */
export async function post(page: Page, text: string, shown = text): Promise<void> {
	const box = page.getByRole('textbox', { name: 'Message', exact: true });
	await box.fill(text);
	await page.getByRole('button', { name: 'Send', exact: true }).click();
	await expect(box).toHaveValue('');
	await expect(page.getByRole('main').getByRole('article').filter({ hasText: shown }).first()).toBeVisible();
}

/** The message article containing `text`. */
export function message(page: Page, text: string) {
	return page.getByRole('main').getByRole('article').filter({ hasText: text });
}

/** Sets the display name in Settings. */
export async function setDisplayName(page: Page, name: string): Promise<void> {
	await page.getByRole('button', { name: 'Settings' }).click();
	const dialog = page.getByRole('dialog', { name: 'Settings' });
	await dialog.getByRole('textbox', { name: 'Display name' }).fill(name);
	await dialog.getByRole('button', { name: 'Save' }).click();
	// By its words: a section of the dialog still loading says "Loading…" in a status of its own.
	await expect(dialog.getByRole('status').filter({ hasText: 'Settings saved.' })).toBeVisible();
	await dialog.getByRole('button', { name: 'Close' }).click();
}

/** The document id of a channel (from its link). */
export async function channelId(page: Page, name: string): Promise<string> {
	const href = await channelLink(page, name).getAttribute('href');
	const id = href?.split('/').pop();
	if (!id) throw new Error(`no id for channel ${name}`);
	return id;
}

/** Another device: a key pair and its peer id. */
export async function otherDevice() {
	const key = await generateKeyPair('Ed25519');
	return { key, peerId: peerIdFromPrivateKey(key).toString() };
}

/**
 * Another device made a member of the page's open workspace, as if its owner had added it on
 * another of its devices: an `add` operation signed with the page's own key, stored in the
 * roster's update log (reload the page for it to count). Posts of a device the team never knew
 * do not show, so planted messages come from such a member.
 */
export async function memberDevice(page: Page, name = 'Sailor', role: TeamRole = 'member') {
	const device = await otherDevice();
	const held = await page.evaluate(async () => {
		const open = (name: string) =>
			new Promise<IDBDatabase>((resolve, reject) => {
				const req = indexedDB.open(name);
				req.onsuccess = () => resolve(req.result);
				req.onerror = () => reject(req.error);
			});
		const all = <T>(db: IDBDatabase, store: string) =>
			new Promise<T[]>((resolve, reject) => {
				const req = db.transaction(store).objectStore(store).getAll();
				req.onsuccess = () => resolve(req.result as T[]);
				req.onerror = () => reject(req.error);
			});
		const app = await open('outpost');
		const [self] = await all<{ privateKey: Uint8Array }>(app, 'identity');
		const workspaces = await all<{ id: string; rosterId: string; lastOpenedAt: number }>(app, 'workspaces');
		app.close();
		const ws = workspaces.sort((a, b) => b.lastOpenedAt - a.lastOpenedAt)[0]!;
		const roster = await open(`outpost-doc:${ws.rosterId}`);
		const updates = await all<unknown>(roster, 'updates');
		roster.close();
		return { key: Array.from(self!.privateKey), ws: ws.id, rosterId: ws.rosterId, updates: updates.filter((u) => u instanceof Uint8Array).map((u) => Array.from(u as Uint8Array)) };
	});
	const doc = new Y.Doc();
	for (const u of held.updates) Y.applyUpdate(doc, new Uint8Array(u));
	const { ops } = readTeamOps(doc);
	const named = new Set(ops.flatMap((op) => op.payload.prev));
	const heads = ops.map((op) => op.id).filter((id) => !named.has(id));
	const key = deviceKeyFromProtobuf(new Uint8Array(held.key));
	const before = Y.encodeStateVector(doc);
	addTeamOp(doc, await signTeamOp(key, peerIdOfKey(key), { ws: held.ws, prev: heads, at: Date.now() }, { t: 'add', member: device.peerId, role, name }));
	await plantUpdates(page, held.rosterId, [Array.from(Y.encodeStateAsUpdate(doc, before))]);
	return device;
}

/** A message signed by `device`, written at `wall` ms. */
export async function signedMessage(
	device: Awaited<ReturnType<typeof otherDevice>>,
	text: string,
	wall: number
): Promise<MessageRecord> {
	return signMessage(device.key, {
		id: newId(),
		author: device.peerId,
		hlc: formatHlc({ wall, counter: 0, node: device.peerId }),
		text
	});
}

/** A Yjs update appending `records` to a channel document's message array. */
export function channelUpdate(records: MessageRecord[]): Uint8Array {
	const doc = new Y.Doc();
	doc.getArray('messages').push(records);
	return Y.encodeStateAsUpdate(doc);
}

/**
 * Appends raw entries to the y-indexeddb update store of a document, as if another writer
 * had stored them. `entries` are byte arrays (or anything else, to simulate damage).
 */
export async function plantUpdates(page: Page, docId: string, entries: (number[] | string)[]): Promise<void> {
	await page.evaluate(
		async ({ name, entries }) => {
			const db = await new Promise<IDBDatabase>((resolve, reject) => {
				const req = indexedDB.open(name);
				req.onsuccess = () => resolve(req.result);
				req.onerror = () => reject(req.error);
			});
			await new Promise<void>((resolve, reject) => {
				const tx = db.transaction('updates', 'readwrite');
				const store = tx.objectStore('updates');
				for (const e of entries) store.add(typeof e === 'string' ? e : new Uint8Array(e));
				tx.oncomplete = () => resolve();
				tx.onerror = () => reject(tx.error);
			});
			db.close();
		},
		{ name: `outpost-doc:${docId}`, entries }
	);
}

/** What a new invitation admits (the Invite dialog's defaults: a member, one person, a day). */
export interface InviteOptions {
	role?: 'Member' | 'Admin' | 'Guest (read-only)' | 'Relay';
	/** How many people can join with it. */
	uses?: number;
	validFor?: '1 hour' | '1 day' | '7 days';
}

/**
 * In the open Invite dialog: creates an invitation, checks its QR code is shown, and returns
 * its link.
 */
export async function createInvite(dialog: Locator, options: InviteOptions = {}): Promise<string> {
	if (options.role) await dialog.getByRole('combobox', { name: 'Role' }).selectOption({ label: options.role });
	if (options.uses !== undefined) await dialog.getByRole('spinbutton', { name: 'How many people can join' }).fill(String(options.uses));
	if (options.validFor) await dialog.getByRole('combobox', { name: 'Valid for' }).selectOption({ label: options.validFor });
	const box = dialog.getByRole('textbox', { name: 'Invite link' });
	const before = (await box.count()) > 0 ? await box.inputValue() : '';
	await dialog.getByRole('button', { name: 'Create invite link' }).click();
	await expect(box).not.toHaveValue(before);
	await expect(dialog.getByRole('img', { name: 'QR code of the invite link' })).toBeVisible();
	return box.inputValue();
}

/** The Invite dialog of the open workspace. */
export function inviteDialog(page: Page): Locator {
	return page.getByRole('dialog', { name: /^Invite to / });
}

/**
 * Opens "Invite", creates an invitation and returns its link. Several browsers of one test
 * often join with the same link, so it admits 10 people unless `options.uses` says otherwise.
 */
export async function inviteLinkOf(page: Page, options: InviteOptions = {}): Promise<string> {
	await page.getByRole('button', { name: 'Invite', exact: true }).click();
	const dialog = inviteDialog(page);
	const link = await createInvite(dialog, { uses: 10, ...options });
	await dialog.getByRole('button', { name: 'Close' }).click();
	return link;
}

/** Joins through "Join workspace" with a display name. */
export async function joinWith(page: Page, link: string, name: string): Promise<void> {
	await page.getByRole('button', { name: 'Join workspace' }).first().click();
	const dialog = page.getByRole('dialog', { name: 'Join a workspace' });
	await dialog.getByRole('textbox', { name: 'Invite link' }).fill(link);
	await dialog.getByRole('textbox', { name: 'Display name' }).fill(name);
	await dialog.getByRole('button', { name: 'Join', exact: true }).click();
	await expect(dialog).toBeHidden();
}

/**
 * The UI steps the benchmark takes, against the same contract as the e2e tests
 * (tests/e2e/helpers.ts: roles and accessible names), written for playwright-core with a
 * timeout on every wait, plus planting bytes into a document's y-indexeddb database.
 */
import type { Locator, Page } from 'playwright-core';

/** Longest wait for an ordinary UI step. */
export const STEP_TIMEOUT_MS = 30_000;

/** The channel navigation landmark. */
export function channelNav(page: Page): Locator {
	return page.getByRole('navigation', { name: 'Channels' });
}

/** A channel's link in the navigation (its name may be followed by an unread count). */
export function channelLink(page: Page, name: string): Locator {
	return channelNav(page).getByRole('link', { name: new RegExp(`^# ${name}\\b`) });
}

/** Waits until `name` is the channel shown. */
export async function waitCurrent(page: Page, name: string, timeout = STEP_TIMEOUT_MS): Promise<void> {
	await channelLink(page, name).and(page.locator('[aria-current="page"]')).waitFor({ timeout });
}

/** Opens the app and waits until its first screen is up. */
export async function openApp(page: Page, url: string): Promise<void> {
	await page.goto(url, { timeout: STEP_TIMEOUT_MS });
	await page.getByRole('button', { name: 'New workspace' }).first().waitFor({ timeout: STEP_TIMEOUT_MS });
}

/** Creates a workspace through the UI; it opens on its "general" channel. */
export async function createWorkspace(page: Page, name: string): Promise<void> {
	await page.getByRole('button', { name: 'New workspace' }).first().click({ timeout: STEP_TIMEOUT_MS });
	const dialog = page.getByRole('dialog', { name: 'New workspace' });
	await dialog.getByRole('textbox', { name: 'Workspace name' }).fill(name, { timeout: STEP_TIMEOUT_MS });
	await dialog.getByRole('button', { name: 'Create workspace' }).click({ timeout: STEP_TIMEOUT_MS });
	await dialog.waitFor({ state: 'hidden', timeout: STEP_TIMEOUT_MS });
	await waitCurrent(page, 'general');
}

/** Creates a channel through the UI (it opens). */
export async function createChannel(page: Page, name: string): Promise<void> {
	await page.getByRole('button', { name: 'New channel' }).click({ timeout: STEP_TIMEOUT_MS });
	const dialog = page.getByRole('dialog', { name: 'New channel' });
	await dialog.getByRole('textbox', { name: 'Channel name' }).fill(name, { timeout: STEP_TIMEOUT_MS });
	await dialog.getByRole('button', { name: 'Create channel' }).click({ timeout: STEP_TIMEOUT_MS });
	await dialog.waitFor({ state: 'hidden', timeout: STEP_TIMEOUT_MS });
	await waitCurrent(page, name);
}

/** The document id of a channel, from its link's `#/c/<id>`. */
export async function channelId(page: Page, name: string): Promise<string> {
	const href = await channelLink(page, name).getAttribute('href', { timeout: STEP_TIMEOUT_MS });
	const id = href?.split('/').pop();
	if (!id) throw new Error(`no id for channel ${name}`);
	return id;
}

/** Path under which {@link plantUpdate} hands the bytes to the page. */
const PLANT_PATH = '/__bench/update/';

/**
 * Appends `update` to the y-indexeddb `updates` store of document `docId`, as another
 * device's sync would have stored it. The bytes (tens of MB) reach the page through an
 * intercepted fetch rather than as a JSON argument.
 */
export async function plantUpdate(page: Page, docId: string, update: Uint8Array): Promise<void> {
	const url = `**${PLANT_PATH}${docId}`;
	await page.route(url, (route) =>
		route.fulfill({ status: 200, contentType: 'application/octet-stream', body: Buffer.from(update) })
	);
	try {
		const stored = await page.evaluate(
			async ({ path, name }) => {
				const response = await fetch(path);
				if (!response.ok) throw new Error(`bench fetch failed: ${response.status}`);
				const bytes = new Uint8Array(await response.arrayBuffer());
				const db = await new Promise<IDBDatabase>((resolve, reject) => {
					const req = indexedDB.open(name);
					req.onsuccess = () => resolve(req.result);
					req.onerror = () => reject(req.error);
				});
				try {
					await new Promise<void>((resolve, reject) => {
						const tx = db.transaction('updates', 'readwrite');
						tx.objectStore('updates').add(bytes);
						tx.oncomplete = () => resolve();
						tx.onerror = () => reject(tx.error);
						tx.onabort = () => reject(tx.error);
					});
				} finally {
					db.close();
				}
				return bytes.length;
			},
			{ path: PLANT_PATH + docId, name: `outpost-doc:${docId}` }
		);
		if (stored !== update.length) throw new Error(`planted ${stored} of ${update.length} bytes`);
	} finally {
		await page.unroute(url);
	}
}

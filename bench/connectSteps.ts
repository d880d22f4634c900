/**
 * The steps of the connect benchmark (bench/connect.ts) in the app, against the UI contract
 * of the e2e tests (roles and accessible names), with a timeout on every wait: persistent
 * profiles that are closed and opened again, posting, inviting, archiving on the relay and
 * joining.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { RelayProcess } from '../tests/e2e/relays.js';
import { installConnectProbe, MESH_MARKS, type WatchFor } from './connectProbe.js';
import { STEP_TIMEOUT_MS } from './ui.js';
import { CHROMIUM_ARGS } from './env.ts';

/** Longest wait for a sync to show; a round that takes longer is recorded without it. */
export const SYNC_TIMEOUT_MS = 20_000;

/** Tall, so every message of the run fits on screen (the message list is windowed). */
export const VIEWPORT = { width: 1280, height: 1400 };
export { CHROMIUM_ARGS };
/**
 * tsx (esbuild, keepNames) wraps named inner functions in `__name(...)`; functions sent to
 * the page carry those calls, so the page needs the helper too.
 */
export const NAME_SHIM = 'globalThis.__name = (fn) => fn;';

/** The `#invite?…` part of an invite link, on the relay's own URL (the link may name a LAN URL). */
export function inviteOn(relay: RelayProcess, link: string): string {
	const at = link.indexOf('#invite?');
	if (at < 0) throw new Error(`not an invite link: ${link}`);
	return `${relay.url}/${link.slice(at)}`;
}

/** A persistent profile that can be closed and opened again. */
export class Profile {
	context: BrowserContext | undefined;

	private constructor(private readonly dir: string) {}

	static async create(): Promise<Profile> {
		return new Profile(await mkdtemp(join(os.tmpdir(), 'outpost-connect-profile-')));
	}

	/** Launches the profile and navigates to `url`, with the probe when `watch` is given. */
	async open(url: string, watch?: WatchFor): Promise<Page> {
		const context = await chromium.launchPersistentContext(this.dir, {
			executablePath: '/usr/bin/chromium',
			args: CHROMIUM_ARGS,
			headless: true,
			locale: 'en-US',
			viewport: VIEWPORT,
			timeout: 60_000
		});
		this.context = context;
		await context.addInitScript({ content: NAME_SHIM });
		if (watch) await context.addInitScript(installConnectProbe, watch);
		const page = context.pages()[0] ?? (await context.newPage());
		page.setDefaultTimeout(STEP_TIMEOUT_MS);
		page.on('pageerror', (error) => console.log(`  page error: ${error.message}`));
		await page.goto(url, { timeout: STEP_TIMEOUT_MS });
		return page;
	}

	async close(): Promise<void> {
		await this.context?.close().catch(() => undefined);
		this.context = undefined;
	}

	async remove(): Promise<void> {
		await this.close();
		await rm(this.dir, { recursive: true, force: true });
	}
}

/** Waits until `mark` is set in the page; false on timeout. */
export async function waitMark(page: Page, mark: string, timeoutMs: number): Promise<boolean> {
	try {
		await page.waitForFunction((name) => performance.getEntriesByName(name, 'mark').length > 0, mark, {
			timeout: timeoutMs,
			polling: 50
		});
		return true;
	} catch {
		return false;
	}
}

/** Posts `text` in the open channel and waits until it is shown. */
export async function post(page: Page, text: string): Promise<void> {
	const box = page.getByRole('textbox', { name: 'Message', exact: true });
	await box.fill(text);
	await page.getByRole('button', { name: 'Send', exact: true }).click();
	await page.getByRole('main').getByRole('article').filter({ hasText: text }).first().waitFor();
}

/**
 * Opens "Invite", creates an invitation for `uses` people (each round's new device uses it),
 * waits for a link that names the relay, adds the workspace to the relay; returns the link.
 */
export async function archiveAndInvite(page: Page, uses = 50): Promise<string> {
	if (!(await waitMark(page, MESH_MARKS.node, SYNC_TIMEOUT_MS))) throw new Error('the mesh node did not start');
	const deadline = Date.now() + STEP_TIMEOUT_MS;
	while (Date.now() < deadline) {
		await page.getByRole('button', { name: 'Invite', exact: true }).click();
		const dialog = page.getByRole('dialog', { name: /^Invite to / });
		await dialog.getByRole('spinbutton', { name: 'How many people can join' }).fill(String(uses));
		await dialog.getByRole('button', { name: 'Create invite link' }).click();
		const box = dialog.getByRole('textbox', { name: 'Invite link' });
		await box.waitFor();
		const link = await box.inputValue();
		if (link.includes('&r=')) {
			await dialog.getByRole('button', { name: 'Add this workspace to the relay' }).click();
			await dialog.getByText('The relay keeps a copy of this workspace.').waitFor();
			await dialog.getByRole('button', { name: 'Close' }).click();
			return link;
		}
		await dialog.getByRole('button', { name: 'Close' }).click();
		await page.waitForTimeout(200);
	}
	throw new Error('the invite link never named the relay');
}

/** Joins through the (prefilled) Join dialog the page was opened with. */
export async function joinPrefilled(page: Page, name: string): Promise<void> {
	const dialog = page.getByRole('dialog', { name: 'Join a workspace' });
	await dialog.getByRole('textbox', { name: 'Display name' }).fill(name);
	await dialog.getByRole('button', { name: 'Join', exact: true }).click();
	await dialog.waitFor({ state: 'hidden' });
}

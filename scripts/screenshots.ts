/**
 * Screenshots of the desktop and phone layouts for the README, made the way the e2e suite
 * drives the app (roles and accessible names): a relay on 127.0.0.1 serving the build, one
 * Chromium (Debian's), a workspace with a few messages, a thread and the channel actions menu.
 *
 *   npm run screenshots        (after `vite build`; writes docs/screenshots/*.png)
 *
 * Stops itself after two minutes.
 */
import '../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { runRelay, type RunningRelay } from '../relay/run.ts';
import { CHROMIUM_ARGS } from '../bench/env.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(root, 'docs', 'screenshots');
const STEP_MS = 30_000;

const watchdog = setTimeout(() => {
	console.error('screenshots: gave up after 2 minutes');
	process.exit(1);
}, 120_000);
watchdog.unref();

/** A workspace named `name`, created with the display name `person`, holding a short conversation. */
async function setUp(page: Page, url: string, person: string): Promise<void> {
	await page.goto(url, { timeout: STEP_MS });
	await page.getByRole('button', { name: 'New workspace' }).first().click({ timeout: STEP_MS });
	const dialog = page.getByRole('dialog', { name: 'New workspace' });
	await dialog.getByRole('textbox', { name: 'Workspace name' }).fill('Research vessel');
	await dialog.getByRole('textbox', { name: 'Display name' }).fill(person);
	await dialog.getByRole('button', { name: 'Create workspace' }).click();
	await dialog.waitFor({ state: 'hidden', timeout: STEP_MS });
	const box = page.getByRole('textbox', { name: 'Message', exact: true });
	for (const text of ['Morning all. CTD cast at 06:00 went fine, data is on the share.', 'Winch #2 is making the noise again.', 'Logged it. **Do not** use it until the engineer has looked.']) {
		await box.fill(text);
		await box.press('Enter');
		await page.getByRole('main').getByRole('article').filter({ hasText: text.replace(/\*/g, '').slice(0, 16) }).waitFor({ timeout: STEP_MS });
	}
}

async function main(): Promise<void> {
	try {
		await stat(join(root, 'build', '200.html'));
	} catch {
		throw new Error('build/ is missing: run `vite build` first');
	}
	await mkdir(OUT, { recursive: true });
	const data = await mkdtemp(join(os.tmpdir(), 'outpost-screenshots-'));
	let relay: RunningRelay | undefined;
	let browser: Browser | undefined;
	try {
		relay = await runRelay({ root: join(root, 'build'), dataDir: data, host: '127.0.0.1', port: 0, mdns: false, log: () => undefined });
		const url = relay.urls()[0];
		if (url === undefined) throw new Error('the relay names no URL');
		browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });

		const desktop = await (await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' })).newPage();
		await setUp(desktop, url, 'Ada');
		await desktop.screenshot({ path: join(OUT, 'desktop-channel.png') });
		const parent = desktop.getByRole('main').getByRole('article').filter({ hasText: 'Winch #2' });
		await parent.hover();
		await parent.getByRole('button', { name: 'Reply' }).click();
		const thread = desktop.getByRole('complementary', { name: 'Thread' });
		await thread.getByRole('textbox', { name: 'Thread reply' }).fill('I will have a look after breakfast.');
		await thread.getByRole('textbox', { name: 'Thread reply' }).press('Enter');
		await thread.getByRole('article').nth(1).waitFor({ timeout: STEP_MS });
		await desktop.screenshot({ path: join(OUT, 'desktop-thread.png') });

		const phone = await (await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true, locale: 'en-US' })).newPage();
		await setUp(phone, url, 'Bea');
		await phone.screenshot({ path: join(OUT, 'phone-channel.png') });
		await phone.getByRole('button', { name: 'Channel actions' }).click();
		await phone.getByRole('menu').waitFor({ timeout: STEP_MS });
		await phone.screenshot({ path: join(OUT, 'phone-actions.png') });
		console.log(`screenshots: wrote desktop-channel, desktop-thread, phone-channel and phone-actions to ${OUT}`);
	} finally {
		await browser?.close().catch(() => undefined);
		await relay?.close().catch(() => undefined);
		await rm(data, { recursive: true, force: true });
	}
}

main().then(
	() => process.exit(0),
	(error: unknown) => {
		console.error('screenshots failed:', error);
		process.exit(1);
	}
);

/** Persistence across browser restarts, offline use, installability. */
import { chromium } from '@playwright/test';
import { expect, expectPageErrors, test, watchContext } from './suite';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM_ARGS } from '../../playwright.config';
import { channelLink, createChannel, createWorkspace, message, openApp, post } from './helpers';

test('everything survives closing and reopening the browser', async ({ baseURL }) => {
	const profile = await mkdtemp(join(tmpdir(), 'outpost-profile-'));
	const launch = async () => {
		const context = await chromium.launchPersistentContext(profile, {
			executablePath: '/usr/bin/chromium',
			args: CHROMIUM_ARGS,
			baseURL,
			locale: 'en-US'
		});
		watchContext(context);
		return context;
	};
	try {
		let context = await launch();
		let page = await context.newPage();
		await openApp(page);
		await createWorkspace(page, 'Persistent');
		await createChannel(page, 'log');
		await post(page, 'written before the restart');
		await page.waitForTimeout(600); // bookkeeping is saved after a short debounce
		await context.close();

		context = await launch();
		page = await context.newPage();
		await page.goto('/');
		await expect(page.getByRole('navigation', { name: 'Channels' }).getByRole('heading', { name: 'Persistent' })).toBeVisible();
		await expect(channelLink(page, 'log')).toHaveAttribute('aria-current', 'page');
		await expect(message(page, 'written before the restart')).toBeVisible();
		await context.close();
	} finally {
		await rm(profile, { recursive: true, force: true });
	}
});

test('an unsent draft survives a closed tab', async ({ page, context }) => {
	await openApp(page);
	await createWorkspace(page, 'Drafts');
	await page.getByRole('textbox', { name: 'Message', exact: true }).fill('half-written thought');
	await page.waitForTimeout(500);
	await page.close();
	const again = await context.newPage();
	await again.goto('/');
	await expect(again.getByRole('textbox', { name: 'Message', exact: true })).toHaveValue('half-written thought');
});

test('with the network off, a reload still opens the app with its data, and it works', async ({ page, context }) => {
	// Offline, Chromium logs the app's look for the relay's address (/.well-known/outpost.json) as a failed load.
	expectPageErrors(/net::ERR_INTERNET_DISCONNECTED/);
	await openApp(page);
	await createWorkspace(page, 'Offline');
	await post(page, 'before going offline');
	// Wait until the service worker controls the page (it caches the shell on install).
	await page.evaluate(async () => {
		await navigator.serviceWorker.ready;
		if (!navigator.serviceWorker.controller) {
			await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
		}
	});
	// The model runtimes (megabytes) are not part of the install-time download; the rest is.
	const cached = await page.evaluate(async () => {
		const engines = (await (await fetch('/_app/engine-chunks.json')).json()) as string[];
		const keys = (await Promise.all((await caches.keys()).map(async (name) => (await caches.open(name)).keys()))).flat();
		const paths = new Set(keys.map((request) => new URL(request.url).pathname));
		return { engines, cachedEngines: engines.filter((f) => paths.has(`/${f}`)), chunks: [...paths].filter((p) => p.startsWith('/_app/immutable/chunks/')).length };
	});
	expect(cached.engines.length).toBeGreaterThanOrEqual(2); // WebLLM and wllama
	expect(cached.cachedEngines).toEqual([]);
	expect(cached.chunks).toBeGreaterThan(5);
	await context.setOffline(true);
	await page.reload();
	await expect(message(page, 'before going offline')).toBeVisible();
	await post(page, 'written offline');
	await page.reload();
	await expect(message(page, 'written offline')).toBeVisible();
	await context.setOffline(false);
});

test('the app is installable (manifest, icons, service worker)', async ({ baseURL }) => {
	// Chromium never offers installation in an incognito context: use a real profile.
	const profile = await mkdtemp(join(tmpdir(), 'outpost-install-'));
	const context = await chromium.launchPersistentContext(profile, {
		executablePath: '/usr/bin/chromium',
		args: CHROMIUM_ARGS,
		baseURL
	});
	watchContext(context);
	try {
		const page = await context.newPage();
		await openApp(page);
		await page.evaluate(() => navigator.serviceWorker.ready);
		const manifest = await (await page.request.get('/manifest.webmanifest')).json();
		expect(manifest.display).toBe('standalone');
		expect(manifest.theme_color).toBe('#1f6f5c');
		const sizes = manifest.icons.map((i: { sizes: string }) => i.sizes);
		expect(sizes).toEqual(expect.arrayContaining(['192x192', '512x512']));
		const cdp = await context.newCDPSession(page);
		const { url, errors } = await cdp.send('Page.getAppManifest');
		expect(url).toMatch(/manifest\.webmanifest$/);
		expect(errors).toEqual([]);
		const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
		expect(installabilityErrors).toEqual([]);
	} finally {
		await context.close();
		await rm(profile, { recursive: true, force: true });
	}
});

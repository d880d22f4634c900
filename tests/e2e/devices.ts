/**
 * The browsers and relays of one end-to-end spec file: one Chromium (Debian's) for the file, a
 * browser context of its own per device (a separate profile), and relay processes the test
 * starts; contexts and relays are closed after each test, the browser after the file.
 */
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { expect, test, watchContext } from './suite';
import { CHROMIUM_ARGS } from '../../playwright.config';
import { startRelayProcess, type RelayProcess } from './relays';

/** Options of {@link Devices.device}. */
export interface DeviceOptions {
	/** Installs Playwright's clock in the context (time keeps flowing; the test can move it). */
	clock?: boolean;
	/** Permissions granted to the context (e.g. `microphone`). */
	permissions?: string[];
	/** A script run in every page before the app (to watch what the test cannot see otherwise). */
	init?: () => void;
}

/** Options of {@link useDevices}. */
export interface LaunchOptions {
	/** Chromium flags besides CHROMIUM_ARGS (e.g. its fake media devices). */
	args?: string[];
}

/** What a spec file gets from {@link useDevices}. */
export interface Devices {
	/** The file's Chromium. */
	browser(): Browser;
	/** Starts a relay process (see relays.ts), killed after the test. */
	relay(...args: Parameters<typeof startRelayProcess>): Promise<RelayProcess>;
	/** A browser of its own with the app open from `at` (the relay's own certificate accepted, as a user does once). */
	device(at: RelayProcess, options?: DeviceOptions): Promise<Page>;
	/** Closes `context` after the test, with the others (and watches its pages for errors: suite.ts). */
	track(context: BrowserContext): void;
}

/** Registers the file's hooks; call once at the top level of a spec file. */
export function useDevices(launch: LaunchOptions = {}): Devices {
	const relays: RelayProcess[] = [];
	const contexts: BrowserContext[] = [];
	let browser: Browser | undefined;
	test.beforeAll(async () => {
		browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: [...CHROMIUM_ARGS, ...(launch.args ?? [])] });
	});
	test.afterAll(async () => {
		await browser?.close();
	});
	test.afterEach(async () => {
		for (const context of contexts.splice(0)) await context.close().catch(() => {});
		for (const relay of relays.splice(0)) await relay.kill().catch(() => {});
	});
	const launched = (): Browser => {
		if (browser === undefined) throw new Error('the browser starts in beforeAll');
		return browser;
	};
	return {
		browser: launched,
		async relay(...args) {
			const started = await startRelayProcess(...args);
			relays.push(started);
			return started;
		},
		async device(at, options = {}) {
			const context = await launched().newContext({ baseURL: at.url, locale: 'en-US', ignoreHTTPSErrors: true, ...(options.permissions ? { permissions: options.permissions } : {}) });
			contexts.push(context);
			watchContext(context);
			if (options.clock) await context.clock.install();
			if (options.init) await context.addInitScript(options.init);
			const page = await context.newPage();
			await page.goto('/');
			await expect(page.getByRole('button', { name: 'New workspace' }).first()).toBeVisible();
			return page;
		},
		track: (context) => {
			contexts.push(context);
			watchContext(context);
		}
	};
}

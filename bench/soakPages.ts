/**
 * The soak run's Chromium peers (bench/soakRun.ts): builds bench/soakBrowser.ts for the
 * browser, serves it on 127.0.0.1, and opens one page per device, each in a browser context
 * of its own (a renderer process of its own), each a member device dialling the relay over
 * WebSocket (no WebRTC: loopback is enough). Reads each page's JavaScript heap over the
 * DevTools protocol (`Runtime.getHeapUsage`).
 */
import { createServer, type Server } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type CDPSession, type Page } from 'playwright-core';
import { buildForBrowser } from '../tests/mesh/browserBuild.ts';
import { CHROMIUM_ARGS } from './env.ts';

/**
 * What the page's module (soakBrowser.ts) exports, written out here so that this Node module's
 * type check does not take in the browser's (soakBrowser.ts checks that it matches).
 */
export interface SoakPageModule {
	start(init: { relay: string; keyHex: string; workspaceId: string; secretHex: string; rosterHex: string; channels: string[] }): Promise<string>;
	startPosting(periodMs: number): void;
	stopPosting(): number;
	counts(): { sent: number; held: number; errors: string[] };
	stop(): Promise<void>;
}
type PageModule = SoakPageModule;
type Fn = keyof PageModule;

const here = dirname(fileURLToPath(import.meta.url));

/** Calls the page's module (a string expression: no transpiler helpers cross over). */
async function call<K extends Fn>(page: Page, fn: K, ...args: Parameters<PageModule[K]>): Promise<Awaited<ReturnType<PageModule[K]>>> {
	return (await page.evaluate(`globalThis.soak[${JSON.stringify(fn)}](...${JSON.stringify(args)})`)) as Awaited<ReturnType<PageModule[K]>>;
}

/** What {@link openSoakPages} gives: the pages as member devices. */
export interface SoakPages {
	/** Starts every page's writer. */
	startPosting(periodMs: number): Promise<void>;
	/** Stops every page's writer. */
	stopPosting(): Promise<void>;
	/** Per page: messages sent, messages held, the mesh's last errors. */
	counts(): Promise<Array<{ sent: number; held: number; errors: string[] }>>;
	/** Per page: its JavaScript heap in use, MiB. */
	heapsMiB(): Promise<number[]>;
	close(): Promise<void>;
}

/** Opens one page per device; each joins the workspace as that device (protobuf key, hex). */
export async function openSoakPages(init: { devices: Array<{ keyHex: string }>; relay: string; workspaceId: string; secretHex: string; rosterHex: string; channels: string[] }): Promise<SoakPages> {
	const chunks = await buildForBrowser(join(here, 'soakBrowser.ts'));
	const entry = chunks.find((c) => c.isEntry)?.fileName;
	if (entry === undefined) throw new Error('the browser build has no entry chunk');
	const code = new Map(chunks.map((c) => [c.fileName, c.code]));
	const server: Server = createServer((req, res) => {
		const js = code.get((req.url ?? '/').split('?', 1)[0]!.slice(1));
		res.setHeader('Content-Type', js !== undefined ? 'text/javascript' : 'text/html');
		res.end(js ?? '<!doctype html><title>soak</title>');
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as { port: number };
	let browser: Browser | undefined;
	const pages: Array<{ page: Page; cdp: CDPSession }> = [];
	const close = async () => {
		for (const { page } of pages) await call(page, 'stop').catch(() => undefined);
		await browser?.close();
		await new Promise<void>((resolve) => server.close(() => resolve()));
	};
	try {
		browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true, timeout: 60_000 });
		for (const device of init.devices) {
			const page = await (await browser.newContext()).newPage();
			await page.goto(`http://127.0.0.1:${port}/`);
			await page.evaluate(`import('/${entry}').then((m) => { globalThis.soak = m; })`);
			await call(page, 'start', { relay: init.relay, keyHex: device.keyHex, workspaceId: init.workspaceId, secretHex: init.secretHex, rosterHex: init.rosterHex, channels: init.channels });
			pages.push({ page, cdp: await page.context().newCDPSession(page) });
		}
	} catch (error) {
		await close();
		throw error;
	}
	return {
		startPosting: async (periodMs) => void (await Promise.all(pages.map(({ page }) => call(page, 'startPosting', periodMs)))),
		stopPosting: async () => void (await Promise.all(pages.map(({ page }) => call(page, 'stopPosting')))),
		counts: () => Promise.all(pages.map(({ page }) => call(page, 'counts'))),
		heapsMiB: () => Promise.all(pages.map(async ({ cdp }) => ((await cdp.send('Runtime.getHeapUsage')) as { usedSize: number }).usedSize / 2 ** 20)),
		close
	};
}

/**
 * The y-webrtc baseline of the connect benchmark (bench/connect.ts): two pages in separate
 * contexts start a y-webrtc provider on load (bench/connectBaseline.ts), signalling through the
 * relay's /y-webrtc; the second page's first `synced` is timed from its navigation start.
 */
import { createServer } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildForBrowser } from '../tests/mesh/browserBuild.js';
import type { RelayProcess } from '../tests/e2e/relays.js';
import type { BaselineRound } from './connectReport.js';
import { STEP_TIMEOUT_MS } from './ui.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The baseline's page and bundle, served over HTTP on 127.0.0.1 (a real loopback origin: Chromium's local network checks refuse a routed page's connections to the relay). */
export async function serveBaseline(): Promise<{ url: string; close: () => Promise<void> }> {
	const chunks = await buildForBrowser(join(root, 'bench', 'connectBaseline.ts'));
	const entry = chunks.find((c) => c.isEntry)?.fileName;
	if (entry === undefined) throw new Error('the baseline build has no entry chunk');
	const files = new Map(chunks.map((c) => ['/' + c.fileName, c.code]));
	files.set('/index.html', `<!doctype html><meta charset="utf-8"><title>y-webrtc</title><script type="module" src="./${entry}"></script>`);
	const server = createServer((request, response) => {
		const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
		const body = files.get(path);
		if (body === undefined) return void response.writeHead(404).end('not found');
		response.writeHead(200, { 'content-type': path.endsWith('.html') ? 'text/html' : 'text/javascript' }).end(body);
	});
	await new Promise<void>((done, fail) => {
		server.once('error', fail);
		server.listen(0, '127.0.0.1', () => done());
	});
	const address = server.address();
	if (address === null || typeof address === 'string') throw new Error('the baseline server has no port');
	return {
		url: `http://127.0.0.1:${address.port}/index.html`,
		close: () => new Promise<void>((done) => server.close(() => done()))
	};
}

/** (3) One y-webrtc first sync between two fresh contexts. */
export async function baselineRound(browser: Browser, relay: RelayProcess, pageUrl: string, i: number): Promise<BaselineRound> {
	const contexts: BrowserContext[] = [];
	try {
		const query = new URLSearchParams({
			room: `outpost-connect-bench-${i}-${Math.random().toString(36).slice(2)}`,
			password: Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2),
			signalling: `${relay.url.replace(/^http/, 'ws')}/y-webrtc`
		});
		const openPage = async (name: string): Promise<Page> => {
			const context = await browser.newContext();
			contexts.push(context);
			const page = await context.newPage();
			page.setDefaultTimeout(STEP_TIMEOUT_MS);
			page.on('pageerror', (error) => console.log(`  baseline page error: ${error.message}`));
			await page.goto(`${pageUrl}?${query}&name=${name}`);
			return page;
		};
		const first = await openPage('A');
		await first.waitForFunction(() => globalThis.__yWebrtcBench?.signalling !== undefined, undefined, { timeout: 10_000, polling: 20 });
		const second = await openPage('B');
		try {
			await second.waitForFunction(() => globalThis.__yWebrtcBench?.synced !== undefined, undefined, { timeout: 15_000, polling: 20 });
		} catch {
			console.log('  (y-webrtc did not sync within 15 s)');
		}
		const times = await second.evaluate(() => ({ ...(globalThis.__yWebrtcBench ?? { started: NaN }) }));
		return { signalling: times.signalling, synced: times.synced };
	} finally {
		for (const context of contexts) await context.close().catch(() => undefined);
	}
}

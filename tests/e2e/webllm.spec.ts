/**
 * WebLLM in the app, in Chromium with WebGPU (`--enable-unsafe-webgpu`, SwiftShader): the
 * relay serves an MLC model directory beside a GGUF file; the Models dialog says WebLLM
 * will run the MLC model and wllama the GGUF one; WebLLM's code is not part of the first
 * page load (the page fetches it only when the MLC model is loaded); a directory with an invalid
 * model library fails with a clear message, not a hang; every request goes to the relay.
 * (No MLC-compiled model can be produced here: STACK-NOTES.md.)
 */
import { mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from '@playwright/test';
import { expect, test, watchContext } from './suite';
import { CHROMIUM_ARGS } from '../../playwright.config';
import { createWorkspace, openApp } from './helpers';
import { startRelayProcess, type RelayProcess } from './relays';

test.use({ launchOptions: { executablePath: '/usr/bin/chromium', args: [...CHROMIUM_ARGS, '--enable-unsafe-webgpu'] } });

let relay: RelayProcess | undefined;
let context: BrowserContext | undefined;

test.afterAll(async () => {
	await context?.close().catch(() => {});
	await relay?.kill();
});

/** The built chunk that holds WebLLM (found by a string only WebLLM's code has). */
async function webllmChunk(): Promise<string> {
	const dir = join('build', '_app', 'immutable', 'chunks');
	for (const name of await readdir(dir)) {
		if (name.endsWith('.js') && (await readFile(join(dir, name), 'utf8')).includes('binary-mlc-llm-libs')) return name;
	}
	throw new Error('no WebLLM chunk in the build');
}

test('the Models dialog picks WebLLM for an MLC model, loads it on demand, and fails clearly on a broken one', async ({ browser }) => {
	const models = await mkdtemp(join(tmpdir(), 'outpost-mlc-'));
	const mlc = join(models, 'Broken-q4f32_1-MLC');
	await mkdir(mlc);
	await writeFile(join(mlc, 'mlc-chat-config.json'), JSON.stringify({ context_window_size: 256, tokenizer_files: ['tokenizer.json'] }));
	await writeFile(join(mlc, 'tensor-cache.json'), JSON.stringify({ metadata: {}, records: [] }));
	await writeFile(join(mlc, 'tokenizer.json'), '{}');
	await writeFile(join(mlc, 'Broken-webgpu.wasm'), 'not a WebAssembly module');
	await writeFile(join(models, 'tiny.gguf'), 'GGUF');
	const chunk = await webllmChunk();

	relay = await startRelayProcess(4294, [], '127.0.0.1', { args: ['--models-dir', models] });
	context = await browser.newContext({ baseURL: relay.url, locale: 'en-US' });
	watchContext(context);
	// What the page fetches (the service worker precaches every build file for offline use,
	// WebLLM's too, in the background: that is not the page's load).
	const requested: string[] = [];
	const everything: string[] = [];
	context.on('request', (request) => {
		everything.push(request.url());
		if (request.serviceWorker() === null) requested.push(request.url());
	});
	const page = await context.newPage();
	await openApp(page);
	await createWorkspace(page, 'GPU');
	await page.getByRole('button', { name: 'New chat' }).click();
	await page.getByRole('button', { name: 'Models', exact: true }).click();
	const dialog = page.getByRole('dialog', { name: 'Models in this browser' });
	const list = dialog.getByRole('list', { name: 'Model files on the relay' });
	await expect(list.getByRole('listitem').filter({ hasText: 'Broken-q4f32_1-MLC' })).toContainText('runs in WebLLM on WebGPU');
	await expect(list.getByRole('listitem').filter({ hasText: 'tiny.gguf' })).toContainText('runs in wllama on WebGPU');
	expect(requested.filter((url) => url.endsWith(`/${chunk}`))).toEqual([]);

	await dialog.getByRole('button', { name: 'Load Broken-q4f32_1-MLC' }).click();
	await expect(dialog.getByRole('alert')).toContainText('Could not load "Broken-q4f32_1-MLC" from the relay: its files are missing or invalid', {
		timeout: 30_000
	});
	await expect(dialog.getByRole('button', { name: 'Load tiny.gguf' })).toBeEnabled();
	expect(requested.some((url) => url.endsWith(`/${chunk}`))).toBe(true);
	expect(requested).toContain(`${relay.url}/models/Broken-q4f32_1-MLC/resolve/main/Broken-webgpu.wasm`);
	for (const url of everything) expect(new URL(url).origin, url).toBe(relay.url);
});

/**
 * The WebLLM engine in real Chromium with `--enable-unsafe-webgpu` (skipped where
 * /usr/bin/chromium is missing). No MLC-compiled model can be produced here (STACK-NOTES.md),
 * so this covers what can be: the relay lists an MLC model directory, the page detects
 * WebGPU and selects WebLLM for it, WebLLM is fetched only when a model is loaded, every
 * request goes to the relay, and a directory with a broken model library, a broken config or
 * no config ends in a clear EngineError quickly instead of a hang.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildForBrowser } from '../mesh/browserBuild.js';
import { callPage, startModelRelay, type ModelRelay } from './pageHarness.js';

const CHROMIUM = '/usr/bin/chromium';

/** Writes an MLC model directory whose files are there but whose model library is not a real one. */
async function mlcDir(dir: string, config: string | undefined): Promise<void> {
	await mkdir(dir, { recursive: true });
	if (config !== undefined) await writeFile(join(dir, 'mlc-chat-config.json'), config);
	await writeFile(join(dir, 'tensor-cache.json'), JSON.stringify({ metadata: {}, records: [] }));
	await writeFile(join(dir, 'tokenizer.json'), '{}');
	await writeFile(join(dir, 'model-webgpu.wasm'), Buffer.from('not a WebAssembly module'));
}

describe.skipIf(!existsSync(CHROMIUM))('WebLLM in Chromium', () => {
	let root: string;
	let relay: ModelRelay;
	let browser: Browser;
	let page: Page;
	/** The chunk of the page's build that holds WebLLM. */
	let webllmChunk: string;
	const requested: string[] = [];

	beforeAll(async () => {
		root = await mkdtemp(join(tmpdir(), 'outpost-webllm-'));
		const chunks = await buildForBrowser(fileURLToPath(new URL('./webllmEntry.ts', import.meta.url)));
		await mkdir(join(root, 'app'), { recursive: true });
		for (const chunk of chunks) await writeFile(join(root, 'app', chunk.fileName), chunk.code);
		await writeFile(join(root, 'app', 'index.html'), '<!doctype html><title>webllm</title>');
		const entry = chunks.find((c) => c.isEntry)!;
		expect(entry.moduleIds.some((id) => id.includes('@mlc-ai/web-llm'))).toBe(false);
		webllmChunk = chunks.find((c) => c.moduleIds.some((id) => id.includes('@mlc-ai/web-llm')))!.fileName;

		const models = join(root, 'models');
		const config = JSON.stringify({ context_window_size: 256, tokenizer_files: ['tokenizer.json'], conv_template: {} });
		await mlcDir(join(models, 'bad-lib-MLC'), config);
		await mlcDir(join(models, 'bad-config-MLC'), '{ not json');
		await writeFile(join(models, 'tiny.gguf'), 'GGUF');
		relay = await startModelRelay(join(root, 'app'), models);

		browser = await chromium.launch({
			executablePath: CHROMIUM,
			args: ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-unsafe-webgpu']
		});
		page = await (await browser.newContext()).newPage();
		page.on('request', (request) => requested.push(request.url()));
		await page.goto(`${relay.url}/`);
	}, 120_000);

	afterAll(async () => {
		await browser?.close();
		await relay?.close();
		await rm(root, { recursive: true, force: true });
	});

	it('selects WebLLM for the MLC directory the relay serves when WebGPU is present, wllama for GGUF', async () => {
		const { webgpu, files } = await callPage<{ webgpu: boolean; files: { id: string; format: string; modelLib?: string; choice: unknown }[] }>(page, 'models');
		expect(webgpu).toBe(true);
		expect(files.map((f) => [f.id, f.format, f.choice])).toEqual([
			['bad-config-MLC', 'mlc', { engine: 'webllm', gpu: true }],
			['bad-lib-MLC', 'mlc', { engine: 'webllm', gpu: true }],
			['tiny', 'gguf', { engine: 'wllama', gpu: true }]
		]);
		expect(files[1]!.modelLib).toBe(`${relay.url}/models/bad-lib-MLC/resolve/main/model-webgpu.wasm`);
		// Nothing of WebLLM has been fetched yet.
		expect(requested.some((url) => url.endsWith(`/${webllmChunk}`))).toBe(false);
	}, 30_000);

	it('loads WebLLM on demand and fails clearly, and soon, on a broken model library', async () => {
		const started = Date.now();
		const result = await callPage<{ ok: boolean; error?: { name: string; problem?: string; message: string } }>(page, 'loadWebllm', 'bad-lib-MLC');
		expect(Date.now() - started).toBeLessThan(30_000);
		expect(result.ok).toBe(false);
		expect(result.error).toMatchObject({ name: 'EngineError', problem: 'failed' });
		expect(result.error!.message).toMatch(/^Could not load "bad-lib-MLC" from the relay: its files are missing or invalid \(.*WebAssembly/);
		expect(requested.some((url) => url.endsWith(`/${webllmChunk}`))).toBe(true);
		expect(requested).toContain(`${relay.url}/models/bad-lib-MLC/resolve/main/mlc-chat-config.json`);
		expect(requested).toContain(`${relay.url}/models/bad-lib-MLC/resolve/main/model-webgpu.wasm`);
	}, 60_000);

	it('says what is wrong with an invalid config, or a model the relay no longer has', async () => {
		const broken = await callPage<{ ok: boolean; error?: { message: string } }>(page, 'loadWebllm', 'bad-config-MLC');
		expect(broken.ok).toBe(false);
		expect(broken.error!.message).toMatch(/mlc-chat-config\.json on the relay is not valid JSON/);
		// Listed once, then removed from the relay before it was loaded.
		const base = `${relay.url}/models/gone-MLC/resolve/main/`;
		const gone = await callPage<{ ok: boolean; error?: { message: string } }>(page, 'loadWebllm', 'gone-MLC', {
			id: 'gone-MLC',
			name: 'gone-MLC',
			size: 1,
			url: base,
			format: 'mlc',
			modelLib: `${base}model-webgpu.wasm`
		});
		expect(gone.error!.message).toMatch(/mlc-chat-config\.json is missing on the relay \(HTTP 404\)/);
		// A listing entry that points away from the relay is refused before anything is fetched.
		const before = requested.length;
		const remote = await callPage<{ ok: boolean; error?: { message: string } }>(page, 'loadWebllm', 'remote', {
			id: 'remote',
			name: 'remote',
			size: 1,
			url: 'https://huggingface.co/mlc-ai/remote-MLC/resolve/main/',
			format: 'mlc',
			modelLib: 'https://raw.githubusercontent.com/mlc-ai/remote.wasm'
		});
		expect(remote.error!.message).toMatch(/points outside the relay/);
		expect(requested.slice(before).filter((url) => !url.startsWith(relay.url))).toEqual([]);
	}, 60_000);

	it('never asks anything but the relay', () => {
		expect(requested.length).toBeGreaterThan(0);
		for (const url of requested) expect(new URL(url).origin).toBe(relay.url);
	});
});

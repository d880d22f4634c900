/**
 * The wllama engine in real Chromium (skipped where /usr/bin/chromium is missing). The page
 * is served by the relay's own HTTP server (COOP/COEP, `/models/` with the tiny generated
 * model, `/wllama/wllama.wasm`); the engine runs in the page, and the shared engine suite
 * runs here in Node against a proxy that forwards `models()` and `generate()` into the page
 * and streams the chunks back (`wllamaEntry.ts` is the page's side).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineError, type Engine, type GenerateChunk, type GenerateRequest, type ModelInfo } from '../../src/lib/ai/engine.js';
import { transcript } from '../../src/lib/ai/wllamaEngine.js';
import { llamaGgufPath, tinyLlama } from '../fixtures/gguf.js';
import { buildForBrowser } from '../mesh/browserBuild.js';
import { callPage, startModelRelay, type ModelRelay } from './pageHarness.js';
import { collect, describeEngine } from './engineSuite.js';
import type { PageError } from './wllamaEntry.js';

const CHROMIUM = '/usr/bin/chromium';
const BYTES_MODEL = 'tiny-random-bytes';

/** Chunks of one page generation as they arrive, then its end. */
class Stream {
	readonly chunks: GenerateChunk[] = [];
	end: { error: PageError | null } | undefined;
	private wake: (() => void) | undefined;

	notify(): void {
		this.wake?.();
		this.wake = undefined;
	}
	next(): Promise<void> {
		return new Promise((resolve) => (this.wake = resolve));
	}
}

/** An {@link Engine} in Node whose work happens in the page's WllamaEngine. */
class PageEngine implements Engine {
	readonly kind = 'wllama' as const;
	private nextId = 0;
	readonly streams = new Map<number, Stream>();

	constructor(private readonly page: Page) {}

	models(): Promise<ModelInfo[]> {
		return callPage<ModelInfo[]>(this.page, 'models');
	}

	async *generate(request: GenerateRequest, signal?: AbortSignal): AsyncGenerator<GenerateChunk> {
		signal?.throwIfAborted();
		const id = this.nextId++;
		const stream = new Stream();
		this.streams.set(id, stream);
		const abortInPage = () => void callPage(this.page, 'abort', id).catch(() => undefined);
		const onAbort = () => {
			abortInPage();
			stream.notify();
		};
		signal?.addEventListener('abort', onAbort, { once: true });
		try {
			await callPage(this.page, 'start', id, request);
			for (let read = 0; ; ) {
				signal?.throwIfAborted();
				const chunk = stream.chunks[read];
				if (chunk) {
					read++;
					yield chunk;
					continue;
				}
				if (stream.end) {
					const error = stream.end.error;
					if (!error) return;
					if (error.problem) throw new EngineError(error.problem as EngineError['problem'], error.message);
					throw Object.assign(new Error(error.message), { name: error.name });
				}
				await stream.next();
			}
		} finally {
			signal?.removeEventListener('abort', onAbort);
			if (!stream.end) abortInPage(); // the caller stopped reading
			this.streams.delete(id);
		}
	}
}

describe.skipIf(!existsSync(CHROMIUM))('wllama in Chromium', () => {
	let dir: string;
	let relay: ModelRelay;
	let browser: Browser;
	let page: Page;
	let engine: PageEngine;
	let loaded: { model: ModelInfo; progress: { loaded: number; total: number }[]; isolated: boolean; threads: number; gpuLayers: number };
	let entryCode: string;
	let otherCode: string;
	const offOrigin: string[] = [];

	beforeAll(async () => {
		dir = await mkdtemp(join(tmpdir(), 'outpost-wllama-'));
		await mkdir(join(dir, 'app'));
		await mkdir(join(dir, 'models'));
		await symlink(llamaGgufPath(), join(dir, 'models', `${tinyLlama.name}.gguf`));
		await symlink(llamaGgufPath({ name: BYTES_MODEL, asciiOnly: false }), join(dir, 'models', `${BYTES_MODEL}.gguf`));
		const chunks = await buildForBrowser(fileURLToPath(new URL('./wllamaEntry.ts', import.meta.url)));
		entryCode = chunks.filter((c) => c.isEntry).map((c) => c.code).join('');
		otherCode = chunks.filter((c) => !c.isEntry).map((c) => c.code).join('');
		for (const chunk of chunks) await writeFile(join(dir, 'app', chunk.fileName), chunk.code);
		await writeFile(join(dir, 'app', 'index.html'), '<!doctype html><title>wllama</title>');
		relay = await startModelRelay(join(dir, 'app'), join(dir, 'models'));
		browser = await chromium.launch({
			executablePath: CHROMIUM,
			args: ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-unsafe-webgpu']
		});
		page = await (await browser.newContext()).newPage();
		page.on('request', (request) => {
			const url = request.url();
			if (!url.startsWith(relay.url) && !url.startsWith('blob:') && !url.startsWith('data:')) offOrigin.push(url);
		});
		engine = new PageEngine(page);
		await page.exposeFunction('outpostChunk', (id: number, chunk: GenerateChunk) => {
			const stream = engine.streams.get(id);
			stream?.chunks.push(chunk);
			stream?.notify();
		});
		await page.exposeFunction('outpostEnd', (id: number, error: PageError | null) => {
			const stream = engine.streams.get(id);
			if (stream) stream.end = { error };
			stream?.notify();
		});
		await page.goto(`${relay.url}/`);
		// CPU for the suite: deterministic and fast on the tiny model (WebGPU is tested below).
		loaded = await callPage(page, 'loadEngine', { gpu: false }, `/models/${tinyLlama.name}.gguf`);
	}, 90_000);

	afterAll(async () => {
		await browser?.close();
		await relay?.close();
		if (dir) await rm(dir, { recursive: true, force: true });
	}, 20_000);

	describeEngine('wllama', async () => ({ engine, model: tinyLlama.name, close: async () => undefined }));

	it('loads on demand from the relay, with progress, cross-origin isolated, and nothing from elsewhere', () => {
		expect(loaded.model).toEqual({ id: tinyLlama.name, name: tinyLlama.name, engine: 'wllama', contextLength: tinyLlama.contextLength });
		expect(loaded.isolated).toBe(true);
		const last = loaded.progress.at(-1);
		expect(last?.total).toBeGreaterThan(400_000);
		expect(last?.loaded).toBe(last?.total);
		expect(loaded.threads).toBe(1); // single-threaded unless asked for more (2 cores here)
		expect(loaded.gpuLayers).toBe(0); // on the CPU, as asked
		// wllama is its own chunk, fetched only by `load()`.
		expect(entryCode).not.toContain('getLibllamaVersion');
		expect(otherCode).toContain('getLibllamaVersion');
		expect(offOrigin).toEqual([]);
	});

	it('lists the relay’s model files', async () => {
		const files = await callPage<{ id: string; url: string; size: number }[]>(page, 'listModelFiles', relay.url);
		expect(files.map((f) => f.id)).toEqual([BYTES_MODEL, tinyLlama.name]);
		expect(files[1]?.url).toBe(`${relay.url}/models/${tinyLlama.name}.gguf`);
	});

	it('reproduces sampled text from a seed', async () => {
		const request = { model: tinyLlama.name, messages: [{ role: 'user' as const, content: 'Once upon a time' }], maxTokens: 16, temperature: 1, seed: 42 };
		const a = await collect(engine.generate(request));
		const b = await collect(engine.generate(request));
		expect(a.text.length).toBeGreaterThan(0);
		expect(b.text).toBe(a.text);
	});

	it('runs generations one at a time in order', async () => {
		const ask = (content: string) => ({ model: tinyLlama.name, messages: [{ role: 'user' as const, content }], maxTokens: 6, temperature: 0 });
		const [one, two, three] = await Promise.all(['one', 'two', 'three'].map((c) => collect(engine.generate(ask(c)))));
		for (const result of [one, two, three]) expect(result?.done).toHaveLength(1);
		expect((await collect(engine.generate(ask('two')))).text).toBe(two?.text);
	});

	it('does not throw on invalid UTF-8 from the model', async () => {
		await callPage(page, 'loadEngine', { gpu: false }, `/models/${BYTES_MODEL}.gguf`);
		try {
			for (const seed of [1, 2, 3]) {
				const { text, done } = await collect(
					engine.generate({ model: BYTES_MODEL, messages: [{ role: 'user', content: 'bytes' }], maxTokens: 48, temperature: 1.5, seed })
				);
				expect(typeof text).toBe('string');
				expect(done).toHaveLength(1);
			}
		} finally {
			await callPage(page, 'loadEngine', { gpu: false }, `/models/${tinyLlama.name}.gguf`);
		}
	}, 30_000);

	it('runs multithreaded in the cross-origin isolated page', async () => {
		try {
			const { model, threads } = await callPage<{ model: ModelInfo; threads: number }>(page, 'loadEngine', { gpu: false, threads: 2 }, `/models/${tinyLlama.name}.gguf`);
			expect(threads).toBe(2);
			const { text, done } = await collect(
				engine.generate({ model: model.id, messages: [{ role: 'user', content: 'Hi' }], maxTokens: 8, temperature: 0 })
			);
			expect(text.length).toBeGreaterThan(0);
			expect(done[0]?.completionTokens).toBe(8);
		} finally {
			await callPage(page, 'loadEngine', { gpu: false }, `/models/${tinyLlama.name}.gguf`);
		}
	}, 30_000);

	/** Loads the model with `gpu: 'auto'`, generates, and returns the GPU layers the runtime reported. */
	async function loadAuto(): Promise<number> {
		try {
			const { model, gpuLayers } = await callPage<{ model: ModelInfo; gpuLayers: number }>(page, 'loadEngine', { gpu: 'auto' }, `/models/${tinyLlama.name}.gguf`);
			const { text, done } = await collect(
				engine.generate({ model: model.id, messages: [{ role: 'user', content: 'Hi' }], maxTokens: 8, temperature: 0 })
			);
			expect(text.length).toBeGreaterThan(0);
			expect(done[0]?.completionTokens).toBe(8);
			return gpuLayers;
		} finally {
			await callPage(page, 'loadEngine', { gpu: false }, `/models/${tinyLlama.name}.gguf`);
		}
	}

	it('offloads every layer to WebGPU where the browser has an adapter wllama can use', async (ctx) => {
		const support = await callPage<string>(page, 'webGpuSupport');
		if (support !== 'usable') ctx.skip(`no WebGPU adapter with shader-f16 here (${support}): llama.cpp's WebGPU backend needs it`);
		// The runtime's own count ("offloaded 3/3 layers to GPU"): every block and the output layer.
		expect(await loadAuto()).toBe(tinyLlama.blocks + 1);
	}, 30_000);

	it('runs on the CPU, and says so, where WebGPU cannot run wllama', async (ctx) => {
		const support = await callPage<string>(page, 'webGpuSupport');
		if (support === 'usable') ctx.skip('this browser has a WebGPU adapter wllama can use');
		expect(await loadAuto()).toBe(0);
	}, 30_000);

	it('writes a plain transcript for a model without a chat template', () => {
		expect(
			transcript([
				{ role: 'system', content: 'Be brief.' },
				{ role: 'user', content: 'Hi' }
			])
		).toBe('system: Be brief.\nuser: Hi\nassistant:');
		expect(transcript([{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hel' }])).toBe('user: Hi\nassistant: Hel');
	});
});

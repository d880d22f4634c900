/**
 * The wllama embedder in real Chromium (skipped where /usr/bin/chromium is missing), on the
 * tiny generated model served by the relay's HTTP server, as wllamaEngine.test.ts serves it.
 * The retrieval index runs here in Node over an embedder that forwards to the page
 * (`wllamaEmbedderEntry.ts` is the page's side).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkNote, embeddingText } from '../../src/lib/knowledge/chunker.js';
import type { Embedder } from '../../src/lib/knowledge/Embedder.js';
import { KnowledgeIndex } from '../../src/lib/knowledge/KnowledgeIndex.js';
import { MemoryVectorStore } from '../../src/lib/knowledge/VectorStore.js';
import { llamaGgufPath, tinyLlama } from '../fixtures/gguf.js';
import { buildForBrowser } from '../mesh/browserBuild.js';
import { callPage, startModelRelay, type ModelRelay } from './pageHarness.js';

const CHROMIUM = '/usr/bin/chromium';

/** An {@link Embedder} in Node whose work happens in the page's WllamaEmbedder. */
class PageEmbedder implements Embedder {
	readonly texts: string[] = [];
	constructor(
		readonly id: string,
		private readonly page: Page
	) {}

	async embed(texts: string[]): Promise<Float32Array[]> {
		this.texts.push(...texts);
		return (await callPage<number[][]>(this.page, 'embed', texts)).map((v) => Float32Array.from(v));
	}
}

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

const BODY = `# Harbour
The harbour opens at six in the morning.

# Engine
Engine oil must be checked every week.

# Galley
We had noodles for lunch today.

# Radar
Radar maintenance is scheduled for Friday.

# 港口
港口早上六点开放。`;

describe.skipIf(!existsSync(CHROMIUM))('wllama embedder in Chromium', () => {
	let dir: string;
	let relay: ModelRelay;
	let browser: Browser;
	let page: Page;
	let loaded: { id: string; dimensions: number; isolated: boolean };
	let embedder: PageEmbedder;

	beforeAll(async () => {
		dir = await mkdtemp(join(tmpdir(), 'outpost-wllama-embed-'));
		await mkdir(join(dir, 'app'));
		await mkdir(join(dir, 'models'));
		await symlink(llamaGgufPath(), join(dir, 'models', `${tinyLlama.name}.gguf`));
		const chunks = await buildForBrowser(fileURLToPath(new URL('./wllamaEmbedderEntry.ts', import.meta.url)));
		for (const chunk of chunks) await writeFile(join(dir, 'app', chunk.fileName), chunk.code);
		await writeFile(join(dir, 'app', 'index.html'), '<!doctype html><title>wllama embeddings</title>');
		relay = await startModelRelay(join(dir, 'app'), join(dir, 'models'));
		browser = await chromium.launch({
			executablePath: CHROMIUM,
			args: ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
		});
		page = await (await browser.newContext()).newPage();
		await page.goto(`${relay.url}/`);
		loaded = await callPage(page, 'loadEmbedder', `/models/${tinyLlama.name}.gguf`, { gpu: false, contextSize: tinyLlama.contextLength });
		embedder = new PageEmbedder(loaded.id, page);
	}, 90_000);

	afterAll(async () => {
		await browser?.close();
		await relay?.close();
		if (dir) await rm(dir, { recursive: true, force: true });
	}, 20_000);

	it('loads the model for embeddings, named as node-llama-cpp names it, with unit vectors of its width', async () => {
		expect(loaded).toEqual({ id: `gguf:${tinyLlama.name}`, dimensions: tinyLlama.embedding, isolated: true });
		const [a, b, c] = await embedder.embed(['The harbour opens at six.', 'Engine oil weekly.', 'The harbour opens at six.']);
		expect(a).toHaveLength(tinyLlama.embedding);
		expect(dot(a!, a!)).toBeCloseTo(1, 5);
		expect(dot(a!, b!)).toBeLessThan(0.9999);
		expect(dot(a!, c!)).toBeCloseTo(1, 5);
	});

	it('ranks identical text first and near-identical text first or second in the index', async () => {
		const index = await KnowledgeIndex.open({ store: new MemoryVectorStore(), embedder });
		embedder.texts.length = 0;
		await index.update({ replace: [{ docId: 'n1', chunks: chunkNote('n1', '', BODY) }] });
		expect(embedder.texts).toHaveLength(5);
		const vector = { mayRead: () => true, mode: 'vector' as const, limit: 5 };
		for (const id of index.chunkIds('n1')) {
			const chunk = index.chunk(id)!;
			const [same] = await index.query(embeddingText(chunk), vector);
			expect(same, chunk.text).toMatchObject({ id, vectorRank: 1 });
			expect(same!.similarity).toBeCloseTo(1, 4);
		}
		const near = (await index.query('the harbour opens at six in the morning.', vector)).map((h) => h.id);
		expect(near.indexOf('note:n1#0')).toBeGreaterThanOrEqual(0);
		expect(near.indexOf('note:n1#0')).toBeLessThanOrEqual(1);
		// Re-putting the same note embeds nothing.
		embedder.texts.length = 0;
		await index.update({ replace: [{ docId: 'n1', chunks: chunkNote('n1', '', BODY) }] });
		expect(embedder.texts).toEqual([]);
	});

	it('cuts text longer than the context, and embeds empty text', async () => {
		const [long, empty] = await embedder.embed(['word '.repeat(400), '']);
		expect(long).toHaveLength(tinyLlama.embedding);
		expect(empty).toHaveLength(tinyLlama.embedding);
		expect(dot(long!, long!)).toBeCloseTo(1, 5);
	}, 30_000);

	it('gives the vectors node-llama-cpp gives for the same file', async () => {
		const file = fileURLToPath(new URL('../../relay/ai/nodeLlamaEmbedder.ts', import.meta.url));
		const { NodeLlamaEmbedder } = (await import(/* @vite-ignore */ file)) as {
			NodeLlamaEmbedder: new (init: { modelPath: string; gpu: false; threads: number; contextSize: number }) => Embedder & { dispose(): Promise<void> };
		};
		const node = new NodeLlamaEmbedder({ modelPath: llamaGgufPath(), gpu: false, threads: 1, contextSize: tinyLlama.contextLength });
		try {
			const texts = ['The harbour opens at six in the morning.', 'Radar maintenance is scheduled for Friday.', '港口早上六点开放。'];
			const fromNode = await node.embed(texts);
			const fromPage = await embedder.embed(texts);
			expect(node.id).toBe(embedder.id);
			for (let i = 0; i < texts.length; i++) expect(dot(fromNode[i]!, fromPage[i]!), texts[i]).toBeGreaterThan(0.99);
		} finally {
			await node.dispose();
		}
	});

	it('refuses to embed once unloaded', async () => {
		expect(await callPage(page, 'embedAfterUnload')).toEqual({ name: 'EmbedderError', message: 'The embedding model was unloaded.' });
	});
});

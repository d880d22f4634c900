/**
 * "Knowledge embeddings" (KnowledgeEmbedding.svelte.ts) over a real knowledge index and the
 * deterministic stand-in embedder: choosing a model gives the index its embedder and the
 * question's sources are ranked by meaning too; choosing none takes it away (and frees the
 * model); a model that fails to load, is not served, or takes too long leaves full text
 * answering, with the failure reported; read rights hold with vectors as without; the choice
 * is kept in the settings and loads again only with a question. The wllama loader itself
 * runs in the browser (tests/ai/wllamaEmbedder.test.ts, tests/e2e/knowledgeEmbeddings.spec.ts).
 */
import { describe, expect, it } from 'vitest';
import type { ModelFile } from '../../../src/lib/ai/modelFiles';
import { chunkNote } from '../../../src/lib/knowledge/chunker';
import { EmbedderError } from '../../../src/lib/knowledge/Embedder';
import { KnowledgeIndex } from '../../../src/lib/knowledge/KnowledgeIndex';
import { MemoryVectorStore } from '../../../src/lib/knowledge/VectorStore';
import {
	EMBEDDING_SETTING,
	EmbeddingStatus,
	KnowledgeEmbedding,
	type EmbedderLoader,
	type LoadedEmbedder
} from '../../../src/lib/state/KnowledgeEmbedding.svelte';
import { HashEmbedder } from '../knowledge/hashEmbedder';

const file = (name: string): ModelFile => ({ id: name.replace(/\.gguf$/, ''), name, size: 1_000_000, url: `http://relay/models/${name}`, format: 'gguf' });
const FILES = [file('embed.gguf'), file('other.gguf'), { ...file('web'), format: 'mlc' as const }];

/** The settings table, in memory. */
function memorySettings() {
	const rows = new Map<string, unknown>();
	return {
		rows,
		get: async (key: string) => (rows.has(key) ? { value: rows.get(key) } : undefined),
		put: async ({ key, value }: { key: string; value: unknown }) => void rows.set(key, value)
	};
}

/** A HashEmbedder that counts unloads. */
class Model extends HashEmbedder implements LoadedEmbedder {
	unloaded = 0;
	async unload(): Promise<void> {
		this.unloaded++;
	}
}

/** A loader that gives one {@link Model} per file and records them; `gate` holds the load, `embedGate` the model's first embedding. */
function loader(options: { fail?: Set<string>; gate?: Promise<void>; embedGate?: Promise<void> } = {}) {
	const loaded: { name: string; model: Model }[] = [];
	const load: EmbedderLoader = async (f, { onProgress }) => {
		onProgress({ loaded: f.size / 2, total: f.size });
		if (options.gate) await options.gate;
		if (options.fail?.has(f.name)) throw new EmbedderError(`Could not load the embedding model from ${f.url}: out of memory`);
		const model = new Model(64, `gguf:${f.id}`);
		if (options.embedGate) model.gate = options.embedGate.then(() => void (model.gate = undefined));
		loaded.push({ name: f.name, model });
		return model;
	};
	return { load, loaded };
}

const HARBOUR = `# Opening hours
The harbour opens at six in the morning and closes at ten at night.

# Fuel
Diesel is delivered on Mondays by the supply boat.

# Crew
Alice leads the morning watch; Bob cooks.`;

async function setup(init: { load?: EmbedderLoader; waitMs?: number; settings?: ReturnType<typeof memorySettings> } = {}) {
	const settings = init.settings ?? memorySettings();
	const knowledge = new KnowledgeEmbedding({
		settings,
		listFiles: async () => FILES,
		...(init.load ? { loadEmbedder: init.load } : {}),
		...(init.waitMs !== undefined ? { waitMs: init.waitMs } : {})
	});
	const index = await KnowledgeIndex.open({ store: new MemoryVectorStore(), batchSize: 2, ...knowledge.indexHooks });
	await index.apply({
		replace: [
			{ docId: 'port', chunks: chunkNote('port', 'Port', HARBOUR) },
			{ docId: 'secret', chunks: chunkNote('secret', 'Secret', 'Diesel is delivered on Mondays by the supply boat.') }
		]
	});
	return { knowledge, index, settings };
}

const readable = { mayRead: (docId: string) => docId !== 'secret', limit: 3 };
const ask = 'Diesel is delivered on Mondays by the supply boat.';

describe('KnowledgeEmbedding', () => {
	it('lists only GGUF files the relay serves', async () => {
		const { knowledge } = await setup();
		await knowledge.listFiles();
		expect(knowledge.files?.map((f) => f.name)).toEqual(['embed.gguf', 'other.gguf']);
	});

	it('choosing a model sets the index’s embedder: the question is ranked by meaning too, and the choice is saved', async () => {
		const { load, loaded } = loader();
		const { knowledge, index, settings } = await setup({ load });
		// Nothing is loaded before a question or a choice.
		const before = await knowledge.query(index, ask, readable);
		expect(loaded).toHaveLength(0);
		expect(index.embedder).toBeUndefined();
		expect(knowledge.lastRanking).toMatchObject({ byMeaning: false });
		expect(before[0]?.vectorRank).toBeUndefined();

		await knowledge.choose('embed.gguf');
		expect(knowledge.status).toBe(EmbeddingStatus.ready);
		expect(loaded.map((l) => l.name)).toEqual(['embed.gguf']);
		expect(settings.rows.get(EMBEDDING_SETTING)).toBe('embed.gguf');

		const hits = await knowledge.query(index, ask, readable);
		expect(index.embedder).toBe(loaded[0]!.model);
		expect(index.pendingCount).toBe(0);
		expect(hits[0]).toMatchObject({ docId: 'port', title: 'Port › Fuel', vectorRank: 1, fullTextRank: 1 });
		// Read rights hold with vectors: the unreadable note with the very same text never shows.
		expect(hits.every((h) => h.docId !== 'secret')).toBe(true);
		expect(knowledge.lastRanking).toEqual({ byMeaning: true, embedded: index.size, passages: index.size });
		expect(knowledge.embedding).toBeUndefined();
		expect(knowledge.error).toBeUndefined();
	});

	it('choosing none clears the embedder and frees the model; full text still answers', async () => {
		const { load, loaded } = loader();
		const { knowledge, index, settings } = await setup({ load });
		await knowledge.choose('embed.gguf');
		await knowledge.query(index, ask, readable);
		expect(index.embedder).toBeDefined();

		await knowledge.choose(undefined);
		expect(index.embedder).toBeUndefined();
		expect(loaded[0]!.model.unloaded).toBe(1);
		expect(knowledge.status).toBe(EmbeddingStatus.off);
		expect(settings.rows.get(EMBEDDING_SETTING)).toBe('');
		const hits = await knowledge.query(index, ask, readable);
		expect(hits[0]).toMatchObject({ docId: 'port', title: 'Port › Fuel', fullTextRank: 1 });
		expect(hits[0]?.vectorRank).toBeUndefined();
		expect(knowledge.lastRanking).toMatchObject({ byMeaning: false });
		expect(loaded).toHaveLength(1);
	});

	it('switching models frees the first and embeds again in the second’s space', async () => {
		const { load, loaded } = loader();
		const { knowledge, index } = await setup({ load });
		await knowledge.choose('embed.gguf');
		await knowledge.query(index, ask, readable);
		await knowledge.choose('other.gguf');
		expect(loaded[0]!.model.unloaded).toBe(1);
		await knowledge.query(index, ask, readable);
		expect(index.embedder?.id).toBe('gguf:other');
		expect(loaded[1]!.model.texts.length).toBeGreaterThanOrEqual(index.size);
		expect(knowledge.lastRanking).toMatchObject({ byMeaning: true });
	});

	it('a failing load leaves full text working and reports the error; Try again loads it', async () => {
		const fail = new Set(['embed.gguf']);
		const { load, loaded } = loader({ fail });
		const { knowledge, index } = await setup({ load });
		await knowledge.choose('embed.gguf');
		expect(knowledge.status).toBe(EmbeddingStatus.failed);
		expect(knowledge.error?.name).toBe('EmbeddingLoadError');
		expect(knowledge.error?.message).toMatch(/out of memory/);
		expect(knowledge.download).toBeUndefined();

		const hits = await knowledge.query(index, ask, readable);
		expect(index.embedder).toBeUndefined();
		expect(hits[0]).toMatchObject({ docId: 'port', title: 'Port › Fuel' });
		expect(hits.every((h) => h.docId !== 'secret')).toBe(true);
		expect(knowledge.lastRanking).toMatchObject({ byMeaning: false });
		// A question does not load a failed model again by itself: the error stays until Try again.
		expect(knowledge.error?.name).toBe('EmbeddingLoadError');

		fail.clear();
		await knowledge.retry();
		expect(knowledge.status).toBe(EmbeddingStatus.ready);
		expect(knowledge.error).toBeUndefined();
		await knowledge.query(index, ask, readable);
		expect(index.embedder).toBe(loaded[0]!.model);
		expect(knowledge.lastRanking).toMatchObject({ byMeaning: true });
	});

	it('a model the relay does not serve is reported, and full text answers', async () => {
		const { load, loaded } = loader();
		const { knowledge, index } = await setup({ load });
		await knowledge.choose('gone.gguf');
		expect(knowledge.error?.name).toBe('EmbeddingModelMissingError');
		expect(loaded).toHaveLength(0);
		expect((await knowledge.query(index, ask, readable))[0]).toMatchObject({ docId: 'port' });
	});

	it('a model that fails to embed the question is reported; full text answers alone', async () => {
		const { load, loaded } = loader();
		const { knowledge, index } = await setup({ load });
		await knowledge.choose('embed.gguf');
		await knowledge.query(index, ask, readable);
		loaded[0]!.model.failWith = new EmbedderError('the model crashed');
		const hits = await knowledge.query(index, ask, readable);
		expect(hits[0]).toMatchObject({ docId: 'port', title: 'Port › Fuel' });
		expect(hits[0]?.vectorRank).toBeUndefined();
		expect(knowledge.error?.name).toBe('EmbeddingFailedError');
		expect(knowledge.lastRanking).toMatchObject({ byMeaning: false });
		loaded[0]!.model.failWith = undefined;
		await knowledge.query(index, ask, readable);
		expect(knowledge.error).toBeUndefined();
		expect(knowledge.lastRanking).toMatchObject({ byMeaning: true });
	});

	it('a question waits only so long for the model to load; the model is used once loaded', async () => {
		let open!: () => void;
		const { load, loaded } = loader({ gate: new Promise<void>((resolve) => (open = resolve)) });
		const { knowledge, index } = await setup({ load, waitMs: 50 });
		const choosing = knowledge.choose('embed.gguf');
		const hits = await knowledge.query(index, ask, readable);
		expect(knowledge.status).toBe(EmbeddingStatus.loading);
		expect(knowledge.download).toEqual({ loaded: 500_000, total: 1_000_000 });
		expect(hits[0]).toMatchObject({ docId: 'port', title: 'Port › Fuel' });
		expect(knowledge.lastRanking).toMatchObject({ byMeaning: false, embedded: 0 });

		open();
		await choosing;
		expect(knowledge.status).toBe(EmbeddingStatus.ready);
		expect(index.embedder).toBe(loaded[0]!.model);
		// The index is open: its passages are embedded in the background, not at the next question.
		await expect.poll(() => index.pendingCount).toBe(0);
		await knowledge.query(index, ask, readable);
		expect(knowledge.lastRanking).toEqual({ byMeaning: true, embedded: index.size, passages: index.size });
	});

	it('shows embedding progress; a question does not wait for it past its limit', async () => {
		let release!: () => void;
		const { load } = loader({ embedGate: new Promise<void>((resolve) => (release = resolve)) });
		const { knowledge, index } = await setup({ load, waitMs: 50 });
		await knowledge.query(index, ask, readable); // the index is known before the model is chosen
		await knowledge.choose('embed.gguf');
		expect(knowledge.embedding).toEqual({ done: 0, total: index.size });
		const hits = await knowledge.query(index, ask, readable);
		expect(hits[0]).toMatchObject({ docId: 'port', title: 'Port › Fuel' });
		expect(knowledge.lastRanking).toMatchObject({ byMeaning: false, embedded: 0 });

		release();
		await expect.poll(() => index.pendingCount).toBe(0);
		expect(knowledge.embedding).toBeUndefined();
		await knowledge.query(index, ask, readable);
		expect(knowledge.lastRanking).toMatchObject({ byMeaning: true, embedded: index.size });
	});

	it('keeps the choice on this device: a new session restores it and loads it with the first question', async () => {
		const settings = memorySettings();
		const first = await setup({ load: loader().load, settings });
		await first.knowledge.choose('embed.gguf');
		await first.knowledge.close();

		const { load, loaded } = loader();
		const { knowledge, index } = await setup({ load, settings });
		await knowledge.restore();
		expect(knowledge.chosen).toBe('embed.gguf');
		expect(knowledge.status).toBe(EmbeddingStatus.idle);
		expect(loaded).toHaveLength(0);
		await knowledge.query(index, ask, readable);
		expect(loaded.map((l) => l.name)).toEqual(['embed.gguf']);
		expect(knowledge.lastRanking).toMatchObject({ byMeaning: true });
	});
});

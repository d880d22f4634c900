/**
 * Retrieval with a real embedding model: the tiny generated GGUF run by node-llama-cpp
 * (relay/ai/nodeLlamaEmbedder.ts), inside the index. Identical text ranks first, near-identical
 * text first or second, and an edit re-embeds only the changed chunk (embed calls counted).
 *
 * The embedder is imported at run time: relay/ is Node code with `.ts` import paths, which
 * the app's type check (covering tests/) does not accept.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkNote, embeddingText } from '../../../src/lib/knowledge/chunker';
import type { Embedder } from '../../../src/lib/knowledge/Embedder';
import { KnowledgeIndex } from '../../../src/lib/knowledge/KnowledgeIndex';
import { MemoryVectorStore } from '../../../src/lib/knowledge/VectorStore';
import { llamaGgufPath } from '../../fixtures/gguf';

interface ModelEmbedder extends Embedder {
	dispose(): Promise<void>;
}

/** Counts the texts it passes to the model. */
class Counting implements Embedder {
	readonly texts: string[] = [];
	constructor(private readonly inner: Embedder) {}
	get id(): string {
		return this.inner.id;
	}
	embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
		this.texts.push(...texts);
		return this.inner.embed(texts, signal);
	}
}

const BODY = `# Harbour
The harbour opens at six in the morning.

# Engine
Engine oil must be checked every week.

# Galley
We had noodles for lunch today.

# Radar
Radar maintenance is scheduled for Friday.

# Fuel
The supply boat brings diesel on Mondays.`;

let model: ModelEmbedder;
beforeAll(async () => {
	const file = fileURLToPath(new URL('../../../relay/ai/nodeLlamaEmbedder.ts', import.meta.url));
	const { NodeLlamaEmbedder } = (await import(/* @vite-ignore */ file)) as {
		NodeLlamaEmbedder: new (init: { modelPath: string; gpu: false; threads: number }) => ModelEmbedder;
	};
	model = new NodeLlamaEmbedder({ modelPath: llamaGgufPath(), gpu: false, threads: 1 });
}, 30_000);
afterAll(() => model?.dispose());

describe('retrieval with the generated embedding model', () => {
	it('ranks identical text first and near-identical text first or second, by vectors alone', async () => {
		const embedder = new Counting(model);
		const index = await KnowledgeIndex.open({ store: new MemoryVectorStore(), embedder });
		await index.update({ replace: [{ docId: 'n1', chunks: chunkNote('n1', '', BODY) }] });
		expect(embedder.texts).toHaveLength(5);
		const vector = { mayRead: () => true, mode: 'vector' as const, limit: 5 };
		for (const id of index.chunkIds('n1')) {
			const chunk = index.chunk(id)!;
			// The text as embedded (heading, then section) is the same vector…
			const [same] = await index.query(embeddingText(chunk), vector);
			expect(same, chunk.text).toMatchObject({ id, vectorRank: 1 });
			expect(same!.similarity).toBeCloseTo(1, 4);
			// …and the section's text alone is still the nearest.
			expect((await index.query(chunk.text, vector))[0]?.id, chunk.text).toBe(id);
		}
		for (const [text, n] of [
			['the harbour opens at six in the morning.', 0],
			['Engine oil must be checked each week.', 1]
		] as const) {
			const ids = (await index.query(text, vector)).map((h) => h.id);
			expect(ids.indexOf(`note:n1#${n}`), text).toBeGreaterThanOrEqual(0);
			expect(ids.indexOf(`note:n1#${n}`), text).toBeLessThanOrEqual(1);
		}
		// Fused with full text, the identical section stays first.
		expect((await index.query('Radar maintenance is scheduled for Friday.', { mayRead: () => true }))[0]?.id).toBe('note:n1#3');
	});

	it('re-embeds only the note that changed', async () => {
		const embedder = new Counting(model);
		const index = await KnowledgeIndex.open({ store: new MemoryVectorStore(), embedder });
		const other = '# Crew\nAlice leads the night watch.';
		await index.update({
			replace: [
				{ docId: 'n1', chunks: chunkNote('n1', 'Ship', BODY) },
				{ docId: 'n2', chunks: chunkNote('n2', 'Crew', other) }
			]
		});
		expect(embedder.texts).toHaveLength(6);
		embedder.texts.length = 0;
		await index.update({
			replace: [
				{ docId: 'n1', chunks: chunkNote('n1', 'Ship', BODY) },
				{ docId: 'n2', chunks: chunkNote('n2', 'Crew', `${other} Bob cooks.`) }
			]
		});
		expect(embedder.texts).toEqual(['Crew › Crew\nAlice leads the night watch. Bob cooks.']);
		const [hit] = await index.query('Alice leads the night watch. Bob cooks.', { mayRead: () => true });
		expect(hit?.docId).toBe('n2');
	});
});

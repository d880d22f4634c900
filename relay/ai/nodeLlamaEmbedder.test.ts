/**
 * The node-llama-cpp embedder on the tiny generated model (random weights: its vectors mean
 * nothing, but the same text must give the same vector, and text that differs a little must
 * stay close). tests/unit/knowledge/modelRetrieval.test.ts runs it inside the retrieval index.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { VectorMatrix } from '../../src/lib/knowledge/VectorMatrix.ts';
import { llamaGgufPath, tinyLlama } from '../../tests/fixtures/gguf.ts';
import { NodeLlamaEmbedder } from './nodeLlamaEmbedder.ts';

const embedder = new NodeLlamaEmbedder({ modelPath: llamaGgufPath(), gpu: false, threads: 1 });
afterAll(() => embedder.dispose());

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

const CHUNKS = [
	'The harbour opens at six in the morning.',
	'Engine oil must be checked every week.',
	'We had noodles for lunch today.',
	'Radar maintenance is scheduled for Friday.',
	'The supply boat brings diesel on Mondays.',
	'Alice leads the night watch this month.',
	'港口早上六点开放。'
];

describe('NodeLlamaEmbedder', () => {
	it('names its space after the model and gives unit vectors of the model’s width, the same for the same text', async () => {
		expect(embedder.id).toBe(`gguf:${tinyLlama.name}`);
		expect(await embedder.dimensions()).toBe(tinyLlama.embedding);
		const [a, b, c] = await embedder.embed([CHUNKS[0]!, CHUNKS[1]!, CHUNKS[0]!]);
		expect(a).toHaveLength(tinyLlama.embedding);
		expect(dot(a!, a!)).toBeCloseTo(1, 5);
		expect(dot(a!, b!)).toBeLessThan(0.9999);
		expect([...c!]).toEqual([...a!]);
	});

	it('ranks identical text first and near-identical text first or second', async () => {
		const vectors = await embedder.embed(CHUNKS);
		const matrix = new VectorMatrix();
		CHUNKS.forEach((_, i) => matrix.set(`c${i}`, `h${i}`, vectors[i]!));
		for (let i = 0; i < CHUNKS.length; i++) {
			const [query] = await embedder.embed([CHUNKS[i]!]);
			expect(matrix.nearest(query!, 1, () => true)[0]).toMatchObject({ id: `c${i}` });
		}
		const near = ['the harbour opens at six in the morning.', 'The harbour opens at 6 in the morning.', 'Engine oil must be checked each week.'];
		const targets = ['c0', 'c0', 'c1'];
		for (const [i, text] of near.entries()) {
			const [query] = await embedder.embed([text]);
			const ranked = matrix.nearest(query!, CHUNKS.length, () => true).map((n) => n.id);
			expect(ranked.indexOf(targets[i]!), text).toBeLessThanOrEqual(1);
		}
	});

	it('cuts text longer than the context, and embeds empty text', async () => {
		const [long, empty] = await embedder.embed(['word '.repeat(2000), '']);
		expect(long).toHaveLength(tinyLlama.embedding);
		expect(empty).toHaveLength(tinyLlama.embedding);
		expect(dot(long!, long!)).toBeCloseTo(1, 5);
	});

	it('stops on abort, and refuses once disposed', async () => {
		const controller = new AbortController();
		controller.abort();
		await expect(embedder.embed(['x'], controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
		const other = new NodeLlamaEmbedder({ modelPath: llamaGgufPath(), gpu: false, threads: 1 });
		await other.dispose();
		await expect(other.embed(['x'])).rejects.toMatchObject({ name: 'EmbedderError' });
		const missing = new NodeLlamaEmbedder({ modelPath: '/nonexistent/model.gguf', gpu: false });
		await expect(missing.embed(['x'])).rejects.toMatchObject({ name: 'EmbedderError', message: expect.stringContaining('Could not load') });
	});
});

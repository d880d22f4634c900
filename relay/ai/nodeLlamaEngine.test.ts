/** The node-llama-cpp engine on the tiny generated model: the shared suite, then its own queue. */
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/lib/ai/engine.ts';
import { collect, describeEngine } from '../../tests/ai/engineSuite.ts';
import { llamaGgufPath, tinyLlama } from '../../tests/fixtures/gguf.ts';
import { NodeLlamaEngine } from './nodeLlamaEngine.ts';

const tiny = (options: { maxQueue?: number; modelPath?: string } = {}) =>
	new NodeLlamaEngine({ modelPath: llamaGgufPath(), gpu: false, threads: 1, ...options });

describeEngine('node-llama-cpp', async () => {
	const engine = tiny();
	return { engine, model: engine.modelId, close: () => engine.dispose() };
});

describe('NodeLlamaEngine', () => {
	const ask = (engine: NodeLlamaEngine, content = 'Hi', maxTokens = 8) => ({
		model: engine.modelId,
		messages: [{ role: 'user' as const, content }],
		maxTokens,
		temperature: 0
	});

	it('names the model after its file and reports the context it runs', async () => {
		const engine = tiny();
		expect(engine.modelId).toBe(tinyLlama.name);
		expect(await engine.models()).toEqual([
			{ id: tinyLlama.name, name: tinyLlama.name, engine: 'node-llama-cpp', contextLength: 256 }
		]);
		await engine.dispose();
	});

	it('reproduces sampled text from a seed', async () => {
		const engine = tiny();
		const request = { ...ask(engine, 'Once upon a time', 16), temperature: 1, seed: 42 };
		const a = await collect(engine.generate(request));
		const b = await collect(engine.generate(request));
		expect(b.text).toBe(a.text);
		await engine.dispose();
	});

	it('runs one generation at a time, queues a bounded number, and refuses more as busy', async () => {
		const engine = tiny({ maxQueue: 1 });
		const first = engine.generate(ask(engine, 'first'))[Symbol.asyncIterator]();
		expect((await first.next()).value).toMatchObject({ type: 'text' }); // holds the context
		const second = collect(engine.generate(ask(engine, 'second')));
		await new Promise((r) => setTimeout(r, 20));
		expect(engine.queueDepth).toBe(2);
		const third = collect(engine.generate(ask(engine, 'third')));
		await expect(third).rejects.toMatchObject({ name: 'EngineError', problem: 'busy' });

		while (!(await first.next()).done);
		expect((await second).done).toHaveLength(1);
		expect(engine.queueDepth).toBe(0);
		await engine.dispose();
	});

	it('drops an aborted request from the queue', async () => {
		const engine = tiny({ maxQueue: 1 });
		const first = engine.generate(ask(engine, 'first'))[Symbol.asyncIterator]();
		await first.next();
		const controller = new AbortController();
		const waiting = collect(engine.generate(ask(engine, 'second'), controller.signal));
		await new Promise((r) => setTimeout(r, 20));
		expect(engine.queueDepth).toBe(2);
		controller.abort();
		await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
		expect(engine.queueDepth).toBe(1);
		await first.return?.(undefined);
		expect(engine.queueDepth).toBe(0);
		await engine.dispose();
	});

	it('does not throw on invalid UTF-8 from the model', async () => {
		// Every token allowed: random bytes, invalid UTF-8 included, and end-of-sequence.
		const engine = tiny({ modelPath: llamaGgufPath({ name: 'tiny-random-bytes', asciiOnly: false }) });
		for (const seed of [1, 2, 3]) {
			const { text, done } = await collect(
				engine.generate({ ...ask(engine, 'bytes', 48), temperature: 1.5, seed })
			);
			expect(typeof text).toBe('string');
			expect(done).toHaveLength(1);
		}
		await engine.dispose();
	});

	it('fails with a clear error for a missing file, and after dispose', async () => {
		const missing = tiny({ modelPath: '/nonexistent/none.gguf' });
		await expect(missing.models()).rejects.toBeInstanceOf(EngineError);
		const engine = tiny();
		await engine.dispose();
		await expect(collect(engine.generate(ask(engine)))).rejects.toMatchObject({ problem: 'failed' });
	});
});

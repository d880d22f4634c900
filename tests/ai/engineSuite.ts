/**
 * The shared engine test suite: the same behaviour asserted of every {@link Engine}
 * (node-llama-cpp, wllama, WebLLM, an OpenAI-compatible upstream, the mesh engine), the way
 * automerge-repo runs one storage suite against each adapter. An engine's test file calls
 * {@link describeEngine} with a factory for an engine serving a small model.
 *
 * The model only has to produce some text: the tests compare an engine's output with its
 * own earlier output, never with fixed strings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, GenerateChunk, GenerateRequest } from '../../src/lib/ai/engine.js';
import type { ToolCall } from '../../src/lib/ai/tools/types.js';
import { describeToolCalling } from './engineToolSuite.js';

/** An engine under test, the id of a model it serves, and how to shut it down. */
export interface EngineUnderTest {
	engine: Engine;
	model: string;
	close(): Promise<void>;
}

type DoneChunk = Extract<GenerateChunk, { type: 'done' }>;

/** All chunks of a generation, split into text pieces and final chunks. */
export async function collect(
	chunks: AsyncIterable<GenerateChunk>
): Promise<{ texts: string[]; text: string; done: DoneChunk[]; calls: ToolCall[]; order: GenerateChunk['type'][] }> {
	const texts: string[] = [];
	const done: DoneChunk[] = [];
	const calls: ToolCall[] = [];
	const order: GenerateChunk['type'][] = [];
	for await (const chunk of chunks) {
		order.push(chunk.type);
		if (chunk.type === 'text') texts.push(chunk.text);
		else if (chunk.type === 'tool-call') calls.push(chunk.call);
		else done.push(chunk);
	}
	return { texts, text: texts.join(''), done, calls, order };
}

/** Runs the shared engine suite (tool calling included) against the engines `makeEngine` creates. */
export function describeEngine(name: string, makeEngine: () => Promise<EngineUnderTest>): void {
	describeToolCalling(name, makeEngine);
	describe(`Engine: ${name}`, () => {
		let engine: Engine;
		let model: string;
		let close: (() => Promise<void>) | undefined;
		const ask = (content: string, options: Partial<GenerateRequest> = {}): GenerateRequest => ({
			model,
			messages: [{ role: 'user', content }],
			maxTokens: 12,
			temperature: 0,
			...options
		});

		beforeAll(async () => {
			({ engine, model, close } = await makeEngine());
		});
		afterAll(async () => {
			await close?.();
		});

		it('lists the model with its context length', async () => {
			const models = await engine.models();
			const info = models.find((m) => m.id === model);
			expect(info).toBeDefined();
			expect(info?.engine).toBe(engine.kind);
			expect(info?.contextLength).toBeGreaterThan(0);
		});

		it('streams several text chunks, then exactly one done chunk with token counts', async () => {
			const result = await collect(engine.generate(ask('Tell me a story.')));
			expect(result.texts.length).toBeGreaterThan(1);
			expect(result.texts.every((t) => typeof t === 'string' && t.length > 0)).toBe(true);
			expect(result.done).toHaveLength(1);
			expect(result.order.at(-1)).toBe('done');
			const [done] = result.done;
			expect(done?.promptTokens).toBeGreaterThan(0);
			expect(done?.completionTokens).toBeGreaterThan(0);
			expect(['stop', 'length']).toContain(done?.finishReason);
		});

		it('respects maxTokens', async () => {
			const { done } = await collect(engine.generate(ask('Count to ten.', { maxTokens: 3 })));
			expect(done[0]?.completionTokens).toBeLessThanOrEqual(3);
			if (done[0]?.finishReason === 'length') expect(done[0].completionTokens).toBe(3);
		});

		it('is deterministic at temperature 0', async () => {
			const first = await collect(engine.generate(ask('Say something.', { maxTokens: 16 })));
			const second = await collect(engine.generate(ask('Say something.', { maxTokens: 16 })));
			expect(first.text.length).toBeGreaterThan(0);
			expect(second.text).toBe(first.text);
		});

		it('samples at temperature > 0: other seeds give other text, the same seed the same text', async () => {
			// The generated model writes random printable ASCII: 32 tokens sampled at 1.2 from
			// three seeds are all alike only if the engine ignores the temperature or the seed.
			const sampled = (seed: number) => collect(engine.generate(ask('Once upon a time', { maxTokens: 32, temperature: 1.2, seed })));
			const texts: string[] = [];
			for (const seed of [11, 22, 33]) texts.push((await sampled(seed)).text);
			expect(texts.every((t) => t.length > 0)).toBe(true);
			expect(new Set(texts).size).toBeGreaterThanOrEqual(2);
			expect((await sampled(22)).text).toBe(texts[1]);
			// At temperature 0 the seed changes nothing: the temperature was used, not a default.
			const greedy = (seed: number) => collect(engine.generate(ask('Once upon a time', { maxTokens: 32, temperature: 0, seed })));
			expect((await greedy(11)).text).toBe((await greedy(33)).text);
		});

		it('ends before a stop string, which is not part of the output', async () => {
			const request = ask('Write a line.', { maxTokens: 24 });
			const { text } = await collect(engine.generate(request));
			expect(text.length).toBeGreaterThanOrEqual(8);
			const stop = text.slice(6, 8);
			const stopped = await collect(engine.generate({ ...request, stop: [stop] }));
			expect(stopped.text).toBe(text.slice(0, text.indexOf(stop)));
			expect(stopped.done[0]?.finishReason).toBe('stop');
		});

		it('stops on abort mid-stream with an AbortError, and the next generation works', async () => {
			const controller = new AbortController();
			const seen: string[] = [];
			let abortedAt = 0;
			const run = (async () => {
				for await (const chunk of engine.generate(ask('Go on.', { maxTokens: 200 }), controller.signal)) {
					if (chunk.type !== 'text') continue;
					seen.push(chunk.text);
					if (seen.length === 2) {
						abortedAt = performance.now();
						controller.abort();
					}
				}
			})();
			await expect(run).rejects.toMatchObject({ name: 'AbortError' });
			expect(performance.now() - abortedAt).toBeLessThan(1000);
			expect(seen).toHaveLength(2);
			const next = await collect(engine.generate(ask('Hello again.', { maxTokens: 4 })));
			expect(next.done).toHaveLength(1);
		});

		it('rejects an already aborted signal without generating', async () => {
			const controller = new AbortController();
			controller.abort();
			await expect(collect(engine.generate(ask('Hi'), controller.signal))).rejects.toMatchObject({
				name: 'AbortError'
			});
		});

		it('refuses an unknown model', async () => {
			await expect(collect(engine.generate(ask('Hi', { model: `${model}-missing` })))).rejects.toMatchObject({
				name: 'EngineError',
				problem: 'unknown-model'
			});
		});

		it('refuses empty input', async () => {
			const empty = { name: 'EngineError', problem: 'empty-input' };
			await expect(collect(engine.generate({ model, messages: [] }))).rejects.toMatchObject(empty);
			await expect(collect(engine.generate(ask('  ')))).rejects.toMatchObject(empty);
		});

		it('refuses input longer than the context', async () => {
			const info = (await engine.models()).find((m) => m.id === model);
			const words = Array.from({ length: 2 * (info?.contextLength ?? 4096) }, (_, i) => `w${i}`);
			await expect(collect(engine.generate(ask(words.join(' '))))).rejects.toMatchObject({
				name: 'EngineError',
				problem: 'input-too-long'
			});
		});
	});
}

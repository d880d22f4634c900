/**
 * How WebllmEngine maps WebLLM onto the Engine interface: streamed deltas, token counts from
 * `usage`, aborting through `interruptGenerate`, a queue of one, WebLLM's errors as
 * EngineErrors, and the load's progress and context length. No MLC-compiled model can run
 * here (STACK-NOTES.md), so WebLLM itself is replaced by a scripted runtime that behaves as
 * MLCEngine does for these calls; the model's config comes from a real HTTP server. The real
 * WebLLM is exercised in Chromium in tests/ai/webllmEngine.test.ts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChatCompletionChunk, ChatCompletionRequestStreaming, MLCEngineConfig } from '@mlc-ai/web-llm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineError, type GenerateChunk } from '../../../src/lib/ai/engine.js';
import { WebllmEngine, type WebllmRuntime } from '../../../src/lib/ai/webllmEngine.js';
import { toolPlan } from '../../../src/lib/ai/tools/toolPrompt.js';

let server: Server;
let relay: string;

beforeAll(async () => {
	server = createServer((req, res) => {
		if (req.url === '/models/m/resolve/main/mlc-chat-config.json') res.end(JSON.stringify({ context_window_size: 1024 }));
		else {
			res.statusCode = 404;
			res.end();
		}
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	relay = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** What the scripted runtime saw and does. */
interface Script {
	pieces: string[];
	/** Thrown by `create` instead of streaming. */
	error?: Error;
	/** Thrown by `reload`. */
	reloadError?: Error;
	requests: ChatCompletionRequestStreaming[];
	interrupted: number;
	reloaded: string[];
}

function runtime(script: Script) {
	class ScriptedEngine implements WebllmRuntime {
		private interrupt = false;
		constructor(private readonly config: MLCEngineConfig) {}
		async reload(id: string | string[]): Promise<void> {
			script.reloaded.push(String(id));
			this.config.initProgressCallback?.({ progress: 0.5, timeElapsed: 0, text: 'half' });
			if (script.reloadError) throw script.reloadError;
			this.config.initProgressCallback?.({ progress: 1, timeElapsed: 0, text: 'done' });
		}
		async unload(): Promise<void> {}
		async interruptGenerate(): Promise<void> {
			script.interrupted++;
			this.interrupt = true;
		}
		chat = {
			completions: {
				create: async (request: ChatCompletionRequestStreaming): Promise<AsyncIterable<ChatCompletionChunk>> => {
					script.requests.push(request);
					if (script.error) throw script.error;
					this.interrupt = false;
					const self = this;
					return (async function* () {
						let n = 0;
						for (const piece of script.pieces) {
							await new Promise((resolve) => setTimeout(resolve, 5));
							if (self.interrupt || n >= (request.max_tokens ?? Infinity)) break; // WebLLM ends an interrupted stream quietly
							n++;
							yield chunk({ choices: [{ index: 0, delta: { content: piece, role: 'assistant' }, finish_reason: null, logprobs: null }] });
						}
						const length = n >= (request.max_tokens ?? Infinity);
						yield chunk({ choices: [{ index: 0, delta: { content: '' }, finish_reason: length ? 'length' : 'stop', logprobs: null }] });
						yield chunk({ choices: [], usage: { prompt_tokens: 7, completion_tokens: n, total_tokens: 7 + n, extra: {} as never } });
					})();
				}
			}
		};
	}
	return async () => ({ MLCEngine: ScriptedEngine });
}

function chunk(part: Partial<ChatCompletionChunk>): ChatCompletionChunk {
	return { id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [], ...part } as ChatCompletionChunk;
}

const mlc = { id: 'm', name: 'M model', url: '/models/m/resolve/main/', format: 'mlc' as const, modelLib: '/models/m/resolve/main/m.wasm' };
const newScript = (pieces: string[] = ['Hel', 'lo', ' there']): Script => ({ pieces, requests: [], interrupted: 0, reloaded: [] });

async function loaded(script: Script) {
	const engine = new WebllmEngine({ relay, runtime: runtime(script) });
	const progress: number[] = [];
	const info = await engine.load(mlc, { onProgress: (p) => progress.push(p.progress) });
	return { engine, info, progress };
}

async function collect(chunks: AsyncIterable<GenerateChunk>) {
	let text = '';
	let done: GenerateChunk | undefined;
	for await (const c of chunks) {
		if (c.type === 'text') text += c.text;
		else done = c;
	}
	return { text, done };
}

const ask = (content: string, extra = {}) => ({ model: 'm', messages: [{ role: 'user' as const, content }], ...extra });

describe('WebllmEngine', () => {
	it('loads with progress and the context window of the model config, and lists the model', async () => {
		const script = newScript();
		const { engine, info, progress } = await loaded(script);
		expect(info).toEqual({ id: 'm', name: 'M model', engine: 'webllm', contextLength: 1024 });
		expect(progress).toEqual([0.5, 1]);
		expect(script.reloaded).toEqual(['m']);
		expect(await engine.models()).toEqual([info]);
	});

	it('streams the deltas and ends with the usage counts, passing the sampling fields on', async () => {
		const script = newScript();
		const { engine } = await loaded(script);
		const { text, done } = await collect(engine.generate(ask('hi', { maxTokens: 10, temperature: 0, stop: ['\n'], seed: 3 })));
		expect(text).toBe('Hello there');
		expect(done).toEqual({ type: 'done', finishReason: 'stop', promptTokens: 7, completionTokens: 3 });
		expect(script.requests[0]).toMatchObject({ stream: true, stream_options: { include_usage: true }, max_tokens: 10, temperature: 0, stop: ['\n'], seed: 3 });
		const short = await collect(engine.generate(ask('hi', { maxTokens: 2 })));
		expect(short.done).toMatchObject({ finishReason: 'length', completionTokens: 2 });
	});

	it('interrupts WebLLM when aborted and ends with the abort reason', async () => {
		const script = newScript(Array.from({ length: 50 }, () => 'x'));
		const { engine } = await loaded(script);
		const abort = new AbortController();
		const seen: string[] = [];
		const run = (async () => {
			for await (const c of engine.generate(ask('long'), abort.signal)) {
				if (c.type === 'text') seen.push(c.text);
				if (seen.length === 3) abort.abort();
			}
		})();
		await expect(run).rejects.toMatchObject({ name: 'AbortError' });
		expect(script.interrupted).toBe(1);
		expect(seen.length).toBeLessThan(50);
		// The engine is free again.
		script.pieces = ['ok'];
		expect((await collect(engine.generate(ask('again')))).text).toBe('ok');
	});

	it('runs one generation at a time, in order', async () => {
		const script = newScript(['a', 'b', 'c']);
		const { engine } = await loaded(script);
		const order: string[] = [];
		const one = async (tag: string) => {
			for await (const c of engine.generate(ask(tag))) if (c.type === 'text') order.push(`${tag}${c.text}`);
		};
		await Promise.all([one('1'), one('2')]);
		expect(order).toEqual(['1a', '1b', '1c', '2a', '2b', '2c']);
	});

	it('refuses unknown models and empty prompts, and maps WebLLM errors to EngineErrors', async () => {
		const script = newScript();
		const { engine } = await loaded(script);
		await expect(collect(engine.generate({ model: 'other', messages: [{ role: 'user', content: 'x' }] }))).rejects.toMatchObject({ problem: 'unknown-model' });
		await expect(collect(engine.generate(ask('   ')))).rejects.toMatchObject({ problem: 'empty-input' });
		script.error = Object.assign(new Error('prompt too long'), { name: 'ContextWindowSizeExceededError' });
		await expect(collect(engine.generate(ask('x')))).rejects.toMatchObject({ problem: 'input-too-long', message: expect.stringMatching(/context of 1024 tokens/) });
		script.error = new Error('GPU fell over');
		const failed = await collect(engine.generate(ask('x'))).catch((e: unknown) => e);
		expect(failed).toBeInstanceOf(EngineError);
		expect(failed).toMatchObject({ problem: 'failed', message: 'The model failed: GPU fell over' });
	});

	it('tools: a required call is constrained by the grammar and comes back as a tool-call chunk; otherwise the tools are only described', async () => {
		const pick = { name: 'pick', description: 'Picks a colour.', parameters: { type: 'object' as const, properties: { colour: { enum: ['red', 'blue'] } }, required: ['colour'] } };
		const script = newScript(['{"tool":"pick",', '"arguments":{"colour":"red"}}']);
		const { engine } = await loaded(script);
		const chunks: GenerateChunk[] = [];
		const request = ask('Pick one.', { tools: [pick], toolChoice: { name: 'pick' } });
		for await (const c of engine.generate(request)) chunks.push(c);
		const plan = toolPlan(request);
		expect(plan.grammar).toContain('"\\"red\\"" | "\\"blue\\""');
		expect(script.requests[0]!.response_format).toEqual({ type: 'grammar', grammar: plan.grammar });
		expect(script.requests[0]!.messages[0]).toMatchObject({ role: 'system', content: expect.stringContaining('— Picks a colour.') });
		expect(chunks.filter((c) => c.type === 'text')).toEqual([]);
		expect(chunks.find((c) => c.type === 'tool-call')).toMatchObject({ call: { name: 'pick', arguments: '{"colour":"red"}' } });
		expect(chunks.at(-1)).toMatchObject({ type: 'done', finishReason: 'tool-calls' });
		// The model's choice: no grammar, and an answer that is not a call is text.
		const plain = newScript(['No call needed.']);
		const second = (await loaded(plain)).engine;
		const { text, done } = await collect(second.generate(ask('Hello', { tools: [pick] })));
		expect(plain.requests[0]!.response_format).toBeUndefined();
		expect(text).toBe('No call needed.');
		expect(done).toMatchObject({ finishReason: 'stop' });
	});

	it('says why a load failed: no WebGPU, a missing config, a model outside the relay', async () => {
		const noGpu = newScript();
		noGpu.reloadError = Object.assign(new Error('WebGPU is not supported'), { name: 'WebGPUNotAvailableError' });
		await expect(loaded(noGpu)).rejects.toMatchObject({ problem: 'failed', message: expect.stringMatching(/needs WebGPU, which this browser does not offer/) });
		const engine = new WebllmEngine({ relay, runtime: runtime(newScript()) });
		await expect(engine.load({ ...mlc, id: 'gone', url: '/models/gone/resolve/main/' })).rejects.toMatchObject({
			message: expect.stringMatching(/mlc-chat-config\.json is missing on the relay \(HTTP 404\)/)
		});
		await expect(engine.load({ ...mlc, url: 'https://huggingface.co/mlc-ai/m' })).rejects.toMatchObject({ message: expect.stringMatching(/points outside the relay/) });
		expect(await engine.models()).toEqual([]);
	});
});

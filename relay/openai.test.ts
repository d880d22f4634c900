/**
 * The relay's OpenAI-compatible API over the node-llama-cpp engine on the tiny generated
 * model, through the relay's real server routing, with plain `fetch` as the client.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineError, type Engine } from '../src/lib/ai/engine.ts';
import { llamaGgufPath, tinyLlama } from '../tests/fixtures/gguf.ts';
import { ApiKeyStore } from './ai/apiKeys.ts';
import { NodeLlamaEngine } from './ai/nodeLlamaEngine.ts';
import { ModelRegistry } from './ai/registry.ts';
import { createOpenAiHandler } from './openai.ts';
import { startRelay, type Relay } from './server.ts';

/** An engine whose model is always busy. */
const busyEngine: Engine = {
	kind: 'openai',
	models: async () => [{ id: 'always-busy', name: 'always-busy', engine: 'openai', contextLength: 64 }],
	// eslint-disable-next-line require-yield -- refuses before its first chunk
	async *generate() {
		throw new EngineError('busy', 'The model is busy: 3 requests ahead of you.');
	}
};

/** Counts the chunks an engine has produced, to see that a generation stopped early. */
function counting(inner: Engine): Engine & { produced: number } {
	const wrapped = {
		kind: inner.kind,
		produced: 0,
		models: () => inner.models(),
		async *generate(...args: Parameters<Engine['generate']>) {
			for await (const chunk of inner.generate(...args)) {
				wrapped.produced++;
				yield chunk;
			}
		}
	};
	return wrapped;
}

let tmp: string;
let relay: Relay;
let engine: NodeLlamaEngine;
/** A long-context model, for a generation long enough to be cut off mid-stream. */
let long: NodeLlamaEngine;
let longCounted: ReturnType<typeof counting>;
let key: string;
const model = tinyLlama.name;

beforeAll(async () => {
	tmp = await mkdtemp(join(tmpdir(), 'outpost-openai-'));
	engine = new NodeLlamaEngine({ modelPath: llamaGgufPath(), gpu: false, threads: 1 });
	const registry = new ModelRegistry();
	long = new NodeLlamaEngine({
		modelPath: llamaGgufPath({ name: 'tiny-long', contextLength: 4096 }),
		gpu: false,
		threads: 1,
		contextSize: 4096
	});
	longCounted = counting(long);
	registry.add(engine);
	registry.add(longCounted);
	registry.add(busyEngine);
	const keys = new ApiKeyStore(tmp);
	({ key } = await keys.create('tests'));
	relay = await startRelay({
		root: tmp,
		host: '127.0.0.1',
		port: 0,
		signalling: false,
		openai: createOpenAiHandler({ registry, keys, retryAfterSeconds: 3 })
	});
});

afterAll(async () => {
	await relay?.close();
	await engine?.dispose();
	await long?.dispose();
	await rm(tmp, { recursive: true, force: true });
});

const auth = () => ({ Authorization: `Bearer ${key}` });

function post(body: unknown, init: { headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<Response> {
	return fetch(`${relay.url}/v1/chat/completions`, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json', ...auth(), ...init.headers },
		body: typeof body === 'string' ? body : JSON.stringify(body),
		...(init.signal ? { signal: init.signal } : {})
	});
}

const ask = (extra: Record<string, unknown> = {}) => ({
	model,
	messages: [{ role: 'user', content: 'Tell me a story.' }],
	temperature: 0,
	max_tokens: 12,
	...extra
});

/** The `data` of each event of an SSE body. */
async function events(response: Response): Promise<string[]> {
	const text = await response.text();
	expect(text.endsWith('\n\n')).toBe(true);
	return text
		.split('\n\n')
		.filter((block) => block !== '')
		.map((block) => {
			expect(block.startsWith('data: ')).toBe(true);
			return block.slice('data: '.length);
		});
}

interface Chunk {
	object: string;
	model: string;
	choices: { delta: { role?: string; content?: string }; finish_reason: string | null }[];
	usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
}

describe('GET /v1/models', () => {
	it('lists the hosted models in the OpenAI format, with context length and where they run', async () => {
		const response = await fetch(`${relay.url}/v1/models`, { headers: auth() });
		expect(response.status).toBe(200);
		const body = (await response.json()) as { object: string; data: Record<string, unknown>[] };
		expect(body.object).toBe('list');
		expect(body.data.map((m) => m.id)).toEqual([model, 'tiny-long', 'always-busy']);
		expect(body.data[0]).toMatchObject({
			id: model,
			object: 'model',
			owned_by: 'relay',
			engine: 'node-llama-cpp',
			where: 'relay',
			context_length: 256
		});
		expect(typeof body.data[0]?.created).toBe('number');
	});

	it('retrieves one model, and 404s an unknown one', async () => {
		const one = await fetch(`${relay.url}/v1/models/${model}`, { headers: auth() });
		expect(one.status).toBe(200);
		expect(await one.json()).toMatchObject({ id: model, object: 'model' });
		const none = await fetch(`${relay.url}/v1/models/nope`, { headers: auth() });
		expect(none.status).toBe(404);
		expect(await none.json()).toMatchObject({ error: { code: 'model_not_found' } });
	});
});

describe('API keys', () => {
	it.each([
		['no Authorization header', {}],
		['a malformed key', { Authorization: 'Bearer nonsense' }],
		['a well-formed key that was never issued', { Authorization: `Bearer sk-outpost-000000000000-${'A'.repeat(43)}` }],
		['a key with one character changed', { Authorization: 'KEY' }],
		['Basic authentication', { Authorization: 'Basic dXNlcjpwYXNz' }]
	])('refuses %s with 401, before any body is used', async (_, headers: Record<string, string>) => {
		if (headers.Authorization === 'KEY') headers = { Authorization: `Bearer ${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}` };
		const models = await fetch(`${relay.url}/v1/models`, { headers });
		expect(models.status).toBe(401);
		expect(models.headers.get('www-authenticate')).toBe('Bearer');
		expect(await models.json()).toMatchObject({ error: { type: 'authentication_error', code: 'invalid_api_key' } });
		const chat = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify(ask()) });
		expect(chat.status).toBe(401);
	});
});

describe('POST /v1/chat/completions', () => {
	it('answers a chat.completion with usage', async () => {
		const response = await post(ask({ max_tokens: 5 }));
		expect(response.status).toBe(200);
		expect(response.headers.get('content-type')).toMatch(/^application\/json/);
		const body = (await response.json()) as Record<string, unknown> & {
			choices: { index: number; message: { role: string; content: string }; finish_reason: string }[];
			usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
		};
		expect(body).toMatchObject({ object: 'chat.completion', model });
		expect(String(body.id)).toMatch(/^chatcmpl-/);
		expect(body.choices).toHaveLength(1);
		expect(body.choices[0]).toMatchObject({ index: 0, message: { role: 'assistant' }, finish_reason: 'length' });
		expect(body.choices[0]!.message.content.length).toBeGreaterThan(0);
		expect(body.usage.completion_tokens).toBe(5);
		expect(body.usage.prompt_tokens).toBeGreaterThan(0);
		expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + 5);
	});

	it('streams chat.completion.chunk events that add up to the same answer, usage last, then [DONE]', async () => {
		const whole = (await (await post(ask())).json()) as { choices: { message: { content: string } }[] };
		const response = await post(ask({ stream: true, stream_options: { include_usage: true } }));
		expect(response.status).toBe(200);
		expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
		const data = await events(response);
		expect(data.at(-1)).toBe('[DONE]');
		const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Chunk);
		expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === model)).toBe(true);
		expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
		const usage = chunks.at(-1)!;
		expect(usage.choices).toEqual([]);
		expect(usage.usage).toMatchObject({ completion_tokens: 12 });
		const finish = chunks.at(-2)!;
		expect(finish.choices[0]?.finish_reason).toBe('length');
		const contents = chunks.map((c) => c.choices[0]?.delta.content ?? '').filter((t) => t !== '');
		expect(contents.length).toBeGreaterThan(1);
		expect(contents.join('')).toBe(whole.choices[0]!.message.content);
		expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
	});

	it('streams without usage unless asked', async () => {
		const data = await events(await post(ask({ stream: true })));
		const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Chunk);
		expect(chunks.every((c) => c.usage === undefined && c.choices.length === 1)).toBe(true);
		expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('length');
	});

	it('ends before a stop string (a string or an array), streaming or not', async () => {
		const text = ((await (await post(ask({ max_tokens: 24 }))).json()) as { choices: { message: { content: string } }[] })
			.choices[0]!.message.content;
		expect(text.length).toBeGreaterThanOrEqual(8);
		const stop = text.slice(6, 8);
		const expected = text.slice(0, text.indexOf(stop));
		const plain = (await (await post(ask({ max_tokens: 24, stop }))).json()) as {
			choices: { message: { content: string }; finish_reason: string }[];
		};
		expect(plain.choices[0]).toMatchObject({ message: { content: expected }, finish_reason: 'stop' });
		const data = await events(await post(ask({ max_tokens: 24, stop: ['\u0000never', stop], stream: true })));
		const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Chunk);
		expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(expected);
		expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
	});

	it('samples with the temperature and seed it is given: other seeds other text, the same seed the same, streaming or not', async () => {
		const sampled = async (seed: number, temperature = 1.2) => {
			const body = (await (await post(ask({ temperature, seed, max_tokens: 32 }))).json()) as { choices: { message: { content: string } }[] };
			return body.choices[0]!.message.content;
		};
		const texts = [await sampled(11), await sampled(22), await sampled(33)];
		expect(texts.every((t) => t.length > 0)).toBe(true);
		expect(new Set(texts).size).toBeGreaterThanOrEqual(2);
		expect(await sampled(22)).toBe(texts[1]);
		expect(await sampled(11, 0)).toBe(await sampled(33, 0)); // greedy: the temperature was used, not a default
		const data = await events(await post(ask({ temperature: 1.2, seed: 22, max_tokens: 32, stream: true })));
		const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Chunk);
		expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(texts[1]);
	});

	it('takes max_completion_tokens as max_tokens', async () => {
		const body = (await (await post(ask({ max_tokens: undefined, max_completion_tokens: 3 }))).json()) as {
			usage: { completion_tokens: number };
		};
		expect(body.usage.completion_tokens).toBe(3);
	});

	it.each([
		['garbage JSON', '{"model": "x", messages: [', 'invalid_json', null],
		['a JSON array', '[]', 'invalid_request', null],
		['no messages', { model }, 'invalid_request', 'messages'],
		['no model', { messages: [{ role: 'user', content: 'Hi' }] }, 'invalid_request', 'model'],
		['messages not an array', ask({ messages: 'Hi' }), 'invalid_request', 'messages'],
		['a message without content', ask({ messages: [{ role: 'user' }] }), 'invalid_request', 'messages[0].content'],
		['an unknown role', ask({ messages: [{ role: 'wizard', content: 'Hi' }] }), 'invalid_request', 'messages[0].role'],
		['an image part', ask({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }), 'invalid_request', 'messages[0].content'],
		['a string temperature', ask({ temperature: 'hot' }), 'invalid_request', 'temperature'],
		['temperature 3', ask({ temperature: 3 }), 'invalid_request', 'temperature'],
		['max_tokens 0', ask({ max_tokens: 0 }), 'invalid_request', 'max_tokens'],
		['fractional max_tokens', ask({ max_tokens: 2.5 }), 'invalid_request', 'max_tokens'],
		['a numeric stop', ask({ stop: 7 }), 'invalid_request', 'stop'],
		['a string stream', ask({ stream: 'yes' }), 'invalid_request', 'stream'],
		['a fractional seed', ask({ seed: 1.5 }), 'invalid_request', 'seed'],
		['n = 2', ask({ n: 2 }), 'invalid_request', 'n'],
		['empty messages', ask({ messages: [] }), 'empty_input', 'messages']
	])('refuses %s with 400', async (_, body, code, param) => {
		const response = await post(body);
		expect(response.status).toBe(400);
		expect(await response.json()).toEqual({
			error: { message: expect.any(String), type: 'invalid_request_error', code, param }
		});
	});

	it('accepts null for optional fields, text parts and a developer message', async () => {
		const response = await post(
			ask({
				temperature: null,
				stop: null,
				seed: null,
				stream: null,
				messages: [
					{ role: 'developer', content: 'Be brief.' },
					{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }
				]
			})
		);
		expect(response.status).toBe(200);
	});

	it('refuses a body over 1 MiB with 413', async () => {
		const response = await post(ask({ messages: [{ role: 'user', content: 'x'.repeat(1024 * 1024) }] }));
		expect(response.status).toBe(413);
		expect(await response.json()).toMatchObject({ error: { code: 'request_too_large' } });
	});

	it('answers a 10 MB body with 413 too, sent in chunks with no length, not a reset connection (a client would send it again)', async () => {
		for (let i = 0; i < 2; i++) {
			const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
			let sent = 0;
			const body = new ReadableStream<Uint8Array>({
				pull(controller) {
					if (sent >= 10 * 1024 * 1024) return controller.close();
					sent += chunk.length;
					controller.enqueue(chunk);
				}
			});
			const response = await fetch(`${relay.url}/v1/chat/completions`, {
				method: 'POST',
				headers: { 'Content-Type': 'application/json', ...auth() },
				body,
				duplex: 'half'
			} as RequestInit);
			expect(response.status).toBe(413);
			expect(await response.json()).toMatchObject({ error: { code: 'request_too_large' } });
		}
	});

	it('refuses a conversation longer than the context with 400 context_length_exceeded', async () => {
		const words = Array.from({ length: 600 }, (_, i) => `w${i}`).join(' ');
		const response = await post(ask({ messages: [{ role: 'user', content: words }], stream: true }));
		expect(response.status).toBe(400);
		expect(await response.json()).toMatchObject({ error: { code: 'context_length_exceeded' } });
	});

	it('answers 404 for an unknown model, streaming or not', async () => {
		for (const stream of [false, true]) {
			const response = await post(ask({ model: 'no-such-model', stream }));
			expect(response.status).toBe(404);
			expect(await response.json()).toMatchObject({ error: { code: 'model_not_found', param: 'model' } });
		}
	});

	it('answers 429 with Retry-After when the model is busy', async () => {
		const response = await post(ask({ model: 'always-busy', stream: true }));
		expect(response.status).toBe(429);
		expect(response.headers.get('retry-after')).toBe('3');
		expect(await response.json()).toMatchObject({ error: { type: 'rate_limit_error', code: 'rate_limit_exceeded' } });
	});

	it('refuses other methods with 405 and unknown paths with 404', async () => {
		const get = await fetch(`${relay.url}/v1/chat/completions`, { headers: auth() });
		expect(get.status).toBe(405);
		expect(get.headers.get('allow')).toBe('POST');
		const other = await fetch(`${relay.url}/v1/embeddings`, { method: 'POST', headers: auth(), body: '{}' });
		expect(other.status).toBe(404);
	});

	it('stops generating when the client disconnects mid-stream, freeing the model', async () => {
		const controller = new AbortController();
		const request = ask({ model: 'tiny-long', stream: true, max_tokens: 3000 });
		const response = await post(request, { signal: controller.signal });
		expect(response.status).toBe(200);
		const reader = response.body!.getReader();
		let received = '';
		while ((received.match(/\n\n/g) ?? []).length < 3) {
			const { value } = await reader.read();
			received += new TextDecoder().decode(value);
		}
		expect(long.queueDepth).toBe(1);
		controller.abort();
		await expect(reader.read()).rejects.toMatchObject({ name: 'AbortError' });
		await expect.poll(() => long.queueDepth, { timeout: 2000 }).toBe(0);
		expect(longCounted.produced).toBeLessThan(1000);
		const next = await post({ ...request, stream: false, max_tokens: 4 });
		expect(next.status).toBe(200);
		expect(((await next.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens).toBe(4);
	});
});

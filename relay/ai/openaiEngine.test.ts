/**
 * The OpenAI-compatible engine: the shared engine suite against a real OpenAI-compatible
 * server — this relay's own `/v1` API over node-llama-cpp on the tiny model, so the chain is
 * OpenAIEngine → HTTP → openai.ts → NodeLlamaEngine — then its handling of what other
 * servers may send (no usage, malformed or oversized streams, HTTP errors), from a scripted
 * server.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, describeEngine } from '../../tests/ai/engineSuite.ts';
import { llamaGgufPath } from '../../tests/fixtures/gguf.ts';
import { createOpenAiHandler } from '../openai.ts';
import { startRelay } from '../server.ts';
import { ApiKeyStore } from './apiKeys.ts';
import { NodeLlamaEngine } from './nodeLlamaEngine.ts';
import { OpenAIEngine } from './openaiEngine.ts';
import { ModelRegistry } from './registry.ts';

describeEngine('openai-upstream', async () => {
	const tmp = await mkdtemp(join(tmpdir(), 'outpost-upstream-'));
	const local = new NodeLlamaEngine({ modelPath: llamaGgufPath(), gpu: false, threads: 1 });
	const registry = new ModelRegistry();
	registry.add(local);
	const keys = new ApiKeyStore(tmp);
	const { key } = await keys.create('upstream test');
	const upstream = await startRelay({
		root: tmp,
		host: '127.0.0.1',
		port: 0,
		signalling: false,
		openai: createOpenAiHandler({ registry, keys })
	});
	const engine = new OpenAIEngine({ baseUrl: `${upstream.url}/v1`, apiKey: key });
	return {
		engine,
		model: local.modelId,
		close: async () => {
			await upstream.close();
			await local.dispose();
			await rm(tmp, { recursive: true, force: true });
		}
	};
});

type Script = (req: IncomingMessage, res: ServerResponse, body: string) => void;

describe('OpenAIEngine against other servers', () => {
	let server: Server;
	let script: Script;
	let base: string;
	const ask = { model: 'm', messages: [{ role: 'user' as const, content: 'Hello there' }], maxTokens: 8 };
	const engine = (init: Partial<ConstructorParameters<typeof OpenAIEngine>[0]> = {}) =>
		new OpenAIEngine({ baseUrl: `${base}/`, ...init });
	const sse = (...events: string[]): Script => (_req, res) => {
		res.writeHead(200, { 'Content-Type': 'text/event-stream' });
		res.end(events.join(''));
	};
	const chunk = (content: string | null, finish: string | null = null) =>
		`data: ${JSON.stringify({ choices: [{ index: 0, delta: content === null ? {} : { content }, finish_reason: finish }] })}\n\n`;

	beforeAll(async () => {
		server = createServer((req, res) => {
			let body = '';
			req.on('data', (c: Buffer) => (body += c.toString()));
			req.on('end', () => script(req, res, body));
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
	});
	afterAll(async () => {
		server.closeAllConnections();
		await new Promise((resolve) => server.close(resolve));
	});

	it('lists models, reading the context length where the server states it', async () => {
		let path = '';
		script = (req, res) => {
			path = `${req.method} ${req.url} ${req.headers.authorization}`;
			res.end(
				JSON.stringify({
					object: 'list',
					data: [
						{ id: 'vllm', max_model_len: 8192 },
						{ id: 'llamacpp', meta: { n_ctx_train: 2048 } },
						{ id: 'ollama' },
						{ no: 'id' },
						'junk'
					]
				})
			);
		};
		expect(await engine({ apiKey: 'k', defaultContextLength: 1000 }).models()).toEqual([
			{ id: 'vllm', name: 'vllm', engine: 'openai', contextLength: 8192 },
			{ id: 'llamacpp', name: 'llamacpp', engine: 'openai', contextLength: 2048 },
			{ id: 'ollama', name: 'ollama', engine: 'openai', contextLength: 1000 }
		]);
		expect(path).toBe('GET /v1/models Bearer k');
		script = (_req, res) => res.end('{"data": 5}');
		await expect(engine().models()).rejects.toMatchObject({ name: 'EngineError', problem: 'failed' });
	});

	it('sends the request as OpenAI fields with stream and include_usage', async () => {
		let sent: unknown;
		script = (req, res, body) => {
			sent = JSON.parse(body);
			sse(chunk('a', 'stop'), 'data: [DONE]\n\n')(req, res, body);
		};
		await collect(engine().generate({ ...ask, temperature: 0.5, stop: ['x'], seed: 7 }));
		expect(sent).toEqual({
			model: 'm',
			messages: ask.messages,
			stream: true,
			stream_options: { include_usage: true },
			max_tokens: 8,
			temperature: 0.5,
			stop: ['x'],
			seed: 7
		});
	});

	it('counts chunks when the server sends no usage, and parses CRLF, comments and multi-line events', async () => {
		script = sse(': keep-alive\r\n\r\n', 'event: message\r\n', chunk('Hel').replace(/\n/g, '\r\n'), chunk('lo'), chunk(null, 'length'), 'data: [DONE]\n\n');
		const result = await collect(engine().generate(ask));
		expect(result.texts).toEqual(['Hel', 'lo']);
		expect(result.done).toEqual([{ type: 'done', finishReason: 'length', promptTokens: 3, completionTokens: 2 }]);
	});

	it('takes the counts of a usage chunk, and accepts a stream that ends without [DONE]', async () => {
		script = sse(chunk('Hi', 'stop'), `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 11, completion_tokens: 4 } })}\n\n`);
		expect((await collect(engine().generate(ask))).done[0]).toMatchObject({ promptTokens: 11, completionTokens: 4, finishReason: 'stop' });
	});

	it.each([
		['a malformed event', sse(chunk('a'), 'data: {not json\n\n'), /malformed event/],
		['an event that is not an object', sse('data: [1, 2]\n\n'), /unexpected event/],
		['a line over the limit', sse(`data: ${'x'.repeat(5000)}`), /line over 4096/],
		['a stream over the limit', sse(...Array.from({ length: 200 }, () => chunk('0123456789'))), /over 8192 bytes/],
		['a stream cut off before it finished', sse(chunk('a')), /without finishing/],
		['an error event', sse(chunk('a'), 'data: {"error": {"message": "GPU fell over"}}\n\n'), /GPU fell over/],
		['HTTP 500', (_req: IncomingMessage, res: ServerResponse) => res.writeHead(500).end('{"error": {"message": "oops"}}'), /HTTP 500: oops/],
		['HTTP 401', (_req: IncomingMessage, res: ServerResponse) => res.writeHead(401).end(), /API key/],
		['a closed connection', (_req: IncomingMessage, res: ServerResponse) => res.destroy(), /Could not reach/]
	])('fails with EngineError "failed" on %s', async (_, handler, message) => {
		script = handler;
		await expect(collect(engine({ maxLineLength: 4096, maxStreamBytes: 8192 }).generate(ask))).rejects.toMatchObject({
			name: 'EngineError',
			problem: 'failed',
			message: expect.stringMatching(message)
		});
	});

	it.each([
		[404, '{"error": {"message": "model m not found"}}', 'unknown-model'],
		[429, '{"error": {"message": "slow down"}}', 'busy'],
		[503, 'Service Unavailable', 'busy'],
		[400, '{"error": {"message": "too long", "code": "context_length_exceeded"}}', 'input-too-long'],
		[400, '{"error": {"message": "This model\'s maximum context length is 4096 tokens"}}', 'input-too-long'],
		[400, '{"error": {"message": "bad temperature"}}', 'failed']
	])('maps HTTP %i %s to "%s"', async (status, body, problem) => {
		script = (_req, res) => res.writeHead(status, { 'Retry-After': '2' }).end(body);
		await expect(collect(engine().generate(ask))).rejects.toMatchObject({ name: 'EngineError', problem });
	});

	it('aborts the request with the signal, mid-stream', async () => {
		let closed = false;
		script = (req, res) => {
			res.writeHead(200, { 'Content-Type': 'text/event-stream' });
			res.write(chunk('first'));
			res.on('close', () => (closed = true)); // never finishes on its own
		};
		const controller = new AbortController();
		const seen: string[] = [];
		const run = (async () => {
			for await (const c of engine().generate(ask, controller.signal)) {
				if (c.type === 'text') seen.push(c.text);
				controller.abort();
			}
		})();
		await expect(run).rejects.toMatchObject({ name: 'AbortError' });
		expect(seen).toEqual(['first']);
		await expect.poll(() => closed).toBe(true);
	});

	it('fails clearly when nothing listens', async () => {
		const nowhere = new OpenAIEngine({ baseUrl: 'http://127.0.0.1:1/v1' });
		await expect(nowhere.models()).rejects.toMatchObject({ name: 'EngineError', problem: 'failed' });
		await expect(collect(nowhere.generate(ask))).rejects.toMatchObject({ name: 'EngineError', problem: 'failed' });
	});
});

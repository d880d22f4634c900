/**
 * `/v1/chat/completions` with `tools` through the unmodified `openai` SDK (issue 15): the
 * mesh's model calls a client's function (streamed as deltas and not), the client runs it
 * and sends the result back as a `tool` message, and the model answers. The model is the
 * tiny generated one, so the call is forced with `tool_choice`; the relay constrains its
 * sampling to the function's schema. Malformed tools and tool messages get 400s.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schemaError } from '../src/lib/ai/tools/toolArgs.ts';
import type { JsonSchema } from '../src/lib/ai/tools/types.ts';
import { llamaGgufPath, tinyLlama } from '../tests/fixtures/gguf.ts';
import { ApiKeyStore } from './ai/apiKeys.ts';
import { NodeLlamaEngine } from './ai/nodeLlamaEngine.ts';
import { ModelRegistry } from './ai/registry.ts';
import { createOpenAiHandler } from './openai.ts';
import { startRelay, type Relay } from './server.ts';

let tmp: string;
let relay: Relay;
let engine: NodeLlamaEngine;
let client: OpenAI;
const model = tinyLlama.name;

const weather: ChatCompletionTool = {
	type: 'function',
	function: {
		name: 'weather',
		description: 'Weather in a port.',
		parameters: { type: 'object', properties: { port: { type: 'string', enum: ['Oslo', 'Tromsø'] } }, required: ['port'] }
	}
};
const params = (weather as { function: { parameters: JsonSchema } }).function.parameters;

beforeAll(async () => {
	tmp = await mkdtemp(join(tmpdir(), 'outpost-v1-tools-'));
	engine = new NodeLlamaEngine({ modelPath: llamaGgufPath(), gpu: false, threads: 1 });
	const registry = new ModelRegistry();
	registry.add(engine);
	const keys = new ApiKeyStore(tmp);
	const { key } = await keys.create('tools');
	relay = await startRelay({ root: tmp, host: '127.0.0.1', port: 0, signalling: false, openai: createOpenAiHandler({ registry, keys }) });
	client = new OpenAI({ baseURL: `${relay.url}/v1`, apiKey: key, maxRetries: 0 });
});

afterAll(async () => {
	await relay?.close();
	await engine?.dispose();
	await rm(tmp, { recursive: true, force: true });
});

const question: ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather?' }];

describe('/v1 tools through the openai SDK', () => {
	it('returns tool_calls with arguments that match the schema, and finish_reason tool_calls', async () => {
		const completion = await client.chat.completions.create({ model, messages: question, tools: [weather], tool_choice: 'required', temperature: 0, max_tokens: 60 });
		const choice = completion.choices[0]!;
		expect(choice.finish_reason).toBe('tool_calls');
		const calls = choice.message.tool_calls ?? [];
		expect(calls).toHaveLength(1);
		const call = calls[0]!;
		expect(call.type).toBe('function');
		if (call.type !== 'function') return;
		expect(call.function.name).toBe('weather');
		expect(call.id).toMatch(/^call_/);
		expect(schemaError(JSON.parse(call.function.arguments), params, 'arguments')).toBeUndefined();
		expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
	});

	it('streams the call as deltas that add up to the same call', async () => {
		const request = { model, messages: question, tools: [weather], tool_choice: { type: 'function' as const, function: { name: 'weather' } }, temperature: 0, max_tokens: 60 };
		const whole = await client.chat.completions.create(request);
		const stream = await client.chat.completions.create({ ...request, stream: true });
		let name = '';
		let args = '';
		let id = '';
		let finish: string | null = null;
		for await (const chunk of stream) {
			const choice = chunk.choices[0];
			for (const delta of choice?.delta.tool_calls ?? []) {
				expect(delta.index).toBe(0);
				id ||= delta.id ?? '';
				name += delta.function?.name ?? '';
				args += delta.function?.arguments ?? '';
			}
			finish = choice?.finish_reason ?? finish;
		}
		expect(finish).toBe('tool_calls');
		expect(id).toMatch(/^call_/);
		expect(name).toBe('weather');
		const first = whole.choices[0]!.message.tool_calls![0]!;
		expect(first.type === 'function' && first.function.arguments).toBe(args); // temperature 0: the same call
	});

	it('takes the tool result back and answers in text: a whole client tool loop', async () => {
		const first = await client.chat.completions.create({ model, messages: question, tools: [weather], tool_choice: 'required', temperature: 0, max_tokens: 60 });
		const message = first.choices[0]!.message;
		const call = message.tool_calls![0]!;
		const second = await client.chat.completions.create({
			model,
			messages: [...question, message, { role: 'tool', tool_call_id: call.id, content: 'Fog.' }],
			tools: [weather],
			tool_choice: 'none',
			temperature: 0,
			max_tokens: 8
		});
		expect(second.choices[0]!.finish_reason).not.toBe('tool_calls');
		expect(second.choices[0]!.message.tool_calls ?? []).toEqual([]);
		expect(second.choices[0]!.message.content?.length).toBeGreaterThan(0);
		// The result reached the model: the same request without it has a shorter prompt.
		const without = await client.chat.completions.create({ model, messages: [...question, message], tool_choice: 'none', tools: [weather], temperature: 0, max_tokens: 8 });
		expect(second.usage!.prompt_tokens - without.usage!.prompt_tokens).toBeGreaterThanOrEqual('Result of weather:\nFog.'.length);
	});

	it('answers malformed tools and tool messages with a 400 naming the field', async () => {
		const bad = async (body: Record<string, unknown>, param: string) => {
			const error = await client.chat.completions.create({ model, messages: question, max_tokens: 4, ...body } as never).catch((e: unknown) => e);
			expect(error).toBeInstanceOf(OpenAI.BadRequestError);
			expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe(param);
		};
		await bad({ tools: [{ type: 'function', function: { name: 'has space' } }] }, 'tools');
		await bad({ tools: 'weather' }, 'tools');
		await bad({ tools: [weather], tool_choice: { type: 'function', function: { name: 'other' } } }, 'tool_choice');
		await bad({ tool_choice: 'required' }, 'tool_choice');
		await bad({ messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].tool_call_id');
		await bad({ messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'w', arguments: 7 } }] }] }, 'messages[0].tool_calls');
	});
});

/**
 * The shared engine suite's tool-calling cases (issue 15), run against every engine like the
 * rest of tests/ai/engineSuite.ts. The generated tiny model has random weights, so a call is
 * forced (`tool_choice` required or named): the engine must then constrain sampling so that
 * what comes out is a call of an offered tool with arguments that match its schema. The tool
 * loop (tools/toolLoop.ts) drives the same engine: the tool runs, its result reaches the
 * model's next request, and the step limit ends a model that keeps calling.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, GenerateOptions, GenerateRequest } from '../../src/lib/ai/engine.js';
import { schemaError } from '../../src/lib/ai/tools/toolArgs.js';
import { runToolLoop, type RunnableTool, type ToolLoopEvent } from '../../src/lib/ai/tools/toolLoop.js';
import type { ToolSpec } from '../../src/lib/ai/tools/types.js';
import { collect, type EngineUnderTest } from './engineSuite.js';

/** Short tools: the tiny model's context is 256 tokens. */
const pick: ToolSpec = {
	name: 'pick',
	description: 'Picks a colour.',
	parameters: { type: 'object', properties: { colour: { type: 'string', enum: ['red', 'blue'] } }, required: ['colour'] }
};
const note: ToolSpec = {
	name: 'note',
	description: 'Notes.',
	parameters: { type: 'object', properties: { n: { type: 'integer', minimum: 0, maximum: 9 }, t: { type: 'string', maxLength: 4 } }, required: ['n', 't'] }
};

/** An engine that records the requests it passes on to a real engine. */
function recording(engine: Engine): { engine: Engine; requests: GenerateRequest[] } {
	const requests: GenerateRequest[] = [];
	return {
		requests,
		engine: {
			kind: engine.kind,
			models: () => engine.models(),
			generate: (request: GenerateRequest, signal?: AbortSignal, options?: GenerateOptions) => {
				requests.push(structuredClone(request));
				return engine.generate(request, signal, options);
			}
		}
	};
}

/** Runs the tool-calling cases against the engines `makeEngine` creates. */
export function describeToolCalling(name: string, makeEngine: () => Promise<EngineUnderTest>): void {
	describe(`Engine tools: ${name}`, () => {
		let under: EngineUnderTest;
		const ask = (content: string, options: Partial<GenerateRequest> = {}): GenerateRequest => ({
			model: under.model,
			messages: [{ role: 'user', content }],
			maxTokens: 80,
			temperature: 0,
			...options
		});

		beforeAll(async () => {
			under = await makeEngine();
		});
		afterAll(async () => {
			await under?.close();
		});

		it('calls a tool with arguments that match its schema when a call is required', async () => {
			const result = await collect(under.engine.generate(ask('Pick.', { tools: [pick, note], toolChoice: 'required' })));
			expect(result.calls).toHaveLength(1);
			const [call] = result.calls;
			const tool = [pick, note].find((t) => t.name === call!.name);
			expect(tool).toBeDefined();
			expect(schemaError(JSON.parse(call!.arguments), tool!.parameters, 'arguments')).toBeUndefined();
			expect(call!.id.length).toBeGreaterThan(0);
			expect(result.done).toHaveLength(1);
			expect(result.done[0]?.finishReason).toBe('tool-calls');
			expect(result.order.at(-1)).toBe('done');
		});

		it('calls the tool a named choice names', async () => {
			const result = await collect(under.engine.generate(ask('Note.', { tools: [pick, note], toolChoice: { name: 'note' } })));
			expect(result.calls.map((c) => c.name)).toEqual(['note']);
			const args = JSON.parse(result.calls[0]!.arguments) as { n: unknown; t: unknown };
			expect(Number.isInteger(args.n)).toBe(true);
			expect(typeof args.t === 'string' && args.t.length <= 4).toBe(true);
		});

		it('calls nothing when the choice is none', async () => {
			const result = await collect(under.engine.generate(ask('Hi.', { tools: [pick], toolChoice: 'none', maxTokens: 8 })));
			expect(result.calls).toHaveLength(0);
			expect(result.text.length).toBeGreaterThan(0);
			expect(result.done[0]?.finishReason).not.toBe('tool-calls');
		});

		it('runs in the tool loop: the tool gets the arguments, the model gets the result, and the step limit ends it', async () => {
			const ran: Record<string, unknown>[] = [];
			const tool: RunnableTool = {
				spec: pick,
				mutates: false,
				run: async (args) => {
					ran.push(args);
					return { content: `got ${String(args['colour'])}` };
				}
			};
			const { engine, requests } = recording(under.engine);
			const events: ToolLoopEvent[] = [];
			// `required` forces the first step to call; the second (the last) offers no tools, so the model answers.
			for await (const event of runToolLoop({ engine, request: ask('Pick.', { toolChoice: 'required', maxTokens: 60 }), tools: [tool], maxSteps: 2 }))
				events.push(event);
			expect(ran).toHaveLength(1);
			expect(['red', 'blue']).toContain(ran[0]!['colour']);
			const result = events.find((e) => e.type === 'tool-result');
			expect(result).toMatchObject({ type: 'tool-result', result: { content: `got ${String(ran[0]!['colour'])}` } });
			expect(requests).toHaveLength(2);
			expect(requests[0]!.tools?.map((t) => t.name)).toEqual(['pick']);
			// The last step offers no tools, and carries the call and its result.
			expect(requests[1]!.tools).toBeUndefined();
			expect(requests[1]!.messages.at(-2)).toMatchObject({ role: 'assistant', toolCalls: [{ name: 'pick' }] });
			expect(requests[1]!.messages.at(-1)).toEqual({
				role: 'tool',
				content: `got ${String(ran[0]!['colour'])}`,
				toolCallId: requests[1]!.messages.at(-2)!.toolCalls![0]!.id
			});
			const done = events.filter((e) => e.type === 'done');
			expect(done).toHaveLength(1);
			expect(done[0]).toMatchObject({ finishReason: expect.stringMatching(/^(stop|length)$/) });
			expect(events.some((e) => e.type === 'text')).toBe(true);
		});
	});
}

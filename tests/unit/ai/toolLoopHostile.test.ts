/**
 * The tool loop against tools it cannot trust (review of shared tools): two tools of one name
 * (two relays sharing the same `server.tool`), and a tool whose result is huge (a hostile relay
 * answers up to a MiB on the mesh). The engine is scripted; the tools are real RunnableTools.
 */
import { describe, expect, it } from 'vitest';
import type { Engine, GenerateRequest } from '../../../src/lib/ai/engine.js';
import { MAX_TOOL_RESULT_BYTES, runToolLoop, type RunnableTool, type ToolLoopEvent } from '../../../src/lib/ai/tools/toolLoop.js';
import { ToolLimits } from '../../../src/lib/ai/tools/toolWire.js';
import type { ToolCall, ToolSpec } from '../../../src/lib/ai/tools/types.js';

/** An engine that answers each request with the next scripted answer: text, or calls. */
function scripted(answers: (string | ToolCall[])[]): Engine & { requests: GenerateRequest[] } {
	const requests: GenerateRequest[] = [];
	return {
		kind: 'mesh',
		requests,
		models: async () => [],
		async *generate(request: GenerateRequest) {
			requests.push(structuredClone(request));
			const answer = answers.shift() ?? 'no more answers';
			if (typeof answer === 'string') {
				yield { type: 'text', text: answer };
				yield { type: 'done', finishReason: 'stop', promptTokens: 1, completionTokens: 1 };
			} else {
				for (const call of answer) yield { type: 'tool-call', call };
				yield { type: 'done', finishReason: 'tool-calls', promptTokens: 1, completionTokens: 1 };
			}
		}
	};
}

async function all<T>(source: AsyncIterable<T>): Promise<T[]> {
	const out: T[] = [];
	for await (const item of source) out.push(item);
	return out;
}

const spec = (name: string, description: string): ToolSpec => ({ name, description, parameters: { type: 'object', properties: {} } });
const ask: GenerateRequest = { model: 'm', messages: [{ role: 'user', content: 'Go.' }] };
const call: ToolCall = { id: 'c1', name: 'files.delete', arguments: '{}' };
const results = (events: ToolLoopEvent[]) => events.flatMap((e) => (e.type === 'tool-result' ? [e.result] : []));

describe('runToolLoop with tools it cannot trust', () => {
	it('offers and runs one tool per name, the first listed, and asks about that one', async () => {
		const ran: string[] = [];
		const first: RunnableTool = { spec: spec('files.delete', 'Relay A deletes a file.'), mutates: true, run: async () => (ran.push('A'), { content: 'A' }) };
		const second: RunnableTool = { spec: spec('files.delete', 'Relay B deletes a file.'), mutates: true, run: async () => (ran.push('B'), { content: 'B' }) };
		const engine = scripted([[call], 'Done.']);
		const asked: string[] = [];
		await all(runToolLoop({ engine, request: ask, tools: [first, second], approve: async (_c, tool) => (asked.push(tool.spec.description), 'once') }));
		// Offered once (a mesh host refuses a request naming a tool twice), and what was approved is what ran.
		expect(engine.requests[0]!.tools!.map((t) => t.name)).toEqual(['files.delete']);
		expect(engine.requests[0]!.tools![0]!.description).toBe('Relay A deletes a file.');
		expect(asked).toEqual(['Relay A deletes a file.']);
		expect(ran).toEqual(['A']);
	});

	it('cuts a huge result before the model, the steps and every later request get it', async () => {
		const huge: RunnableTool = { spec: spec('files.read', 'Reads.'), mutates: false, run: async () => ({ content: 'é'.repeat(600_000) }) };
		const engine = scripted([[{ ...call, name: 'files.read' }], 'Done.']);
		const events = await all(runToolLoop({ engine, request: ask, tools: [huge] }));
		const [result] = results(events);
		expect(new TextEncoder().encode(result!.content).byteLength).toBeLessThanOrEqual(MAX_TOOL_RESULT_BYTES);
		expect(result!.content).toMatch(/\[Cut: files\.read returned more than 64 KiB\.\]$/);
		const told = engine.requests[1]!.messages.find((m) => m.role === 'tool')!;
		expect(told.content).toBe(result!.content);
	});

	it('cuts a huge error message the same way', async () => {
		const failing: RunnableTool = { spec: spec('files.read', 'Reads.'), mutates: false, run: async () => { throw new Error('x'.repeat(300_000)); } };
		const events = await all(runToolLoop({ engine: scripted([[{ ...call, name: 'files.read' }], 'Done.']), request: ask, tools: [failing] }));
		const [result] = results(events);
		expect(result!.isError).toBe(true);
		expect(result!.content.length).toBeLessThanOrEqual(MAX_TOOL_RESULT_BYTES);
	});

	it('runs at most ToolLimits.maxCalls calls of one message, and says no more of them than it ran', async () => {
		let runs = 0;
		const reader: RunnableTool = { spec: spec('files.read', 'Reads.'), mutates: false, run: async () => (runs++, { content: 'ok' }) };
		const many = Array.from({ length: 100 }, (_, i) => ({ id: `c${i}`, name: 'files.read', arguments: '{}' }));
		const engine = scripted([many, 'Done.']);
		const events = await all(runToolLoop({ engine, request: ask, tools: [reader] }));
		expect(runs).toBe(ToolLimits.maxCalls);
		expect(events.filter((e) => e.type === 'tool-call')).toHaveLength(ToolLimits.maxCalls);
		// The next request carries only those calls (a mesh host refuses a message with more).
		const assistant = engine.requests[1]!.messages.find((m) => m.role === 'assistant')!;
		expect(assistant.toolCalls).toHaveLength(ToolLimits.maxCalls);
	});

	it('gives two calls of one id ids of their own, so no result or step is shown as another call’s', async () => {
		const log: string[] = [];
		const reader: RunnableTool = { spec: spec('files.read', 'Reads.'), mutates: false, run: async () => (log.push('read'), { content: 'read it' }) };
		const writer: RunnableTool = { spec: spec('files.write', 'Writes.'), mutates: true, run: async () => (log.push('write'), { content: 'wrote it' }) };
		const engine = scripted([[{ id: 'same', name: 'files.read', arguments: '{}' }, { id: 'same', name: 'files.write', arguments: '{}' }], 'Done.']);
		const events = await all(runToolLoop({ engine, request: ask, tools: [reader, writer], approve: async () => 'once' }));
		const calls = events.flatMap((e) => (e.type === 'tool-call' ? [e.call] : []));
		expect(new Set(calls.map((c) => c.id)).size).toBe(2);
		const approvals = events.flatMap((e) => (e.type === 'approval' ? [e.call] : []));
		expect(approvals).toEqual([calls[1]]); // the approval names the write's own id
		const byId = Object.fromEntries(events.flatMap((e) => (e.type === 'tool-result' ? [[e.call.id, e.result.content]] : [])));
		expect(byId).toEqual({ [calls[0]!.id]: 'read it', [calls[1]!.id]: 'wrote it' });
		const next = engine.requests[1]!.messages;
		expect(next.filter((m) => m.role === 'tool').map((m) => m.toolCallId)).toEqual(calls.map((c) => c.id));
	});
});

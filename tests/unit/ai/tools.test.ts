/**
 * The engine-independent parts of tool calling: the call grammar, the plain conversation a
 * local engine sees, reading a call out of a model's text, the argument check, and the tool
 * loop's rules (approval, denial, "always", unknown tools, bad arguments, time limits). The
 * loop's engine here is scripted (a list of answers), because these cases are about what the
 * loop does with an answer; tests/ai/engineToolSuite.ts drives it with every real engine.
 */
import { describe, expect, it } from 'vitest';
import type { Engine, GenerateChunk, GenerateRequest } from '../../../src/lib/ai/engine.js';
import { parseArguments } from '../../../src/lib/ai/tools/toolArgs.js';
import { toolCallGrammar } from '../../../src/lib/ai/tools/toolGrammar.js';
import { runToolLoop, type Approval, type RunnableTool, type ToolLoopEvent } from '../../../src/lib/ai/tools/toolLoop.js';
import { parseToolCall, toolChunks, toolConversation, toolPlan } from '../../../src/lib/ai/tools/toolPrompt.js';
import type { ToolCall, ToolSpec } from '../../../src/lib/ai/tools/types.js';

const search: ToolSpec = {
	name: 'search',
	description: 'Searches the workspace.',
	parameters: { type: 'object', properties: { query: { type: 'string', maxLength: 20 }, limit: { type: 'integer' } }, required: ['query'] }
};
const post: ToolSpec = {
	name: 'post',
	description: 'Posts a message.',
	parameters: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] }
};

describe('toolCallGrammar', () => {
	it('spells out each tool and bounds strings', () => {
		const grammar = toolCallGrammar([search, post]);
		expect(grammar).toContain('root ::= "{\\"tool\\":" (call0 | call1) "}"');
		expect(grammar).toContain('"\\"search\\""');
		expect(grammar).toContain('char{0,20}');
		expect(grammar).toMatch(/char ::= /);
	});

	it('writes enums as literals and arrays with bounded items', () => {
		const grammar = toolCallGrammar([
			{
				name: 'tag',
				description: '',
				parameters: { type: 'object', properties: { colour: { enum: ['red', 'blue'] }, tags: { type: 'array', items: { type: 'string' }, maxItems: 3 } } }
			}
		]);
		expect(grammar).toContain('"\\"red\\"" | "\\"blue\\""');
		expect(grammar).toMatch(/\{0,2\}/);
	});

	it('refuses no tools', () => {
		expect(() => toolCallGrammar([])).toThrow(RangeError);
	});
});

describe('toolPlan and toolConversation', () => {
	const request = (extra: Partial<GenerateRequest>): GenerateRequest => ({ model: 'm', messages: [{ role: 'user', content: 'Find the log.' }], ...extra });

	it('puts the tools into the system prompt and forces a call only when one is required', () => {
		const auto = toolPlan(request({ tools: [search] }));
		expect(auto.grammar).toBeUndefined();
		expect(auto.messages[0]).toMatchObject({ role: 'system' });
		expect(auto.messages[0]!.content).toContain('search(query: string, limit?: integer) — Searches the workspace.');
		expect(toolPlan(request({ tools: [search], toolChoice: 'required' })).grammar).toContain('search');
		const named = toolPlan(request({ tools: [search, post], toolChoice: { name: 'post' } }));
		expect(named.tools.map((t) => t.name)).toEqual(['post']);
		expect(named.grammar).not.toContain('search');
		expect(() => toolPlan(request({ tools: [search], toolChoice: { name: 'post' } }))).toThrow(/not among the tools/);
	});

	it('offers nothing when the choice is none, and leaves a request without tools alone', () => {
		expect(toolPlan(request({ tools: [search], toolChoice: 'none' }))).toEqual({ messages: [{ role: 'user', content: 'Find the log.' }], tools: [] });
		expect(toolPlan(request({})).messages).toEqual([{ role: 'user', content: 'Find the log.' }]);
	});

	it('writes calls as the JSON the model would write, and results as user messages naming the tool', () => {
		const messages = toolConversation(
			[
				{ role: 'system', content: 'Be brief.' },
				{ role: 'user', content: 'Find it.' },
				{ role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'search', arguments: '{"query":"log"}' }] },
				{ role: 'tool', content: 'found 2', toolCallId: 'c1' }
			],
			[search]
		);
		expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
		expect(messages[0]!.content).toMatch(/^Be brief\.\n\nTo use a tool/);
		expect(messages[2]!.content).toBe('{"tool":"search","arguments":{"query":"log"}}');
		expect(messages[3]!.content).toBe('Result of search:\nfound 2');
	});
});

describe('parseToolCall', () => {
	it('reads a call, fenced or tagged, of an offered tool only', () => {
		expect(parseToolCall(' {"tool":"search","arguments":{"query":"x"}} ', [search], 'c')).toEqual({ id: 'c', name: 'search', arguments: '{"query":"x"}' });
		expect(parseToolCall('```json\n{"name":"search","arguments":{}}\n```', [search], 'c')?.name).toBe('search');
		expect(parseToolCall('<tool_call>{"tool":"search","arguments":{}}</tool_call>', [search], 'c')?.name).toBe('search');
		expect(parseToolCall('{"tool":"rm","arguments":{}}', [search], 'c')).toBeUndefined();
		expect(parseToolCall('{"tool":"search","arguments":[1]}', [search], 'c')).toBeUndefined();
		expect(parseToolCall('Sure: {"tool":"search"}', [search], 'c')).toBeUndefined();
		expect(parseToolCall('{"tool":"search", broken', [search], 'c')).toBeUndefined();
	});
});

async function* chunksOf(texts: string[]): AsyncGenerator<GenerateChunk> {
	for (const text of texts) yield { type: 'text', text };
	yield { type: 'done', finishReason: 'stop', promptTokens: 3, completionTokens: texts.length };
}

async function all<T>(source: AsyncIterable<T>): Promise<T[]> {
	const out: T[] = [];
	for await (const item of source) out.push(item);
	return out;
}

describe('toolChunks', () => {
	it('turns an answer that is a call into a tool-call chunk', async () => {
		const out = await all(toolChunks(chunksOf(['{"tool":', '"search","arguments":{"query":"a"}}']), [search], () => 'id1'));
		expect(out).toEqual([
			{ type: 'tool-call', call: { id: 'id1', name: 'search', arguments: '{"query":"a"}' } },
			{ type: 'done', finishReason: 'tool-calls', promptTokens: 3, completionTokens: 2 }
		]);
	});

	it('lets text through as soon as it cannot be a call, and keeps JSON that is no call as text', async () => {
		const text = await all(toolChunks(chunksOf(['Hel', 'lo']), [search], () => 'x'));
		expect(text).toEqual([{ type: 'text', text: 'Hel' }, { type: 'text', text: 'lo' }, expect.objectContaining({ type: 'done', finishReason: 'stop' })]);
		const json = await all(toolChunks(chunksOf(['{"a":', '1}']), [search], () => 'x'));
		expect(json).toEqual([{ type: 'text', text: '{"a":1}' }, expect.objectContaining({ type: 'done', finishReason: 'stop' })]);
	});
});

describe('parseArguments', () => {
	it('accepts what fits the schema and says why the rest does not', () => {
		expect(parseArguments('{"query":"x","limit":3}', search.parameters)).toEqual({ ok: true, value: { query: 'x', limit: 3 } });
		expect(parseArguments('{"limit":3}', search.parameters)).toEqual({ ok: false, error: 'arguments.query is missing' });
		expect(parseArguments('{"query":"x","limit":1.5}', search.parameters)).toEqual({ ok: false, error: 'arguments.limit must be integer' });
		expect(parseArguments('{"query":"' + 'x'.repeat(21) + '"}', search.parameters)).toEqual({ ok: false, error: 'arguments.query is longer than 20' });
		expect(parseArguments('[1]', search.parameters)).toEqual({ ok: false, error: 'the arguments are not a JSON object' });
		expect(parseArguments('{', search.parameters)).toEqual({ ok: false, error: 'the arguments are not JSON' });
	});
});

/** An engine that answers each request with the next scripted answer: text, or calls. */
function scripted(answers: (string | ToolCall[])[]): Engine & { requests: GenerateRequest[] } {
	const requests: GenerateRequest[] = [];
	return {
		kind: 'mesh',
		requests,
		models: async () => [],
		async *generate(request: GenerateRequest, signal?: AbortSignal) {
			requests.push(structuredClone(request));
			signal?.throwIfAborted();
			const answer = answers.shift() ?? 'no more answers';
			if (typeof answer === 'string') {
				yield { type: 'text', text: answer };
				yield { type: 'done', finishReason: 'stop', promptTokens: 10, completionTokens: 1 };
			} else {
				for (const call of answer) yield { type: 'tool-call', call };
				yield { type: 'done', finishReason: 'tool-calls', promptTokens: 10, completionTokens: 2 };
			}
		}
	};
}

describe('runToolLoop', () => {
	const ask: GenerateRequest = { model: 'm', messages: [{ role: 'user', content: 'Post hello.' }] };
	const call = (name: string, args: object, id = `c-${name}`): ToolCall => ({ id, name, arguments: JSON.stringify(args) });
	function tools(log: string[]): RunnableTool[] {
		return [
			{ spec: search, mutates: false, run: async (args) => (log.push(`search ${String(args['query'])}`), { content: 'found' }) },
			{ spec: post, mutates: true, run: async (args) => (log.push(`post ${String(args['text'])}`), { content: 'posted' }) }
		];
	}
	const results = (events: ToolLoopEvent[]) => events.flatMap((e) => (e.type === 'tool-result' ? [e.result] : []));

	it('runs reading tools at once and sums the tokens of every step', async () => {
		const log: string[] = [];
		const engine = scripted([[call('search', { query: 'log' })], 'Done.']);
		const events = await all(runToolLoop({ engine, request: ask, tools: tools(log) }));
		expect(log).toEqual(['search log']);
		expect(events.at(-1)).toEqual({ type: 'done', finishReason: 'stop', promptTokens: 20, completionTokens: 3 });
		expect(engine.requests[1]!.messages.at(-1)).toEqual({ role: 'tool', content: 'found', toolCallId: 'c-search' });
	});

	it('asks before a tool that changes anything, runs it when approved, and not when denied', async () => {
		for (const [answer, ran] of [['once', true], ['deny', false]] as const) {
			const log: string[] = [];
			const asked: string[] = [];
			const engine = scripted([[call('post', { text: 'hi' })], 'Ok.']);
			const events = await all(
				runToolLoop({ engine, request: ask, tools: tools(log), approve: async (c) => (asked.push(c.name), answer as Approval) })
			);
			expect(asked).toEqual(['post']);
			expect(events.some((e) => e.type === 'approval')).toBe(true);
			expect(log).toEqual(ran ? ['post hi'] : []);
			expect(results(events)).toEqual([ran ? { content: 'posted' } : { content: 'The user denied this call.', isError: true }]);
		}
	});

	it('stops when aborted while an approval waits (the chat closed), without running the tool', async () => {
		const log: string[] = [];
		const stop = new AbortController();
		const run = all(
			runToolLoop({ engine: scripted([[call('post', { text: 'x' })], 'Ok.']), request: ask, tools: tools(log), signal: stop.signal, approve: () => new Promise(() => {}) })
		);
		setTimeout(() => stop.abort(), 30);
		await expect(run).rejects.toMatchObject({ name: 'AbortError' });
		expect(log).toEqual([]);
	});

	it('denies a changing tool when nobody can approve it', async () => {
		const log: string[] = [];
		const events = await all(runToolLoop({ engine: scripted([[call('post', { text: 'x' })], 'Ok.']), request: ask, tools: tools(log) }));
		expect(log).toEqual([]);
		expect(results(events)[0]).toMatchObject({ isError: true });
	});

	it('asks the approver about every call of a changing tool (remembering "always" is the approver’s: AiChatState)', async () => {
		const log: string[] = [];
		let asked = 0;
		const engine = scripted([[call('post', { text: 'a' }, 'c1')], [call('post', { text: 'b' }, 'c2')], 'Ok.']);
		await all(runToolLoop({ engine, request: ask, tools: tools(log), approve: async () => (asked++, 'always') }));
		expect(asked).toBe(2);
		expect(log).toEqual(['post a', 'post b']);
	});

	it('gives the model an error for an unknown tool or bad arguments, without running anything', async () => {
		const log: string[] = [];
		const engine = scripted([[call('rm', {}), call('search', { limit: 'x' })], 'Sorry.']);
		const events = await all(runToolLoop({ engine, request: ask, tools: tools(log) }));
		expect(log).toEqual([]);
		expect(results(events)).toEqual([
			{ content: 'There is no tool "rm".', isError: true },
			{ content: 'Invalid arguments for search: arguments.query is missing.', isError: true }
		]);
	});

	it('stops at the step limit: the last step offers no tools', async () => {
		const log: string[] = [];
		const engine = scripted([[call('search', { query: '1' })], [call('search', { query: '2' })], [call('search', { query: '3' })]]);
		const events = await all(runToolLoop({ engine, request: ask, tools: tools(log), maxSteps: 3 }));
		expect(log).toEqual(['search 1', 'search 2']);
		expect(engine.requests.map((r) => r.tools?.length ?? 0)).toEqual([2, 2, 0]);
		expect(events.at(-1)).toMatchObject({ type: 'done', finishReason: 'length' });
	});

	it('a tool that hangs past its limit gives the model an error; the whole loop has a time limit too', async () => {
		const hang: RunnableTool = { spec: search, mutates: false, run: () => new Promise(() => {}) };
		const events = await all(runToolLoop({ engine: scripted([[call('search', { query: 'x' })], 'Ok.']), request: ask, tools: [hang], toolTimeLimitMs: 50 }));
		expect(results(events)).toEqual([{ content: 'search did not finish within 0 s.', isError: true }]);
		await expect(all(runToolLoop({ engine: scripted([[call('search', { query: 'x' })], 'Ok.']), request: ask, tools: [hang], timeLimitMs: 80 }))).rejects.toMatchObject({
			name: 'EngineError',
			message: expect.stringMatching(/took longer than/)
		});
	});

	it('a failing tool gives the model its error', async () => {
		const failing: RunnableTool = { spec: search, mutates: false, run: async () => { throw new Error('disk full'); } };
		const events = await all(runToolLoop({ engine: scripted([[call('search', { query: 'x' })], 'Ok.']), request: ask, tools: [failing] }));
		expect(results(events)).toEqual([{ content: 'search failed: disk full', isError: true }]);
	});
});

/** `/outpost/tools/1.0.0` messages (ai/toolProtocol.ts): what a hostile peer sends is refused whole, never half-taken. */
import { describe, expect, it } from 'vitest';
import { decodeToolAnswer, decodeToolRequest, encodeToolMessage, ToolWireLimits } from '../../../src/lib/ai/toolProtocol.js';
import { MalformedMessageError } from '../../../src/lib/mesh/errors.js';

const bytes = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

describe('tool protocol messages', () => {
	it('round-trip a list, a call, tools, a result and an error', () => {
		const call = { type: 'call' as const, workspaceId: 'ws', tool: 'fx.add', arguments: { a: 1, b: 2 } };
		expect(decodeToolRequest(encodeToolMessage(call))).toEqual(call);
		expect(decodeToolRequest(encodeToolMessage({ type: 'list', workspaceId: 'ws' }))).toEqual({ type: 'list', workspaceId: 'ws' });
		const tools = { type: 'tools' as const, tools: [{ name: 'fx.add', description: 'Adds.', parameters: { type: 'object' as const, properties: {} } }] };
		expect(decodeToolAnswer(encodeToolMessage(tools), 'list')).toEqual(tools);
		expect(decodeToolAnswer(encodeToolMessage({ type: 'result', content: '3', isError: false }), 'call')).toEqual({ type: 'result', content: '3', isError: false });
		const error = { type: 'error' as const, problem: 'busy' as const, message: 'wait' };
		expect(decodeToolAnswer(encodeToolMessage(error), 'call')).toEqual(error);
	});

	it('refuse malformed requests', () => {
		for (const bad of [
			'not json',
			'[1]',
			{ type: 'list' },
			{ type: 'delete', workspaceId: 'ws' },
			{ type: 'call', workspaceId: 'ws', tool: 'bad name', arguments: {} },
			{ type: 'call', workspaceId: 'ws', tool: 'fx.add', arguments: [1] },
			{ type: 'call', workspaceId: 'ws', tool: 'fx.add', arguments: null },
			{ type: 'call', workspaceId: 'x'.repeat(200), tool: 'fx.add', arguments: {} }
		])
			expect(() => decodeToolRequest(bytes(bad)), JSON.stringify(bad)).toThrow(MalformedMessageError);
		expect(() => decodeToolRequest(new Uint8Array(ToolWireLimits.maxRequestBytes + 1))).toThrow(MalformedMessageError);
		expect(() => decodeToolRequest(Uint8Array.of(0xff, 0xfe))).toThrow(MalformedMessageError);
	});

	it('refuse malformed answers, and answers to another request', () => {
		for (const [bad, to] of [
			[{ type: 'tools', tools: 'all' }, 'list'],
			[{ type: 'tools', tools: [{ name: 'a b' }] }, 'list'],
			[{ type: 'tools', tools: [{ name: 'x' }, { name: 'x' }] }, 'list'],
			[{ type: 'result', content: 3, isError: false }, 'call'],
			[{ type: 'result', content: 'ok', isError: false }, 'list'],
			[{ type: 'tools', tools: [] }, 'call'],
			[{ type: 'error', problem: 'teapot', message: 'x' }, 'call'],
			[{ type: 'error', problem: 'busy', message: 'x'.repeat(ToolWireLimits.maxMessage + 1) }, 'call']
		] as const)
			expect(() => decodeToolAnswer(bytes(bad), to), JSON.stringify(bad)).toThrow(MalformedMessageError);
	});

	it('will not encode a request over its bound', () => {
		expect(() => encodeToolMessage({ type: 'call', workspaceId: 'ws', tool: 'fx.echo', arguments: { text: 'x'.repeat(ToolWireLimits.maxRequestBytes) } })).toThrow(RangeError);
	});
});

/**
 * The llm protocol's wire format (llmProtocol.ts): every message round-trips, known bytes
 * match PROTOCOL.md's examples, and hostile bytes (random, truncated, bit-flipped, blown-up
 * lengths, oversized) never throw anything but the two named errors.
 */
import * as encoding from 'lib0/encoding';
import { describe, expect, it } from 'vitest';
import { newId } from '../../../src/lib/doc/ids.js';
import {
	LlmLimits,
	LlmMessageType,
	decodeLlmMessage,
	encodeLlmMessage,
	type LlmMessage
} from '../../../src/lib/ai/llmProtocol.js';
import { mulberry32 } from '../../fixtures/random.js';

const NAMED = new Set(['MalformedMessageError', 'MessageTooLargeError']);

const samples: LlmMessage[] = [
	{
		type: LlmMessageType.request,
		workspaceId: newId(),
		requestId: 'r-1',
		model: 'tiny-random-llama',
		messages: [
			{ role: 'system', content: 'Be brief.' },
			{ role: 'user', content: 'Hello, wörld 👋' },
			{ role: 'assistant', content: '' }
		],
		maxTokens: 64,
		temperature: 0.7,
		stop: ['\n\n', 'END'],
		seed: 42
	},
	{ type: LlmMessageType.request, workspaceId: newId(), requestId: '', model: 'm', messages: [] },
	{
		type: LlmMessageType.request,
		workspaceId: newId(),
		requestId: 'r-2',
		model: 'm',
		messages: [{ role: 'user', content: 'Write it yourself.' }],
		target: { kind: 'ai-thread', docId: newId(), entryId: 'answer-1' }
	},
	{
		type: LlmMessageType.request,
		workspaceId: newId(),
		requestId: 'r-3',
		model: 'm',
		messages: [{ role: 'user', content: '@m in a thread' }],
		seed: 7,
		target: { kind: 'channel', docId: newId(), entryId: 'a-2', after: '0001-clock-of-the-question', parent: 'question-1' }
	},
	{
		type: LlmMessageType.request,
		workspaceId: newId(),
		requestId: 'r-4',
		model: 'm',
		messages: [],
		target: { kind: 'channel', docId: newId(), entryId: 'a-3' }
	},
	{
		type: LlmMessageType.request,
		workspaceId: newId(),
		requestId: 'r-5',
		model: 'm',
		messages: [
			{ role: 'user', content: 'Add 2 and 3.' },
			{ role: 'assistant', content: '', toolCalls: [{ id: 'call_1', name: 'math.add', arguments: '{"a":2,"b":3}' }] },
			{ role: 'tool', content: '5', toolCallId: 'call_1' }
		],
		tools: [{ name: 'math.add', description: 'Adds.', parameters: { type: 'object', properties: { a: { type: 'integer' } } } }],
		toolChoice: { name: 'math.add' }
	},
	{ type: LlmMessageType.cancel },
	{ type: LlmMessageType.toolCall, call: { id: 'call_2', name: 'search', arguments: '{"q":"ship log"}' } },
	{ type: LlmMessageType.done, finishReason: 'tool-calls', promptTokens: 40, completionTokens: 9 },
	{ type: LlmMessageType.queued, position: 3 },
	{ type: LlmMessageType.chunk, text: 'Once upon a time ✨' },
	{ type: LlmMessageType.done, finishReason: 'length', promptTokens: 12, completionTokens: 300 },
	{ type: LlmMessageType.done, finishReason: 'stop', promptTokens: 0, completionTokens: 0 },
	{ type: LlmMessageType.error, problem: 'busy', message: 'Busy: 3 ahead of you.', retryAfterMs: 1500 },
	{ type: LlmMessageType.error, problem: 'unknown-model', message: 'No such model.' },
	{ type: LlmMessageType.error, problem: 'not-allowed', message: 'Your role may not use this model.' },
	{ type: LlmMessageType.error, problem: 'busy', message: 'Now.', retryAfterMs: 0 }
];

describe('the tools section of a REQUEST', () => {
	const base = { type: LlmMessageType.request, workspaceId: newId(), requestId: 'r', model: 'm' } as const;
	/** A REQUEST whose tools section is `section` (JSON text), written by hand as a hostile peer would. */
	function withSection(messages: { role: number; content: string }[], section: string): Uint8Array {
		const encoder = encoding.createEncoder();
		encoding.writeVarUint(encoder, LlmMessageType.request);
		const bytes = encodeLlmMessage({ ...base, messages: [] });
		// Reuse the header (type, workspace, request id, model) of a real REQUEST, then write our own body.
		const header = bytes.slice(0, bytes.length - 2);
		const out = encoding.createEncoder();
		encoding.writeUint8Array(out, header);
		encoding.writeVarUint(out, messages.length);
		for (const m of messages) {
			encoding.writeVarUint(out, m.role);
			encoding.writeVarString(out, m.content);
		}
		encoding.writeVarUint(out, 32);
		encoding.writeVarString(out, section);
		return encoding.toUint8Array(out);
	}

	it('reads a well-formed section', () => {
		const m = decodeLlmMessage(withSection([{ role: 3, content: 'ok' }], JSON.stringify({ calls: [{ index: 0, toolCallId: 'c1' }] })));
		expect(m).toMatchObject({ messages: [{ role: 'tool', content: 'ok', toolCallId: 'c1' }] });
	});

	it.each([
		['not JSON', '{'],
		['no calls list', '{}'],
		['a call entry past the messages', JSON.stringify({ calls: [{ index: 5, toolCallId: 'c' }] })],
		['calls on a user message', JSON.stringify({ calls: [{ index: 0, toolCalls: [{ id: 'c', name: 'a', arguments: '{}' }] }] })],
		['a tool with a bad name', JSON.stringify({ tools: [{ name: 'a b', description: '', parameters: {} }], calls: [] })],
		['two tools with one name', JSON.stringify({ tools: [{ name: 'a' }, { name: 'a' }], calls: [] })],
		['parameters that are not an object schema', JSON.stringify({ tools: [{ name: 'a', parameters: { type: 'string' } }], calls: [] })],
		['a bad tool choice', JSON.stringify({ toolChoice: 'always', calls: [] })],
		['too many tools', JSON.stringify({ tools: Array.from({ length: 129 }, (_, i) => ({ name: `t${i}` })), calls: [] })]
	])('refuses %s as malformed', (_what, section) => {
		expect(() => decodeLlmMessage(withSection([{ role: 1, content: 'hi' }], section))).toThrow(expect.objectContaining({ name: 'MalformedMessageError' }));
	});

	it('refuses a TOOL_CALL whose name is not a tool name', () => {
		const encoder = encoding.createEncoder();
		encoding.writeVarUint(encoder, LlmMessageType.toolCall);
		encoding.writeVarString(encoder, 'c');
		encoding.writeVarString(encoder, 'no spaces allowed');
		encoding.writeVarString(encoder, '{}');
		expect(() => decodeLlmMessage(encoding.toUint8Array(encoder))).toThrow(expect.objectContaining({ name: 'MalformedMessageError' }));
	});
});

/** Decodes, and fails the test on anything but a named error; returns what decoded, if anything. */
function decodeSafely(bytes: Uint8Array): LlmMessage | undefined {
	try {
		return decodeLlmMessage(bytes);
	} catch (error) {
		expect(NAMED.has((error as Error).name), `${(error as Error).name}: ${(error as Error).message}`).toBe(true);
		return undefined;
	}
}

describe('llm protocol messages', () => {
	it('round-trip', () => {
		for (const m of samples) expect(decodeLlmMessage(encodeLlmMessage(m))).toEqual(m);
	});

	it('have the documented layout', () => {
		expect([...encodeLlmMessage({ type: LlmMessageType.queued, position: 2 })]).toEqual([0x21, 0x02]);
		expect([...encodeLlmMessage({ type: LlmMessageType.cancel })]).toEqual([0x25]);
		expect([...encodeLlmMessage({ type: LlmMessageType.chunk, text: 'hi' })]).toEqual([0x22, 0x02, 0x68, 0x69]);
		expect([...encodeLlmMessage({ type: LlmMessageType.done, finishReason: 'length', promptTokens: 5, completionTokens: 300 })]).toEqual([
			0x23, 0x01, 0x05, 0xac, 0x02
		]);
		expect([...encodeLlmMessage({ type: LlmMessageType.error, problem: 'busy', message: '', retryAfterMs: 999 })]).toEqual([
			0x24, 0x04, 0x00, 0xe8, 0x07
		]);
	});

	it('refuses what the bounds and layout forbid', () => {
		const bad = (bytes: number[]) => expect(() => decodeLlmMessage(Uint8Array.from(bytes))).toThrow(expect.objectContaining({ name: 'MalformedMessageError' }));
		bad([]); // empty
		bad([0x05]); // a sync type
		bad([0x21, 0x02, 0x00]); // trailing byte
		bad([0x22, 0x02, 0xff, 0xfe]); // not UTF-8
		bad([0x23, 0x03, 0x00, 0x00]); // finish reason 3
		bad([0x24, 0x00, 0x00, 0x00]); // problem 0
		bad([0x24, 0x07, 0x00, 0x00]); // problem 7
		bad([0x22, 0xff, 0xff, 0xff, 0xff, 0x0f]); // blown-up length
		bad([0x25, 0x00]); // CANCEL has no body
		// A target of an unknown kind, or with an empty entry id.
		const targeted = encodeLlmMessage(samples[2]!);
		const { target: _target, ...untargeted } = samples[2] as Extract<LlmMessage, { type: 32 }>;
		const kindAt = encodeLlmMessage(untargeted).length; // the target follows the other fields
		expect(targeted[kindAt]).toBe(0);
		const unknownKind = targeted.slice();
		unknownKind[kindAt] = 2;
		bad([...unknownKind]);
		expect(() =>
			encodeLlmMessage({ ...(samples[2] as Extract<LlmMessage, { type: 32 }>), target: { kind: 'ai-thread', docId: newId(), entryId: '' } })
		).toThrow(RangeError);
		// A type not expected here.
		expect(() => decodeLlmMessage(encodeLlmMessage(samples.find((m) => m.type === LlmMessageType.queued)!), [LlmMessageType.request])).toThrow(
			expect.objectContaining({ name: 'MalformedMessageError' })
		);
		// A temperature that is not a finite non-negative number.
		const request = encodeLlmMessage({ ...(samples[1] as Extract<LlmMessage, { type: 32 }>), temperature: 1 });
		const nan = request.slice();
		new DataView(nan.buffer).setFloat64(nan.length - 8, Number.NaN);
		bad([...nan]);
	});

	it('refuses oversized messages before reading them', () => {
		const big = new Uint8Array(LlmLimits.maxReplyBytes + 10);
		big[0] = LlmMessageType.chunk;
		expect(() => decodeLlmMessage(big)).toThrow(expect.objectContaining({ name: 'MessageTooLargeError' }));
		const huge = new Uint8Array(LlmLimits.maxRequestBytes + 1);
		huge[0] = LlmMessageType.request;
		expect(() => decodeLlmMessage(huge)).toThrow(expect.objectContaining({ name: 'MessageTooLargeError' }));
	});

	it('never throws anything but a named error on random bytes', () => {
		const random = mulberry32(7);
		for (let i = 0; i < 5000; i++) {
			const bytes = new Uint8Array(Math.floor(random() * 64));
			for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(random() * 256);
			// Half of them start with a real type, to get past the first check.
			if (bytes.length > 0 && random() < 0.5) bytes[0] = 32 + Math.floor(random() * 5);
			decodeSafely(bytes);
		}
	});

	it('never throws anything but a named error on mutated messages, and what decodes re-encodes', () => {
		const random = mulberry32(11);
		for (const m of samples) {
			const honest = encodeLlmMessage(m);
			for (let i = 0; i < 1500; i++) {
				const bytes = honest.slice();
				const mutation = Math.floor(random() * 4);
				let input: Uint8Array = bytes;
				if (mutation === 0) input = bytes.subarray(0, Math.floor(random() * bytes.length)); // truncated
				if (mutation === 1) bytes[Math.floor(random() * bytes.length)]! ^= 1 << Math.floor(random() * 8); // bit flip
				if (mutation === 2) {
					// A varuint somewhere blown up to a huge value.
					const at = 1 + Math.floor(random() * Math.max(1, bytes.length - 1));
					const e = encoding.createEncoder();
					encoding.writeVarUint(e, 0xffff_ffff * Math.floor(1 + random() * 1000));
					input = Uint8Array.from([...bytes.subarray(0, at), ...encoding.toUint8Array(e), ...bytes.subarray(at + 1)]);
				}
				if (mutation === 3) input = Uint8Array.from([...bytes, Math.floor(random() * 256)]); // trailing byte
				const decoded = decodeSafely(input);
				if (decoded !== undefined) expect(decodeLlmMessage(encodeLlmMessage(decoded))).toEqual(decoded);
			}
		}
	});

	it('refuses to encode what it could not decode (a local bug, never sent)', () => {
		expect(() => encodeLlmMessage({ type: LlmMessageType.chunk, text: 'x'.repeat(LlmLimits.maxReplyBytes) })).toThrow(RangeError);
		expect(() =>
			encodeLlmMessage({ ...(samples[1] as Extract<LlmMessage, { type: 32 }>), model: 'm'.repeat(LlmLimits.maxModelBytes + 1) })
		).toThrow(RangeError);
		// Error texts are cut to fit instead.
		const long = decodeLlmMessage(encodeLlmMessage({ type: LlmMessageType.error, problem: 'failed', message: 'é'.repeat(5000) }));
		expect(long).toMatchObject({ type: LlmMessageType.error, problem: 'failed' });
		expect(new TextEncoder().encode((long as { message: string }).message).length).toBeLessThanOrEqual(LlmLimits.maxErrorTextBytes);
	});
});

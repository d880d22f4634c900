/**
 * `/outpost/tools/1.0.0`: a peer's shared tools (the relay's MCP servers') for the members of
 * a workspace, on the mesh (PROTOCOL.md "Tools on the mesh"). Each stream starts with the sync
 * protocol's membership exchange (streamMembership.ts) and then carries one request and its
 * answer, each one frame of UTF-8 JSON:
 *
 * - `{"type":"list","workspaceId"}` → `{"type":"tools","tools":[{name, description, parameters}]}`:
 *   the tools the asker's role may use;
 * - `{"type":"call","workspaceId","tool","arguments":{…}}` → `{"type":"result","content","isError"}`;
 * - either may be answered `{"type":"error","problem","message"}`.
 *
 * Every message is checked completely before use (a peer may be hostile): anything else is a
 * {@link MalformedMessageError}.
 */
import { MalformedMessageError } from '../mesh/errors.js';
import { checkTools } from './tools/toolWire.js';
import { TOOL_NAME, type ToolResult, type ToolSpec } from './tools/types.js';

export const TOOLS_PROTOCOL_ID = '/outpost/tools/1.0.0';

/** Bounds of the protocol's frames. */
export const ToolWireLimits = {
	/** A request (list or call with its arguments). */
	maxRequestBytes: 128 * 1024,
	/** An answer (a tool list, or a result). */
	maxAnswerBytes: 1024 * 1024,
	/** Longest error message, in characters. */
	maxMessage: 2000
} as const;

/** Why a host did not run a request. */
export type ToolProblem = 'not-allowed' | 'unknown-tool' | 'busy' | 'failed';
const PROBLEMS = new Set<string>(['not-allowed', 'unknown-tool', 'busy', 'failed'] satisfies ToolProblem[]);

export type ToolRequest = { type: 'list'; workspaceId: string } | { type: 'call'; workspaceId: string; tool: string; arguments: Record<string, unknown> };
export type ToolAnswer =
	| { type: 'tools'; tools: ToolSpec[] }
	| { type: 'result'; content: string; isError: boolean }
	| { type: 'error'; problem: ToolProblem; message: string };

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Encodes a message; throws a RangeError when it is over its bound. */
export function encodeToolMessage(message: ToolRequest | ToolAnswer): Uint8Array {
	const bytes = utf8.encode(JSON.stringify(message));
	const max = message.type === 'list' || message.type === 'call' ? ToolWireLimits.maxRequestBytes : ToolWireLimits.maxAnswerBytes;
	if (bytes.length > max) throw new RangeError(`a ${message.type} message of ${bytes.length} bytes exceeds ${max}`);
	return bytes;
}

/** Decodes and checks a request. */
export function decodeToolRequest(bytes: Uint8Array): ToolRequest {
	const m = parse(bytes, ToolWireLimits.maxRequestBytes);
	if (typeof m['workspaceId'] !== 'string' || m['workspaceId'].length > 128) throw new MalformedMessageError('tools: no workspace');
	if (m['type'] === 'list') return { type: 'list', workspaceId: m['workspaceId'] };
	if (m['type'] !== 'call') throw new MalformedMessageError('tools: not a request');
	const { tool, arguments: args } = m;
	if (typeof tool !== 'string' || !TOOL_NAME.test(tool)) throw new MalformedMessageError('tools: a call names no valid tool');
	if (typeof args !== 'object' || args === null || Array.isArray(args)) throw new MalformedMessageError('tools: the arguments are not an object');
	return { type: 'call', workspaceId: m['workspaceId'], tool, arguments: args as Record<string, unknown> };
}

/** Decodes and checks an answer to `request`. */
export function decodeToolAnswer(bytes: Uint8Array, request: ToolRequest['type']): ToolAnswer {
	const m = parse(bytes, ToolWireLimits.maxAnswerBytes);
	if (m['type'] === 'error') {
		const { problem, message } = m;
		if (typeof problem !== 'string' || !PROBLEMS.has(problem) || typeof message !== 'string' || message.length > ToolWireLimits.maxMessage)
			throw new MalformedMessageError('tools: a malformed error');
		return { type: 'error', problem: problem as ToolProblem, message };
	}
	if (request === 'list' && m['type'] === 'tools') return { type: 'tools', tools: checkTools(m['tools'], (why) => new MalformedMessageError(`tools: ${why}`)) };
	if (request === 'call' && m['type'] === 'result') {
		if (typeof m['content'] !== 'string' || typeof m['isError'] !== 'boolean') throw new MalformedMessageError('tools: a malformed result');
		return { type: 'result', content: m['content'], isError: m['isError'] };
	}
	throw new MalformedMessageError(`tools: not an answer to a ${request}`);
}

/** A result as the protocol carries it. */
export function resultAnswer(result: ToolResult): ToolAnswer {
	return { type: 'result', content: result.content, isError: result.isError === true };
}

function parse(bytes: Uint8Array, max: number): Record<string, unknown> {
	if (bytes.length > max) throw new MalformedMessageError(`tools: a message over ${max} bytes`);
	let value: unknown;
	try {
		value = JSON.parse(strictUtf8.decode(bytes));
	} catch {
		throw new MalformedMessageError('tools: not JSON text');
	}
	if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MalformedMessageError('tools: not a message');
	return value as Record<string, unknown>;
}

/**
 * Tools on the wire: the tools section of an llm REQUEST (llmProtocol.ts), as JSON text with
 * a strict shape check, and the checks of a tool's description and a call that a peer or an
 * HTTP client sends. Anything that does not fit is malformed, never half-taken.
 */
import { MalformedMessageError } from '../../mesh/errors.js';
import { TOOL_NAME, type JsonSchema, type ToolCall, type ToolChoice, type ToolSpec } from './types.js';

/** Bounds of what a peer may send about tools. */
export const ToolLimits = {
	/** Most tools offered to one generation. */
	maxTools: 128,
	/** Longest tool description, in characters. */
	maxDescription: 4096,
	/** Most calls in one assistant message. */
	maxCalls: 32,
	/** Longest call id, in characters. */
	maxCallId: 64,
	/** Longest arguments text of a call, in characters. */
	maxArguments: 60 * 1024,
	/**
	 * Deepest nesting (objects and arrays) of a tool's parameters schema: what reads a schema
	 * (the tool prompt's signatures, the argument check) recurses, and a hostile host's list of
	 * 20,000 levels in under 1 MiB overflowed the stack of every tool-using answer (found in review).
	 */
	maxSchemaDepth: 64
} as const;

/** The tool fields of a request: the tools, the choice, and per message index its calls or call id. */
export interface ToolSection {
	tools?: ToolSpec[];
	toolChoice?: ToolChoice;
	calls: { index: number; toolCalls?: ToolCall[]; toolCallId?: string }[];
}

export function encodeToolSection(section: ToolSection): string {
	return JSON.stringify(section);
}

/** Parses and checks a section for a request of `messageCount` messages; throws {@link MalformedMessageError}. */
export function decodeToolSection(text: string, messageCount: number): ToolSection {
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch {
		throw new MalformedMessageError('REQUEST tools: not JSON');
	}
	if (!isRecord(value) || !Array.isArray(value['calls'])) throw new MalformedMessageError('REQUEST tools: not a tools section');
	const section: ToolSection = { calls: [] };
	if (value['tools'] !== undefined) section.tools = checkTools(value['tools'], (why) => new MalformedMessageError(`REQUEST tools: ${why}`));
	if (value['toolChoice'] !== undefined) {
		const choice = value['toolChoice'];
		if (!isToolChoice(choice)) throw new MalformedMessageError('REQUEST tools: bad tool choice');
		section.toolChoice = choice;
	}
	const seen = new Set<number>();
	for (const entry of value['calls'] as unknown[]) {
		if (!isRecord(entry) || !Number.isSafeInteger(entry['index'])) throw new MalformedMessageError('REQUEST tools: bad call entry');
		const index = entry['index'] as number;
		if (index < 0 || index >= messageCount || seen.has(index)) throw new MalformedMessageError('REQUEST tools: call entry names no message');
		seen.add(index);
		const out: ToolSection['calls'][number] = { index };
		if (entry['toolCalls'] !== undefined) out.toolCalls = checkCalls(entry['toolCalls'], (why) => new MalformedMessageError(`REQUEST tools: ${why}`));
		if (entry['toolCallId'] !== undefined) {
			if (!isCallId(entry['toolCallId'])) throw new MalformedMessageError('REQUEST tools: bad call id');
			out.toolCallId = entry['toolCallId'];
		}
		section.calls.push(out);
	}
	return section;
}

/** `value` as tool descriptions, or the error `fail` makes. */
export function checkTools(value: unknown, fail: (why: string) => Error): ToolSpec[] {
	if (!Array.isArray(value) || value.length > ToolLimits.maxTools) throw fail(`at most ${ToolLimits.maxTools} tools`);
	const names = new Set<string>();
	return value.map((tool: unknown) => {
		if (!isRecord(tool) || typeof tool['name'] !== 'string' || !TOOL_NAME.test(tool['name'])) throw fail('a tool has no valid name ([A-Za-z0-9_.-], at most 64)');
		const name = tool['name'];
		if (names.has(name)) throw fail(`two tools are named "${name}"`);
		names.add(name);
		const description = tool['description'] ?? '';
		if (typeof description !== 'string' || description.length > ToolLimits.maxDescription) throw fail(`the description of "${name}" is not text of at most ${ToolLimits.maxDescription} characters`);
		const parameters = tool['parameters'] ?? { type: 'object', properties: {} };
		if (!isRecord(parameters) || (parameters['type'] !== undefined && parameters['type'] !== 'object')) throw fail(`the parameters of "${name}" are not a JSON Schema of an object`);
		if (deeperThan(parameters, ToolLimits.maxSchemaDepth)) throw fail(`the parameters of "${name}" nest deeper than ${ToolLimits.maxSchemaDepth} levels`);
		return { name, description, parameters: parameters as JsonSchema };
	});
}

/** `value` as tool calls, or the error `fail` makes. */
export function checkCalls(value: unknown, fail: (why: string) => Error): ToolCall[] {
	if (!Array.isArray(value) || value.length > ToolLimits.maxCalls) throw fail(`at most ${ToolLimits.maxCalls} calls in a message`);
	return value.map((call: unknown) => {
		if (!isRecord(call) || !isCallId(call['id']) || typeof call['name'] !== 'string' || !TOOL_NAME.test(call['name']))
			throw fail('a tool call has no valid id or name');
		const args = call['arguments'];
		if (typeof args !== 'string' || args.length > ToolLimits.maxArguments) throw fail('a tool call\'s arguments are not JSON text');
		return { id: call['id'], name: call['name'], arguments: args };
	});
}

export function isToolChoice(value: unknown): value is ToolChoice {
	if (value === 'auto' || value === 'none' || value === 'required') return true;
	return isRecord(value) && typeof value['name'] === 'string' && TOOL_NAME.test(value['name']) && Object.keys(value).length === 1;
}

/** Whether `value` nests objects and arrays deeper than `max` levels (checked without recursing). */
export function deeperThan(value: unknown, max: number): boolean {
	const stack: [unknown, number][] = [[value, 1]];
	while (stack.length > 0) {
		const [item, depth] = stack.pop()!;
		if (typeof item !== 'object' || item === null) continue;
		if (depth > max) return true;
		for (const child of Object.values(item)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
	}
	return false;
}

function isCallId(value: unknown): value is string {
	return typeof value === 'string' && value.length > 0 && value.length <= ToolLimits.maxCallId;
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

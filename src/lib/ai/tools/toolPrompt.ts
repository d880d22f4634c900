/**
 * Tool calling for engines whose runtime has no tool format of its own (node-llama-cpp,
 * wllama and WebLLM here: one format for every GGUF, whatever its chat template):
 * - {@link toolConversation} turns a conversation with tools into plain system, user and
 *   assistant messages: the tools and how to call them go into the system prompt, a call
 *   the model made is the JSON it wrote, a tool's result is a user message that says so;
 * - {@link parseToolCall} reads a call back out of the model's text;
 * - {@link toolChunks} turns a text stream into tool-call chunks where the model called one
 *   (text that may be a call is held back until it is known not to be one).
 * With `tool_choice` `required` or a named tool the engine also constrains sampling with
 * {@link toolCallGrammar}, so the model cannot write anything but a call.
 */
import type { ChatMessage, GenerateChunk, GenerateRequest } from '../engine.js';
import { toolCallGrammar } from './toolGrammar.js';
import type { JsonSchema, ToolCall, ToolSpec } from './types.js';

/** What a local engine generates from for a request that may carry tools. */
export interface ToolPlan {
	/** Plain messages (system, user, assistant only). */
	messages: ChatMessage[];
	/** A grammar that forces a call, when the request makes one required. */
	grammar?: string;
	/** The tools the model may call (none: tools are off for this request). */
	tools: ToolSpec[];
}

/** How a local engine should run `request`; see the module comment. */
export function toolPlan(request: GenerateRequest): ToolPlan {
	const choice = request.toolChoice ?? 'auto';
	const offered = choice === 'none' ? [] : (request.tools ?? []);
	const forced = typeof choice === 'object' ? offered.filter((t) => t.name === choice.name) : offered;
	if (typeof choice === 'object' && forced.length === 0) throw new RangeError(`tool_choice names "${choice.name}", which is not among the tools`);
	const mustCall = choice === 'required' || typeof choice === 'object';
	// A forced call can only be of the forced tools: only they are described (small contexts).
	const messages = toolConversation(request.messages, mustCall ? forced : offered);
	if (offered.length === 0) return { messages, tools: [] };
	// Strings are capped so that a whole call fits the token budget (about 0.6 of it for text).
	const maxString = Math.max(16, Math.floor((request.maxTokens ?? 512) * 0.6));
	return { messages, tools: forced, ...(mustCall ? { grammar: toolCallGrammar(forced, { maxString }) } : {}) };
}

/** The conversation as plain messages; see the module comment. */
export function toolConversation(messages: readonly ChatMessage[], tools: readonly ToolSpec[]): ChatMessage[] {
	const out: ChatMessage[] = [];
	const names = new Map<string, string>();
	for (const message of messages) {
		if (message.role === 'tool') {
			const name = names.get(message.toolCallId ?? '') ?? 'a tool';
			out.push({ role: 'user', content: `Result of ${name}:\n${message.content}` });
		} else if (message.role === 'assistant' && message.toolCalls?.length) {
			for (const call of message.toolCalls) names.set(call.id, call.name);
			const calls = message.toolCalls.map((call) => callText(call)).join('\n');
			out.push({ role: 'assistant', content: message.content ? `${message.content}\n${calls}` : calls });
		} else out.push({ role: message.role, content: message.content });
	}
	if (tools.length === 0) return out;
	const instructions = toolInstructions(tools);
	if (out[0]?.role === 'system') out[0] = { role: 'system', content: `${out[0].content}\n\n${instructions}` };
	else out.unshift({ role: 'system', content: instructions });
	return out;
}

/**
 * The system prompt's part about tools: each as a compact signature (`name(a: string, b?:
 * integer) — description`) rather than its whole JSON Schema, which small context windows
 * cannot afford; the grammar and the tool runner enforce the schema itself.
 */
export function toolInstructions(tools: readonly ToolSpec[]): string {
	return [
		'To use a tool, answer only {"tool":"name","arguments":{…}}. Tools:',
		...tools.map((t) => `- ${signature(t)}${t.description ? ` — ${t.description}` : ''}`)
	].join('\n');
}

/** `name(a: string, b?: integer)` of a tool. */
export function signature(tool: ToolSpec): string {
	const required = new Set(tool.parameters.required ?? []);
	const params = Object.entries(tool.parameters.properties ?? {}).map(
		([key, schema]) => `${key}${required.has(key) ? '' : '?'}: ${typeText(schema)}`
	);
	return `${tool.name}(${params.join(', ')})`;
}

function typeText(schema: JsonSchema): string {
	if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join('|');
	const type = Array.isArray(schema.type) ? schema.type.join('|') : (schema.type ?? 'any');
	if (type === 'array') return `${schema.items ? typeText(schema.items) : 'any'}[]`;
	if (type === 'object' && schema.properties)
		return `{${Object.entries(schema.properties).map(([k, v]) => `${k}: ${typeText(v)}`).join(', ')}}`;
	return type;
}

function callText(call: ToolCall): string {
	let args: unknown;
	try {
		args = JSON.parse(call.arguments);
	} catch {
		args = {};
	}
	return JSON.stringify({ tool: call.name, arguments: args });
}

/**
 * The call in a model's answer, when the whole answer (trimmed, perhaps in a ```json fence
 * or `<tool_call>` tags) is one JSON object naming one of `tools`; else undefined.
 */
export function parseToolCall(text: string, tools: readonly ToolSpec[], id: string): ToolCall | undefined {
	const body = text
		.trim()
		.replace(/^<tool_call>([\s\S]*)<\/tool_call>$/, '$1')
		.replace(/^```(?:json)?\s*([\s\S]*?)\s*```$/, '$1')
		.trim();
	if (!body.startsWith('{')) return undefined;
	let parsed: unknown;
	try {
		parsed = JSON.parse(body);
	} catch {
		return undefined;
	}
	if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
	const record = parsed as Record<string, unknown>;
	const name = typeof record['tool'] === 'string' ? record['tool'] : record['name'];
	if (typeof name !== 'string' || !tools.some((t) => t.name === name)) return undefined;
	const args = record['arguments'] ?? record['parameters'] ?? {};
	if (typeof args !== 'object' || args === null || Array.isArray(args)) return undefined;
	return { id, name, arguments: JSON.stringify(args) };
}

/** Could text that starts like `start` still turn out to be a call? */
function mayBeCall(start: string): boolean {
	const head = start.trimStart();
	return head === '' || CALL_STARTS.some((p) => head.startsWith(p) || p.startsWith(head));
}
const CALL_STARTS = ['{', '<tool_call>', '```'];

/**
 * A local engine's output with its tool calls as `tool-call` chunks: while the answer may
 * still be a call its text is held back; at the end a call becomes one `tool-call` chunk
 * and finish reason `tool-calls`, anything else is let through as text. Without tools, the
 * source unchanged.
 */
export async function* toolChunks(
	source: AsyncIterable<GenerateChunk>,
	tools: readonly ToolSpec[],
	newId: () => string
): AsyncGenerator<GenerateChunk> {
	if (tools.length === 0) {
		yield* source;
		return;
	}
	let held = '';
	let holding = true;
	for await (const chunk of source) {
		if (chunk.type === 'text') {
			if (!holding) {
				yield chunk;
				continue;
			}
			held += chunk.text;
			if (!mayBeCall(held)) {
				holding = false;
				yield { type: 'text', text: held };
				held = '';
			}
			continue;
		}
		if (chunk.type === 'done' && holding) {
			const call = parseToolCall(held, tools, newId());
			if (call) {
				yield { type: 'tool-call', call };
				yield { ...chunk, finishReason: 'tool-calls' };
				return;
			}
			if (held) yield { type: 'text', text: held };
		}
		yield chunk;
	}
}

/** A fresh call id, as OpenAI writes them. */
export function newToolCallId(): string {
	const bytes = crypto.getRandomValues(new Uint8Array(12));
	return `call_${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

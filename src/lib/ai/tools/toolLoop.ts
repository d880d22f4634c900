/**
 * The one tool loop every engine is driven by (issue 15): generate with the tools offered;
 * when the model calls tools, check each call's arguments against its schema, ask the user
 * to approve tools that change anything, run them, give the model their results, and
 * generate again, until it answers in text, the step limit is reached (the last step offers
 * no tools, so the model must answer) or the time limit ends it.
 *
 * It talks to engines only through {@link Engine.generate}, so a model in this browser, on
 * the relay or on another member's GPU is driven the same way.
 */
import { EngineError, type ChatMessage, type Engine, type GenerateChunk, type GenerateOptions, type GenerateRequest } from '../engine.js';
import { parseArguments } from './toolArgs.js';
import { ToolLimits } from './toolWire.js';
import { cutToBytes, byteLength } from './workspaceToolText.js';
import type { ToolCall, ToolResult, ToolSpec } from './types.js';

/** A tool the loop can run. */
export interface RunnableTool {
	spec: ToolSpec;
	/** The tool changes something (a note, a message, a file): it runs only when approved. */
	mutates: boolean;
	run(args: Record<string, unknown>, signal: AbortSignal): Promise<ToolResult>;
}

/**
 * The user's answer to an approval request: no, yes once, or yes for the rest of the chat
 * (the approver remembers that: the loop asks it about every call of a changing tool).
 */
export type Approval = 'deny' | 'once' | 'always';

/** What the loop reports as it goes. */
export type ToolLoopEvent =
	| GenerateChunk
	/** A step starts (0 first): text after it belongs to a new generation. */
	| { type: 'step'; step: number }
	/** A call waits for the user's approval. */
	| { type: 'approval'; call: ToolCall }
	/** A call ended: the tool's result, or an error (unknown tool, bad arguments, failure, denied by the user). */
	| { type: 'tool-result'; call: ToolCall; result: ToolResult; ms: number; denied?: true };

/** What {@link runToolLoop} needs. */
export interface ToolLoopInit {
	engine: Engine;
	/** The request of the first step (its `tools` are replaced by those of `tools`). */
	request: GenerateRequest;
	tools: readonly RunnableTool[];
	/** Asks the user about a call of a tool that {@link RunnableTool.mutates}; without it such calls are denied. */
	approve?: (call: ToolCall, tool: RunnableTool) => Promise<Approval>;
	/** Most generations (default 6); the last one offers no tools. */
	maxSteps?: number;
	/** Longest the whole loop may take, in ms (default 5 minutes). */
	timeLimitMs?: number;
	/** Longest one tool may take, in ms (default 60 s). */
	toolTimeLimitMs?: number;
	signal?: AbortSignal;
	options?: GenerateOptions;
}

/** Default step limit of {@link runToolLoop}. */
export const DEFAULT_MAX_STEPS = 6;

/**
 * Most bytes (UTF-8) of one tool result given to the model and kept as a step, whatever the
 * tool: a shared tool's host answers up to a MiB (toolProtocol.ts), and a hostile one would
 * fill the model's context and every later request with it (the relay's own limit is 64 KiB).
 */
export const MAX_TOOL_RESULT_BYTES = 64 * 1024;

/**
 * `tools` with one tool per name, the first of each (the workspace's own come first): two
 * relays may share tools of the same name, and the model must be offered, and run, exactly
 * one of them (a request offering two is malformed to a mesh host, and the approval must
 * describe the tool that runs).
 */
export function uniqueTools(tools: readonly RunnableTool[]): RunnableTool[] {
	const seen = new Set<string>();
	return tools.filter((tool) => !seen.has(tool.spec.name) && (seen.add(tool.spec.name), true));
}

/** Runs the loop; see the module comment. The final `done` chunk sums every step's tokens. */
export async function* runToolLoop(init: ToolLoopInit): AsyncGenerator<ToolLoopEvent> {
	const maxSteps = Math.max(1, init.maxSteps ?? DEFAULT_MAX_STEPS);
	const timeLimit = init.timeLimitMs ?? 5 * 60_000;
	const loop = deadline(timeLimit, init.signal);
	const timeout = loop.timedOut;
	const signal = loop.signal;
	const tools = uniqueTools(init.tools);
	const byName = new Map(tools.map((tool) => [tool.spec.name, tool]));
	const messages: ChatMessage[] = [...init.request.messages];
	/** Call ids in this answer so far (those of the request's messages too). */
	const ids = new Set(init.request.messages.flatMap((m) => [...(m.toolCalls ?? []).map((c) => c.id), ...(m.toolCallId !== undefined ? [m.toolCallId] : [])]));
	let promptTokens = 0;
	let completionTokens = 0;
	try {
		for (let step = 0; step < maxSteps; step++) {
			yield { type: 'step', step };
			const last = step === maxSteps - 1;
			const request: GenerateRequest = { ...init.request, messages: [...messages] };
			if (tools.length > 0 && !last) {
				request.tools = tools.map((t) => t.spec);
				request.toolChoice = step === 0 ? (init.request.toolChoice ?? 'auto') : 'auto';
			} else {
				delete request.tools;
				delete request.toolChoice;
			}
			let text = '';
			const calls: ToolCall[] = [];
			let done: Extract<GenerateChunk, { type: 'done' }> | undefined;
			for await (const chunk of init.engine.generate(request, signal, init.options)) {
				if (chunk.type === 'text') {
					text += chunk.text;
					yield chunk;
				} else if (chunk.type === 'tool-call') {
					// At most ToolLimits.maxCalls calls a step (the rest are dropped: a mesh host refuses
					// a message with more), each with an id of its own in this answer (a model that gave
					// two calls one id had one call's result and steps shown as the other's).
					if (calls.length >= ToolLimits.maxCalls) continue;
					const call = ownId(chunk.call, ids);
					calls.push(call);
					yield call === chunk.call ? chunk : { ...chunk, call };
				} else done = chunk;
			}
			if (!done) throw new EngineError('failed', 'The model ended without finishing.');
			promptTokens += done.promptTokens;
			completionTokens += done.completionTokens;
			if (calls.length === 0 || last) {
				yield { ...done, promptTokens, completionTokens, finishReason: calls.length > 0 ? 'length' : done.finishReason };
				return;
			}
			messages.push({ role: 'assistant', content: text, toolCalls: calls });
			for (const call of calls) {
				const started = performance.now();
				const tool = byName.get(call.name);
				let result: ToolResult;
				let denied = false;
				if (tool === undefined) result = { content: `There is no tool "${call.name}".`, isError: true };
				else {
					const args = parseArguments(call.arguments, tool.spec.parameters);
					if (!args.ok) result = { content: `Invalid arguments for ${call.name}: ${args.error}.`, isError: true };
					else {
						let approved = !tool.mutates;
						if (!approved && init.approve) {
							yield { type: 'approval', call };
							approved = (await untilAborted(init.approve(call, tool), signal)) !== 'deny';
						}
						denied = !approved;
						result = approved ? await runTool(tool, args.value, signal, init.toolTimeLimitMs ?? 60_000) : { content: 'The user denied this call.', isError: true };
					}
				}
				yield { type: 'tool-result', call, result, ms: Math.round(performance.now() - started), ...(denied ? { denied: true as const } : {}) };
				messages.push({ role: 'tool', content: result.content, toolCallId: call.id });
			}
		}
	} catch (error) {
		if (timeout.aborted && !init.signal?.aborted)
			throw new EngineError('failed', `The answer with tools took longer than ${Math.round(timeLimit / 1000)} s and was stopped.`, { cause: error });
		throw error;
	} finally {
		loop.clear();
	}
}

/** `promise`, or the signal's reason as soon as it aborts (an approval nobody answers must not hold the loop). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
	signal.throwIfAborted();
	return new Promise<T>((resolve, reject) => {
		const onAbort = () => reject(signal.reason);
		signal.addEventListener('abort', onAbort, { once: true });
		promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
	});
}

/**
 * A signal that aborts after `ms` or when `parent` does, with a timer of its own (held here:
 * `AbortSignal.any` over `AbortSignal.timeout` can lose an unreferenced timeout to the
 * garbage collector on some Node versions, and then never fires).
 */
function deadline(ms: number, parent?: AbortSignal): { signal: AbortSignal; timedOut: AbortSignal; clear: () => void } {
	const controller = new AbortController();
	const timed = new AbortController();
	const timer = setTimeout(() => {
		const reason = new DOMException('The time limit passed', 'TimeoutError');
		timed.abort(reason);
		controller.abort(reason);
	}, ms);
	const onAbort = () => controller.abort(parent?.reason);
	if (parent?.aborted) onAbort();
	else parent?.addEventListener('abort', onAbort, { once: true });
	return {
		signal: controller.signal,
		timedOut: timed.signal,
		clear: () => {
			clearTimeout(timer);
			parent?.removeEventListener('abort', onAbort);
		}
	};
}

/** `call`, or a copy with a fresh id when its id is empty, too long or taken already in `ids` (to which its id is added). */
function ownId(call: ToolCall, ids: Set<string>): ToolCall {
	let id = call.id;
	if (id === '' || id.length > ToolLimits.maxCallId || ids.has(id)) {
		for (let n = ids.size; ids.has((id = `call_loop_${n}`)); n++);
	}
	ids.add(id);
	return id === call.id ? call : { ...call, id };
}

/** `result` with its content cut to {@link MAX_TOOL_RESULT_BYTES} (a line says so), and text whatever the tool returned. */
function boundedResult(name: string, result: ToolResult): ToolResult {
	const content = typeof result.content === 'string' ? result.content : String(result.content);
	const isError = result.isError === true ? { isError: true } : {};
	if (byteLength(content) <= MAX_TOOL_RESULT_BYTES) return { content, ...isError };
	const note = `\n[Cut: ${name} returned more than ${MAX_TOOL_RESULT_BYTES / 1024} KiB.]`;
	return { content: cutToBytes(content, MAX_TOOL_RESULT_BYTES - byteLength(note)) + note, ...isError };
}

/** Runs one tool within its time limit; a failure becomes an error result the model sees. */
async function runTool(tool: RunnableTool, args: Record<string, unknown>, signal: AbortSignal, limitMs: number): Promise<ToolResult> {
	const { signal: own, timedOut, clear } = deadline(limitMs, signal);
	try {
		const result = await new Promise<ToolResult>((resolve, reject) => {
			const onAbort = () => reject(own.reason);
			own.addEventListener('abort', onAbort, { once: true });
			tool.run(args, own).then(resolve, reject).finally(() => own.removeEventListener('abort', onAbort));
		});
		return boundedResult(tool.spec.name, result);
	} catch (error) {
		signal.throwIfAborted();
		if (timedOut.aborted) return { content: `${tool.spec.name} did not finish within ${Math.round(limitMs / 1000)} s.`, isError: true };
		return boundedResult(tool.spec.name, { content: `${tool.spec.name} failed: ${error instanceof Error ? error.message : String(error)}`, isError: true });
	} finally {
		clear();
	}
}

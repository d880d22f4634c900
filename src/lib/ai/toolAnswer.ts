/**
 * An answer that may use tools, written where every member watching sees the tools being
 * used: the tool loop (tools/toolLoop.ts) drives the engine, and each call is kept as a step of
 * the answer's entry (an AI-thread message or a channel's live answer): running, waiting for
 * approval, then its result. The answer's text chunks pass through to its sink (answerSink.ts).
 */
import * as Y from 'yjs';
import { AiStepLimits, clipStep } from '../doc/aiSteps.js';
import type { ToolStep } from '../doc/schema.js';
import type { GenerateChunk, GenerateRequest, Engine } from './engine.js';
import { runToolLoop, type Approval, type RunnableTool } from './tools/toolLoop.js';
import type { ToolCall, ToolChoice } from './tools/types.js';

/** What {@link toolAnswer} needs. */
export interface ToolAnswerInit {
	engine: Engine;
	request: GenerateRequest;
	tools: readonly RunnableTool[];
	/** Whether the model may, must or must not call a tool at its first step (default `auto`). */
	toolChoice?: ToolChoice | undefined;
	/** Asks the user about a call of a tool that changes something. */
	approve?: ((call: ToolCall, tool: RunnableTool) => Promise<Approval>) | undefined;
	/** Most generations (toolLoop.ts's default when absent). */
	maxSteps?: number | undefined;
	signal?: AbortSignal | undefined;
	/** The entry the steps are written into (under `steps`); none: the steps are not kept. */
	entry: Y.Map<unknown> | undefined;
	doc: Y.Doc;
	/** Transaction origin of the step writes. */
	origin: unknown;
	onQueued: (position: number) => void;
}

/** The answer's text chunks through the tool loop, its steps written as they change; see the module comment. */
export async function* toolAnswer(init: ToolAnswerInit): AsyncGenerator<GenerateChunk> {
	const { doc, entry, origin } = init;
	const steps = new Y.Array<ToolStep>();
	doc.transact(() => entry?.set('steps', steps), origin);
	const update = (id: string, change: Partial<ToolStep>) => {
		const index = steps.toArray().findIndex((s) => s.id === id);
		if (index < 0) return;
		const next = clipStep({ ...steps.get(index), ...change });
		doc.transact(() => {
			steps.delete(index, 1);
			steps.insert(index, [next]);
		}, origin);
	};
	const loop = runToolLoop({
		engine: init.engine,
		request: { ...init.request, ...(init.toolChoice ? { toolChoice: init.toolChoice } : {}) },
		tools: init.tools,
		...(init.approve ? { approve: init.approve } : {}),
		...(init.maxSteps !== undefined ? { maxSteps: init.maxSteps } : {}),
		...(init.signal ? { signal: init.signal } : {}),
		options: { onQueued: init.onQueued }
	});
	for await (const event of loop) {
		switch (event.type) {
			case 'text':
			case 'done':
				yield event;
				break;
			case 'tool-call':
				if (steps.length < AiStepLimits.maxSteps)
					doc.transact(() => steps.push([clipStep({ id: event.call.id, name: event.call.name, arguments: event.call.arguments, status: 'running' })]), origin);
				break;
			case 'approval':
				update(event.call.id, { status: 'approval' });
				break;
			case 'tool-result':
				update(event.call.id, {
					status: event.denied ? 'denied' : event.result.isError ? 'error' : 'done',
					result: event.result.content,
					ms: event.ms
				});
				break;
			case 'step':
				break;
		}
	}
}

/**
 * An answer that may use tools, written where every member watching sees the tools being
 * used: the tool loop (tools/toolLoop.ts) drives the engine, and each call is kept as a step of
 * the answer's entry (an AI-thread message or a channel's live answer): running, waiting for
 * approval, then its result. The answer's text chunks pass through to its sink (answerSink.ts).
 *
 * The entry is shared and any member's replica may write it, so the steps are kept here as the
 * loop reports them and only shown in the entry: each change is made to this list and written
 * over the step in the entry (or over all of them, should the entry's list no longer hold it),
 * and the sink gets this list for the answer's signed end (`onSteps`), never the entry's.
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
	/** Told the steps as this loop has them after each change (the sink signs these: answerSink.ts `useSteps`). */
	onSteps?: ((steps: readonly ToolStep[]) => void) | undefined;
	onQueued: (position: number) => void;
}

/** The answer's text chunks through the tool loop, its steps written as they change; see the module comment. */
export async function* toolAnswer(init: ToolAnswerInit): AsyncGenerator<GenerateChunk> {
	const { doc, entry, origin } = init;
	const steps = new Y.Array<ToolStep>();
	doc.transact(() => entry?.set('steps', steps), origin);
	/** The steps as this loop has them (the entry's may have been written by anyone). */
	const own: ToolStep[] = [];
	/** Shows step `index` of {@link own} in the entry, and tells the sink. */
	const show = (index: number, added: boolean) => {
		init.onSteps?.(own.slice());
		if (entry === undefined) return;
		const shown = steps.toArray();
		const at = added ? -1 : shown.findIndex((s) => (s as Partial<ToolStep> | null)?.id === own[index]!.id);
		doc.transact(() => {
			if (added && shown.length === index) {
				steps.push([own[index]!]);
			} else if (at >= 0) {
				steps.delete(at, 1);
				steps.insert(at, [own[index]!]);
			} else {
				steps.delete(0, steps.length);
				steps.insert(0, own.slice());
			}
		}, origin);
	};
	const update = (id: string, change: Partial<ToolStep>) => {
		const index = own.findIndex((s) => s.id === id);
		if (index < 0) return;
		own[index] = clipStep({ ...own[index]!, ...change });
		show(index, false);
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
				if (own.length < AiStepLimits.maxSteps) {
					own.push(clipStep({ id: event.call.id, name: event.call.name, arguments: event.call.arguments, status: 'running' }));
					show(own.length - 1, true);
				}
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

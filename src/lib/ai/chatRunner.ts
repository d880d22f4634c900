/**
 * Runs one answer of an AI chat into its document: the assistant message is appended first
 * (status `streaming`), every text chunk the engine yields is inserted into its Y.Text as it
 * arrives (so every peer with the document watches the answer being written), and the end
 * is recorded: `done` with the usage trace (who asked, which model and peer served it,
 * tokens in and out, time to first token, tokens per second), `cancelled` when the asker
 * stopped it, `failed` with the reason otherwise. Text already written is kept in every case
 * (an interrupted answer stays readable).
 *
 * When the engine's host writes answers itself (the mesh engine: {@link Engine.writesTargets})
 * and the thread's document id is given, the asker only appends the message (status
 * `queued`) and the host writes everything else into it, so the answer survives the asker
 * closing the app; the asker then writes only a failure the host could not record (the host
 * went away, or refused before starting).
 */
import { AiRole, type AiThreadDoc } from '../doc/AiThreadDoc.js';
import { AiStatus } from '../doc/schema.js';
import { failureText, type ChatMessage, type Engine, type GenerateChunk, type GenerateRequest } from './engine.js';
import { pumpAnswer, threadSink, type AnswerResult, type AnswerSigner } from './answerSink.js';
import { AiRecordKind, type SourceRef, type ToolStep } from '../doc/schema.js';
import { signAiRecord } from '../doc/signature.js';
import type { Approval, RunnableTool } from './tools/toolLoop.js';
import { toolAnswer } from './toolAnswer.js';
import type { ToolCall, ToolChoice } from './tools/types.js';

export type { AnswerResult } from './answerSink.js';

/** What {@link runAnswer} needs. */
export interface RunAnswerInit {
	thread: AiThreadDoc;
	engine: Engine;
	model: string;
	/** Peer id of the member who asked. */
	askedBy: string;
	/**
	 * The id of the signed question answered, which names the model and the answer's writer
	 * (schema.ts `AskTarget`): without it, the answer does not show as asked by `askedBy`.
	 */
	question?: string;
	/** Peer id of the peer whose engine answers. */
	servedBy: string;
	/** Id and clock of the new assistant message. */
	id: string;
	hlc: string;
	/** Transaction origin of the writes (the app's local origin, so they sync). */
	origin?: unknown;
	signal?: AbortSignal;
	maxTokens?: number;
	temperature?: number;
	/** Clock for the stats; default `performance.now`. */
	now?: () => number;
	/** The thread's document id: lets a host that writes answers itself write this one. */
	docId?: string;
	/**
	 * This device: signs the answer when the model runs here, and the failure a host could
	 * not record. Without it the answer stays an unsigned live entry.
	 */
	signer?: AnswerSigner;
	/**
	 * Tools the model may call (tools/toolLoop.ts). The loop runs here, on the asker's device:
	 * the answer is then written here, never by its host.
	 */
	tools?: readonly RunnableTool[];
	/** Whether the model may, must or must not call a tool at its first step (default `auto`). */
	toolChoice?: ToolChoice;
	/** Asks the user about a call of a tool that changes something. */
	approve?: (call: ToolCall, tool: RunnableTool) => Promise<Approval>;
	/** Most generations of a tool loop (toolLoop.ts's default when absent). */
	maxSteps?: number;
	/**
	 * Workspace knowledge for this answer: a system message with the numbered sources (put
	 * right before the last question) and the sources themselves, recorded with the answer.
	 */
	knowledge?: { message: ChatMessage; sources: SourceRef[] };
}

/** The conversation so far as engine messages: the system prompt, then finished turns. */
export function conversation(thread: AiThreadDoc): ChatMessage[] {
	const out: ChatMessage[] = [];
	const system = thread.systemPrompt.trim();
	if (system) out.push({ role: 'system', content: system });
	for (const message of thread.list()) {
		if (message.role === AiRole.system) continue;
		// Answers that never started say nothing; cut-off ones still give the model context.
		if (message.role === AiRole.assistant && message.text === '') continue;
		out.push({ role: message.role, content: message.text });
	}
	return out;
}

/** Streams an answer into the thread; see the module comment. Never throws. */
export async function runAnswer(init: RunAnswerInit): Promise<AnswerResult> {
	const { thread, engine, origin } = init;
	const messages = conversation(thread);
	if (init.knowledge) {
		const last = messages.findLastIndex((m) => m.role === 'user');
		messages.splice(last < 0 ? messages.length : last, 0, init.knowledge.message);
	}
	const request: GenerateRequest = {
		model: init.model,
		messages,
		...(init.maxTokens !== undefined ? { maxTokens: init.maxTokens } : {}),
		...(init.temperature !== undefined ? { temperature: init.temperature } : {})
	};
	const tools = init.tools ?? [];
	const hostWrites = engine.writesTargets === true && init.docId !== undefined && tools.length === 0;
	thread.doc.transact(() => {
		const entry = thread.append({
			id: init.id,
			role: AiRole.assistant,
			hlc: init.hlc,
			// Who writes it: the host, or this device when the model or its tool loop runs here (it signs the end).
			author: hostWrites || init.signer === undefined ? init.servedBy : init.signer.peerId,
			askedBy: init.askedBy,
			...(init.question !== undefined ? { question: init.question } : {}),
			model: init.model,
			status: hostWrites ? AiStatus.queued : AiStatus.streaming,
			text: ''
		});
		if (init.knowledge?.sources.length) entry.set('sources', init.knowledge.sources);
	}, origin);
	const facts = { askedBy: init.askedBy, model: init.model, hlc: init.hlc, ...(init.question !== undefined ? { question: init.question } : {}), ...(init.knowledge ? { sources: init.knowledge.sources } : {}) };
	const sink = threadSink(thread, init.id, origin, hostWrites ? undefined : init.signer, facts)!;
	const options = { ...(init.signal ? { signal: init.signal } : {}), ...(init.now ? { now: init.now } : {}) };
	if (tools.length > 0) {
		const { toolChoice, approve, maxSteps, signal } = init;
		const loop = { engine, request, tools, toolChoice, approve, maxSteps, signal };
		const steps = { entry: thread.entry(init.id), doc: thread.doc, origin, onSteps: (own: readonly ToolStep[]) => sink.useSteps(own) };
		return pumpAnswer(({ onQueued }) => toolAnswer({ ...loop, ...steps, onQueued }), sink, options);
	}
	if (!hostWrites) return pumpAnswer(({ onQueued }) => engine.generate(request, init.signal, { onQueued }), sink, options);
	return hostWritten(init, request, sink.text.bind(sink));
}

/**
 * The asker's side of an answer its host writes: follows the stream, and records only what
 * the host cannot (it went away mid-answer, or refused): the text the host wrote stays.
 */
async function hostWritten(init: RunAnswerInit, request: GenerateRequest, text: () => string): Promise<AnswerResult> {
	const { thread, origin } = init;
	const target = { kind: 'ai-thread' as const, docId: init.docId!, entryId: init.id };
	let streamed = '';
	let done: Extract<GenerateChunk, { type: 'done' }> | undefined;
	try {
		// While it waits at a busy host, the place in the queue is shown (the host clears it when it starts).
		const onQueued = (position: number) => {
			if (streamed === '') setQueued(thread, init.id, position, origin);
		};
		for await (const chunk of init.engine.generate(request, init.signal, { target, onQueued })) {
			if (chunk.type === 'text') streamed += chunk.text;
			else if (chunk.type === 'done') done = chunk;
		}
		if (done) return { status: AiStatus.done, text: streamed };
		throw new Error('the model ended without finishing');
	} catch (error) {
		if (init.signal?.aborted) {
			// The host records the cancellation; say it here too, in case it never heard.
			setStatus(thread, init.id, { status: AiStatus.cancelled }, origin);
			await recordEnd(init, { status: AiStatus.cancelled, text: text() || streamed });
			return { status: AiStatus.cancelled, text: text() || streamed };
		}
		const message = failureText(error);
		setStatus(thread, init.id, { status: AiStatus.failed, error: message }, origin);
		await recordEnd(init, { status: AiStatus.failed, text: text() || streamed, error: message });
		return { status: AiStatus.failed, text: text() || streamed, error: message };
	}
}

/** Signs the end of an answer its host did not record (it went away, or refused), unless it did after all. */
async function recordEnd(init: RunAnswerInit, end: AnswerResult): Promise<void> {
	const { thread, signer } = init;
	if (signer === undefined || thread.answerRecord(init.id) !== undefined) return;
	const record = await signAiRecord(signer.key, {
		kind: AiRecordKind.answer,
		id: init.id,
		author: signer.peerId,
		hlc: init.hlc,
		text: end.text,
		model: init.model,
		askedBy: init.askedBy,
		...(init.question !== undefined ? { question: init.question } : {}),
		status: end.status,
		...(end.error !== undefined ? { error: end.error } : {})
	}, thread.id);
	if (thread.answerRecord(init.id) === undefined) thread.doc.transact(() => thread.addRecord(record), init.origin);
}

function setQueued(thread: AiThreadDoc, id: string, position: number, origin: unknown): void {
	const entry = thread.entry(id);
	if (!entry || entry.get('status') !== AiStatus.queued || entry.get('queuePosition') === position) return;
	thread.doc.transact(() => entry.set('queuePosition', position), origin);
}

/** Records an end the host could not, unless the host already recorded one. */
function setStatus(thread: AiThreadDoc, id: string, end: { status: AiStatus; error?: string }, origin: unknown): void {
	const entry = thread.entry(id);
	if (!entry) return;
	const status = entry.get('status');
	if (status === AiStatus.done || status === AiStatus.failed || status === AiStatus.cancelled) return;
	thread.doc.transact(() => {
		entry.set('status', end.status);
		entry.delete('queuePosition');
		if (end.error) entry.set('error', end.error);
	}, origin);
}

/**
 * Runs one answer of an AI chat into its document: the assistant message is appended first
 * (status `streaming`), every text chunk the engine yields is inserted into its Y.Text as it
 * arrives (so every peer with the document watches the answer being written), and the end
 * is recorded: `done` with the usage trace (who asked, which model and peer served it,
 * tokens in and out, time to first token, tokens per second), `cancelled` when the asker
 * stopped it, `failed` with the reason otherwise. Text already written is kept in every case
 * (an interrupted answer stays readable). The host of a model runs this itself, so an answer
 * survives the asker closing the app.
 */
import { AiRole, type AiThreadDoc } from '../doc/AiThreadDoc.js';
import { AiStatus, type GenerationStats } from '../doc/schema.js';
import type { ChatMessage, Engine, GenerateRequest } from './engine.js';
import * as Y from 'yjs';

/** What {@link runAnswer} needs. */
export interface RunAnswerInit {
	thread: AiThreadDoc;
	engine: Engine;
	model: string;
	/** Peer id of the member who asked. */
	askedBy: string;
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
}

/** How an answer ended. */
export interface AnswerResult {
	status: AiStatus;
	text: string;
	stats?: GenerationStats;
	error?: string;
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
	const now = init.now ?? (() => performance.now());
	const request: GenerateRequest = {
		model: init.model,
		messages: conversation(thread),
		...(init.maxTokens !== undefined ? { maxTokens: init.maxTokens } : {}),
		...(init.temperature !== undefined ? { temperature: init.temperature } : {})
	};
	let entry: Y.Map<unknown> | undefined;
	thread.doc.transact(() => {
		entry = thread.append({
			id: init.id,
			role: AiRole.assistant,
			hlc: init.hlc,
			author: init.servedBy,
			askedBy: init.askedBy,
			model: init.model,
			status: AiStatus.streaming,
			text: ''
		});
	}, origin);
	const text = entry!.get('text') as Y.Text;
	const started = now();
	let firstAt: number | undefined;
	const finish = (result: AnswerResult): AnswerResult => {
		thread.doc.transact(() => {
			entry!.set('status', result.status);
			entry!.delete('queuePosition');
			if (result.stats) entry!.set('stats', result.stats);
			if (result.error) entry!.set('error', result.error);
		}, origin);
		return result;
	};
	try {
		// A busy host says how many requests are ahead of this one: shown until it starts.
		const onQueued = (position: number) => {
			if (firstAt !== undefined) return;
			thread.doc.transact(() => {
				entry!.set('status', AiStatus.queued);
				entry!.set('queuePosition', position);
			}, origin);
		};
		for await (const chunk of engine.generate(request, init.signal, { onQueued })) {
			if (chunk.type === 'text') {
				if (chunk.text === '') continue;
				thread.doc.transact(() => {
					if (firstAt === undefined && entry!.get('status') !== AiStatus.streaming) {
						entry!.set('status', AiStatus.streaming);
						entry!.delete('queuePosition');
					}
					text.insert(text.length, chunk.text);
				}, origin);
				firstAt ??= now();
				continue;
			}
			const end = now();
			const ttftMs = Math.round((firstAt ?? end) - started);
			const seconds = (end - (firstAt ?? started)) / 1000;
			const stats: GenerationStats = {
				tokensIn: chunk.promptTokens,
				tokensOut: chunk.completionTokens,
				ttftMs,
				tokensPerSecond: seconds > 0 ? Math.round((chunk.completionTokens / seconds) * 10) / 10 : 0
			};
			return finish({ status: AiStatus.done, text: text.toString(), stats });
		}
		return finish({ status: AiStatus.failed, text: text.toString(), error: 'the model ended without finishing' });
	} catch (error) {
		if (init.signal?.aborted) return finish({ status: AiStatus.cancelled, text: text.toString() });
		const message = error instanceof Error ? error.message : String(error);
		return finish({ status: AiStatus.failed, text: text.toString(), error: message.slice(0, 500) });
	}
}

/**
 * The one interface every model runtime implements (DESIGN.md "Models on the mesh"):
 * wllama and WebLLM in the browser, node-llama-cpp and an OpenAI-compatible upstream on the
 * relay, and the mesh engine that reaches another peer's engine over a libp2p stream. The
 * UI, the mesh host and the relay's HTTP API only ever talk to this interface.
 *
 * A generation is an async iterable of chunks: text deltas as they are produced, then one
 * final chunk with the token counts and why it stopped. Aborting the signal stops the
 * runtime's work (not just the iteration) and ends the iterable with an AbortError.
 */

import type { ToolCall, ToolChoice, ToolSpec } from './tools/types.js';

/** Where a model runs, for the model picker. */
export type EngineKind = 'wllama' | 'webllm' | 'node-llama-cpp' | 'openai' | 'mesh';

/** A model an engine can run. */
export interface ModelInfo {
	/** Stable id, unique within the engine (e.g. the file name without `.gguf`). */
	id: string;
	/** Human-readable name. */
	name: string;
	engine: EngineKind;
	/** Context window in tokens. */
	contextLength: number;
	/** Measured generation speed (tokens per second), when known. */
	tokensPerSecond?: number;
}

/**
 * One message of a chat. An assistant message may carry the tool calls the model made; a
 * `tool` message is a tool's result, naming the call it answers.
 */
export interface ChatMessage {
	role: 'system' | 'user' | 'assistant' | 'tool';
	content: string;
	/** The calls an assistant message made. */
	toolCalls?: ToolCall[];
	/** The call a `tool` message answers. */
	toolCallId?: string;
}

/** What to generate. */
export interface GenerateRequest {
	model: string;
	messages: ChatMessage[];
	/** Most new tokens; the engine's default when absent. */
	maxTokens?: number;
	/** Sampling temperature; 0 is greedy. */
	temperature?: number;
	/** Strings that end the generation when produced (not included in the output). */
	stop?: string[];
	/** Seed for reproducible sampling, where the runtime supports it. */
	seed?: number;
	/** Tools the model may call (tools/types.ts); the answer then may end in `tool-call` chunks. */
	tools?: ToolSpec[];
	/** Whether it may, must or must not call one; default `auto`. */
	toolChoice?: ToolChoice;
}

/** Why a generation ended: `tool-calls` when the model called tools (the caller runs them). */
export type FinishReason = 'stop' | 'length' | 'tool-calls';

/** A piece of a streamed answer. */
export type GenerateChunk =
	| { type: 'text'; text: string }
	/** The model calls a tool; it comes after the text (if any) and before `done`. */
	| { type: 'tool-call'; call: ToolCall }
	| {
			type: 'done';
			finishReason: FinishReason;
			/** Tokens of the prompt as the model saw it (chat template applied). */
			promptTokens: number;
			completionTokens: number;
	  };

/** Optional hooks of one generation. */
export interface GenerateOptions {
	/**
	 * The request waits in the host's queue behind `position` others ("busy, N ahead of
	 * you"); called again as the position changes. Engines without a queue never call it.
	 */
	onQueued?: (position: number) => void;
	/**
	 * The document the answer belongs in. An engine that {@link Engine.writesTargets} (the
	 * mesh engine) asks its host to write the answer there itself, so it survives the asker
	 * closing the app; other engines ignore it (the caller writes).
	 */
	target?: AnswerTarget;
}

/**
 * Where a model's answer is written (PROTOCOL.md "Models on the mesh", REQUEST target): an
 * AI-thread message the asker already appended (`entryId`, status `queued`), or a new
 * model's message in a channel with id `entryId`, ordered after the question (`after`, its
 * clock) and in its thread (`parent`).
 */
export type AnswerTarget =
	| { kind: 'ai-thread'; docId: string; entryId: string }
	| { kind: 'channel'; docId: string; entryId: string; after?: string; parent?: string };

/** A model runtime; see the module comment. */
export interface Engine {
	readonly kind: EngineKind;
	/** True when a generation with `options.target` is written into that document by the engine's host. */
	readonly writesTargets?: boolean;
	/** The models this engine can run now. */
	models(): Promise<ModelInfo[]>;
	/**
	 * Streams an answer. Rejects (through the iterable) with {@link EngineError} for an
	 * unknown model, an empty or over-long prompt, or a runtime failure; with the signal's
	 * reason (an `AbortError` by default) when aborted.
	 */
	generate(request: GenerateRequest, signal?: AbortSignal, options?: GenerateOptions): AsyncIterable<GenerateChunk>;
}

/** Why an engine refused or failed a request. */
export const EngineProblem = {
	unknownModel: 'unknown-model',
	emptyInput: 'empty-input',
	inputTooLong: 'input-too-long',
	busy: 'busy',
	failed: 'failed',
	/** The team's model-access rule does not let the asker's role use this model (doc/team/modelAccess.ts). */
	notAllowed: 'not-allowed'
} as const;
export type EngineProblem = (typeof EngineProblem)[keyof typeof EngineProblem];

/** A refused or failed generation; `problem` selects the message shown to the user. */
export class EngineError extends Error {
	override name = 'EngineError';
	constructor(
		readonly problem: EngineProblem,
		message: string,
		options?: ErrorOptions
	) {
		super(message, options);
	}
}

/** Problems the app words itself in the user's language (ui/answerError.ts); `failed` keeps the runtime's text. */
export const WORDED_PROBLEMS: ReadonlySet<string> = new Set<EngineProblem>([
	EngineProblem.unknownModel,
	EngineProblem.emptyInput,
	EngineProblem.inputTooLong,
	EngineProblem.busy,
	EngineProblem.notAllowed
]);

/**
 * The `error` an answer that failed with `error` records (and signs): the problem's code for a
 * problem the app words itself ({@link WORDED_PROBLEMS}), so every reader sees it in their own
 * language; else the runtime's or host's message, cut to 500 characters.
 */
export function failureText(error: unknown): string {
	if (error instanceof EngineError && WORDED_PROBLEMS.has(error.problem)) return error.problem;
	return (error instanceof Error ? error.message : String(error)).slice(0, 500);
}

/** The problem a recorded failure text names ({@link failureText}): its code when worded, else `failed`. */
export function failureProblem(text: string | undefined): EngineProblem {
	return text !== undefined && WORDED_PROBLEMS.has(text) ? (text as EngineProblem) : EngineProblem.failed;
}

/**
 * What an in-browser engine's generation failure means for the user: the error itself when
 * it is already an {@link EngineError} (or the abort), `input-too-long` when the runtime says
 * the context overflowed (`contextOverflow`), else `failed` with the runtime's message.
 */
export function inBrowserFailure(error: unknown, contextLength: number, contextOverflow: boolean, signal?: AbortSignal): unknown {
	if ((signal?.aborted && error === signal.reason) || error instanceof EngineError) return error;
	if (contextOverflow)
		return new EngineError(
			'input-too-long',
			`The conversation is longer than this model's context of ${contextLength} tokens: shorten it or start a new chat.`,
			{ cause: error }
		);
	return new EngineError('failed', `The model failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

/**
 * What an in-browser engine (one loaded model) checks before generating: the model asked for
 * is the one loaded, and the prompt says something. Returns the loaded model; throws the
 * matching {@link EngineError}.
 */
export function checkInBrowserRequest<T extends { info: { id: string } }>(loaded: T | undefined, request: GenerateRequest): T {
	if (loaded === undefined || request.model !== loaded.info.id)
		throw new EngineError(
			'unknown-model',
			loaded !== undefined
				? `No model "${request.model}" in this browser; it runs "${loaded.info.id}".`
				: `No model "${request.model}" in this browser: load it first.`
		);
	if (request.messages.length === 0 || request.messages.every((m) => m.content.trim() === ''))
		throw new EngineError('empty-input', 'The prompt is empty: write a message first.');
	return loaded;
}

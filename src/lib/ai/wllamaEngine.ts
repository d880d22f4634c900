/**
 * The in-browser model runtime: an {@link Engine} over wllama (llama.cpp compiled to
 * WebAssembly) running one GGUF model that the relay serves (`/models/…`). wllama is
 * imported only when a model is first loaded, so it is never part of the first page load;
 * its WebAssembly comes from the relay too (`/wllama/wllama.wasm`), never from a CDN.
 *
 * It runs multithreaded only where the page is cross-origin isolated (the relay sends
 * COOP/COEP), and offloads to WebGPU when the browser has it ({@link WllamaEngine.gpuLayers}
 * says how many layers the runtime put there). Generations run one at a time; the rest wait
 * in a bounded queue. Aborting cancels the request inside the runtime.
 */
import type {
	ChatCompletionChunk,
	RawCompletionChunk,
	ResultTimings,
	Wllama
} from '@wllama/wllama/esm/index.js';
import {
	EngineError,
	checkInBrowserRequest,
	inBrowserFailure,
	type ChatMessage,
	type Engine,
	type FinishReason,
	type GenerateChunk,
	type GenerateRequest,
	type ModelInfo
} from './engine.js';
import { WLLAMA_WASM_PATH, modelIdOf } from './modelFiles.js';
import { StopMatcher } from './stopStrings.js';
import { newToolCallId, toolChunks, toolPlan } from './tools/toolPrompt.js';

/** Options of {@link WllamaEngine}. */
export interface WllamaEngineInit {
	/** URL of `wllama.wasm`; default the relay's {@link WLLAMA_WASM_PATH} on this page's origin. */
	wasmUrl?: string;
	/** Context window in tokens; at most the model's training context. Default 4096. */
	contextSize?: number;
	/** `'auto'` offloads to WebGPU when `navigator.gpu` exists; `false` runs on the CPU. */
	gpu?: 'auto' | false;
	/** CPU threads; default half the cores when cross-origin isolated, else 1. */
	threads?: number;
	/** Keep downloaded models in the origin's storage (OPFS) for offline reloads. Default true. */
	cache?: boolean;
	/** Generations that may wait behind the running one before `busy`. Default 8. */
	maxQueue?: number;
	/** `maxTokens` when a request has none. Default 512. */
	defaultMaxTokens?: number;
	/** `temperature` when a request has none. Default 0.8. */
	defaultTemperature?: number;
}

/** Bytes of a model download so far, for a progress bar. */
export interface LoadProgress {
	loaded: number;
	total: number;
}

/** Options of {@link WllamaEngine.load}. */
export interface WllamaLoadOptions {
	onProgress?: (progress: LoadProgress) => void;
	/** Cancels the download. */
	signal?: AbortSignal;
	/** Model id; default the file name without `.gguf`. */
	id?: string;
}

interface Loaded {
	wllama: Wllama;
	info: ModelInfo;
	/** Layers the runtime offloaded to the GPU (its load log's "offloaded N/M layers to GPU"). */
	gpuLayers: number;
	/** The model has a chat template (else a plain `role: content` transcript is used). */
	chat: boolean;
}

/** A streamed piece, whichever completion API produced it. */
interface Piece {
	text: string;
	finish: string | null | undefined;
	timings?: ResultTimings;
	usage?: { prompt_tokens: number; completion_tokens: number } | null;
}

/** An {@link Engine} over wllama for one model at a time; see the module comment. */
export class WllamaEngine implements Engine {
	readonly kind = 'wllama' as const;
	private loaded: Loaded | undefined;
	private readonly slot: Slot;

	constructor(private readonly init: WllamaEngineInit = {}) {
		this.slot = new Slot(init.maxQueue ?? 8);
	}

	/** The loaded model, if any. */
	get model(): ModelInfo | undefined {
		return this.loaded && { ...this.loaded.info };
	}

	/** CPU threads the loaded model runs on (more than 1 only when cross-origin isolated). */
	get threads(): number | undefined {
		return this.loaded?.wllama.getNumThreads();
	}

	/**
	 * Layers of the loaded model on the GPU (WebGPU), as the runtime reported while loading;
	 * 0 when it runs on the CPU.
	 */
	get gpuLayers(): number | undefined {
		return this.loaded?.gpuLayers;
	}

	/** Generations running or waiting (for capability adverts). */
	get queueDepth(): number {
		return this.slot.depth;
	}

	/**
	 * Downloads (or reads from the cache) and loads the model at `modelUrl`, replacing the
	 * loaded one once running generations finish. Rejects with {@link EngineError} `failed`.
	 */
	async load(modelUrl: string, options: WllamaLoadOptions = {}): Promise<ModelInfo> {
		options.signal?.throwIfAborted();
		const url = new URL(modelUrl, globalThis.location?.href).href;
		await this.slot.acquire(options.signal, true);
		try {
			await this.unloadHeld();
			const { Wllama, LogLevel } = await import('@wllama/wllama/esm/index.js');
			const wasm = new URL(this.init.wasmUrl ?? WLLAMA_WASM_PATH, globalThis.location?.href).href;
			let gpuLayers = 0;
			const logger = runtimeLogger((layers) => (gpuLayers = layers));
			const wllama = new Wllama({ default: wasm }, { logger, allowOffline: true });
			wllama.setCompat(null); // compat mode fetches from a CDN: never
			const isolated = globalThis.crossOriginIsolated === true;
			const cores = globalThis.navigator?.hardwareConcurrency ?? 1;
			const gpu = this.init.gpu !== false && globalThis.navigator !== undefined && 'gpu' in navigator;
			try {
				await wllama.loadModelFromUrl(url, {
					n_ctx: this.init.contextSize ?? 4096,
					n_threads: this.init.threads ?? (isolated ? Math.max(1, Math.floor(cores / 2)) : 1),
					n_gpu_layers: gpu ? 999 : 0,
					log_level: LogLevel.INFO, // for the offload line
					n_parallel: 1, // one generation at a time: the whole context for it
					useCache: this.init.cache ?? true,
					...(options.signal ? { signal: options.signal } : {}),
					...(options.onProgress ? { progressCallback: options.onProgress } : {})
				});
			} catch (error) {
				await wllama.exit().catch(() => undefined);
				throw error;
			}
			const context = wllama.getLoadedContextInfo();
			const id = options.id ?? modelIdOf(url);
			const info: ModelInfo = {
				id,
				name: context.metadata['general.name'] || id,
				engine: this.kind,
				// The runtime caps a request's context at the training context.
				contextLength: Math.min(context.n_ctx, context.n_ctx_train || context.n_ctx)
			};
			this.loaded = { wllama, info, gpuLayers, chat: wllama.getChatTemplate() !== null };
			return { ...info };
		} catch (error) {
			if (options.signal?.aborted) throw options.signal.reason;
			throw new EngineError('failed', `Could not load the model from ${url}: ${String(error)}`, { cause: error });
		} finally {
			this.slot.release();
		}
	}

	/** Frees the model once running generations finish; queued ones then fail. */
	async unload(): Promise<void> {
		await this.slot.acquire(undefined, true);
		try {
			await this.unloadHeld();
		} finally {
			this.slot.release();
		}
	}

	async models(): Promise<ModelInfo[]> {
		return this.loaded ? [{ ...this.loaded.info }] : [];
	}

	async *generate(request: GenerateRequest, signal?: AbortSignal): AsyncGenerator<GenerateChunk> {
		signal?.throwIfAborted();
		const loaded = checkInBrowserRequest(this.loaded, request);
		await this.slot.acquire(signal);
		try {
			if (this.loaded !== loaded)
				throw new EngineError('unknown-model', `The model "${request.model}" was unloaded from this browser.`);
			const plan = toolPlan(request);
			yield* toolChunks(this.run(loaded, { ...request, messages: plan.messages }, signal, plan.grammar), plan.tools, newToolCallId);
		} catch (error) {
			throw inBrowserFailure(error, loaded.info.contextLength, /exceeds the available context size/.test(String(error)), signal);
		} finally {
			this.slot.release();
		}
	}

	/** Generates from plain messages (tools/toolPrompt.ts made them), under `grammar` when a tool call is required. */
	private async *run(loaded: Loaded, request: GenerateRequest, signal?: AbortSignal, grammar?: string): AsyncGenerator<GenerateChunk> {
		const budget = Math.max(0, Math.floor(request.maxTokens ?? this.init.defaultMaxTokens ?? 512));
		if (budget === 0) {
			yield { type: 'done', finishReason: 'length', promptTokens: 0, completionTokens: 0 };
			return;
		}
		const inner = new AbortController();
		const pieces = new PushQueue<Piece>();
		const onAbort = () => {
			inner.abort();
			pieces.fail(signal?.reason, true);
		};
		signal?.addEventListener('abort', onAbort, { once: true });
		const sampling = {
			max_tokens: budget,
			temperature: request.temperature ?? this.init.defaultTemperature ?? 0.8,
			...(request.seed !== undefined ? { seed: request.seed } : {}),
			...(grammar !== undefined ? { grammar } : {}),
			stream: true as const,
			timings_per_token: true,
			abortSignal: inner.signal
		};
		const { wllama } = loaded;
		const running = (
			loaded.chat
				? wllama.createChatCompletion({
						...sampling,
						messages: request.messages.map((m) => ({ role: m.role === 'tool' ? ('user' as const) : m.role, content: m.content })),
						onData: (c: ChatCompletionChunk) =>
							pieces.push({ text: c.choices[0]?.delta.content ?? '', finish: c.choices[0]?.finish_reason, timings: c.timings, usage: c.usage })
					})
				: wllama.createCompletion({
						...sampling,
						prompt: transcript(request.messages),
						onData: (c: RawCompletionChunk) =>
							pieces.push({ text: c.choices[0]?.text ?? '', finish: c.choices[0]?.finish_reason, timings: c.timings, usage: c.usage })
					})
		).then(
			() => pieces.end(),
			(error: unknown) => pieces.fail(error)
		);

		const matcher = new StopMatcher([...(request.stop ?? []), ...(loaded.chat ? [] : TRANSCRIPT_STOPS)]);
		let promptTokens = 0;
		let completionTokens = 0;
		let finishReason: FinishReason = 'stop';
		let stopped = false;
		try {
			for await (const piece of pieces) {
				signal?.throwIfAborted();
				if (piece.timings) {
					promptTokens = piece.timings.cache_n + piece.timings.prompt_n;
					completionTokens = piece.timings.predicted_n;
					if (completionTokens >= 4) loaded.info.tokensPerSecond = piece.timings.predicted_per_second;
				}
				if (piece.usage) {
					promptTokens = piece.usage.prompt_tokens;
					completionTokens = piece.usage.completion_tokens;
				}
				if (piece.finish === 'length') finishReason = 'length';
				const step = matcher.push(piece.text);
				if (step.text) yield { type: 'text', text: step.text };
				if (step.stopped) {
					stopped = true;
					break;
				}
			}
		} catch (error) {
			if (signal?.aborted) throw signal.reason;
			// wllama cannot serialise a token that is not valid UTF-8 (its glue throws and the
			// token is lost); the runtime itself is fine. End the answer there instead of failing.
			if (!isUndeliverableToken(error)) throw error;
			completionTokens = Math.min(budget, completionTokens + 1);
			finishReason = 'stop';
		} finally {
			signal?.removeEventListener('abort', onAbort);
			inner.abort(); // stops the runtime when the caller stopped reading or a stop string matched
			await running;
		}
		if (!stopped) {
			const tail = matcher.flush();
			if (tail) yield { type: 'text', text: tail };
		}
		yield { type: 'done', finishReason: stopped ? 'stop' : finishReason, promptTokens, completionTokens };
	}

	private async unloadHeld(): Promise<void> {
		const loaded = this.loaded;
		this.loaded = undefined;
		await loaded?.wllama.exit().catch(() => undefined);
	}
}

/**
 * A logger for wllama that keeps the runtime's own log lines (one string each; its info lines
 * arrive as `debug`) out of the console, as `suppressNativeLog` would, but reads the line
 * saying how many layers went to the GPU: that is how the WebGPU path shows it was taken.
 * wllama's own messages, which carry their details as further arguments, pass.
 */
function runtimeLogger(onGpuLayers: (layers: number) => void): Console {
	const native =
		(pass: (...args: unknown[]) => void) =>
		(...args: unknown[]): void => {
			if (args.length !== 1 || typeof args[0] !== 'string') return pass(...args);
			const offloaded = /offloaded (\d+)\/\d+ layers to GPU/.exec(args[0]);
			if (offloaded) onGpuLayers(Number(offloaded[1]));
		};
	const drop = () => undefined;
	return { ...console, debug: native(drop), log: native(drop), warn: native(console.warn.bind(console)), error: native(console.error.bind(console)) };
}

/** Turn markers of the plain transcript, which end the answer when the model writes them. */
const TRANSCRIPT_STOPS = ['\nuser:', '\nsystem:', '\nassistant:'];

/**
 * The chat as plain text for a model without a chat template: one `role: content` line
 * per message, then `assistant:` for the answer (a trailing assistant message is continued).
 */
export function transcript(messages: readonly ChatMessage[]): string {
	const lines = messages.map((m) => `${m.role}: ${m.content}`).join('\n');
	return messages.at(-1)?.role === 'assistant' ? lines : `${lines}\nassistant:`;
}

/** The glue read a garbage result length: the runtime threw while serialising a token. */
function isUndeliverableToken(error: unknown): boolean {
	return error instanceof Error && error.name === 'RuntimeError' && /Invalid typed array length/.test(error.message);
}

/** One holder at a time, a bounded queue of waiters; see {@link WllamaEngine}. */
class Slot {
	private active = false;
	private readonly waiters: { wake: () => void }[] = [];

	constructor(private readonly maxQueue: number) {}

	get depth(): number {
		return this.waiters.length + (this.active ? 1 : 0);
	}

	/** Waits for the slot; `busy` when the queue is full (unless `force`: loading a model). */
	async acquire(signal?: AbortSignal, force = false): Promise<void> {
		if (!this.active) {
			this.active = true;
			return;
		}
		if (!force && this.waiters.length >= this.maxQueue)
			throw new EngineError('busy', `The model is busy: ${this.waiters.length + 1} requests ahead of you. Try again shortly.`);
		await new Promise<void>((resolve, reject) => {
			const waiter = {
				wake: () => {
					signal?.removeEventListener('abort', onAbort);
					resolve();
				}
			};
			const onAbort = () => {
				this.waiters.splice(this.waiters.indexOf(waiter), 1);
				reject(signal?.reason);
			};
			this.waiters.push(waiter);
			signal?.addEventListener('abort', onAbort, { once: true });
		});
	}

	/** Hands the slot to the next waiter (it stays active) or frees it. */
	release(): void {
		const next = this.waiters.shift();
		if (next) next.wake();
		else this.active = false;
	}
}

/** An async iterable fed by callbacks: values in order, then the end or an error. */
class PushQueue<T> implements AsyncIterable<T> {
	private readonly values: T[] = [];
	private ended = false;
	private error: { reason: unknown } | undefined;
	private wake: (() => void) | undefined;

	push(value: T): void {
		if (this.ended) return;
		this.values.push(value);
		this.notify();
	}

	end(): void {
		this.ended = true;
		this.notify();
	}

	/** Ends with an error: after the values already pushed, or before them when `immediate`. */
	fail(reason: unknown, immediate = false): void {
		if (this.ended && !immediate) return;
		if (immediate) this.values.length = 0;
		this.error ??= { reason };
		this.ended = true;
		this.notify();
	}

	async *[Symbol.asyncIterator](): AsyncIterator<T> {
		for (;;) {
			if (this.error && this.values.length === 0) throw this.error.reason;
			const value = this.values.shift();
			if (value !== undefined) {
				yield value;
				continue;
			}
			if (this.ended) return;
			await new Promise<void>((resolve) => (this.wake = resolve));
		}
	}

	private notify(): void {
		const wake = this.wake;
		this.wake = undefined;
		wake?.();
	}
}

/**
 * The WebGPU model runtime: an {@link Engine} over WebLLM (MLC's compiled models on WebGPU)
 * running one MLC model directory that the relay serves (`/models/<dir>/resolve/main/…`).
 * WebLLM is imported only when a model is first loaded, so it is never part of the first
 * page load, and it is configured with an `AppConfig` naming only that model at the relay's
 * URLs (webllmConfig.ts): its built-in model list, which points at huggingface.co and
 * GitHub, is never used, and nothing is fetched from anywhere but the relay.
 *
 * Generations run one at a time (WebLLM has one pipeline per model); the rest wait in a
 * bounded queue. Aborting interrupts the generation inside WebLLM.
 */
import type {
	ChatCompletionChunk,
	ChatCompletionRequestStreaming,
	InitProgressReport,
	MLCEngine,
	MLCEngineConfig
} from '@mlc-ai/web-llm';
import {
	EngineError,
	checkInBrowserRequest,
	inBrowserFailure,
	type Engine,
	type FinishReason,
	type GenerateChunk,
	type GenerateRequest,
	type ModelInfo
} from './engine.js';
import type { ModelFile } from './modelFiles.js';
import { webllmAppConfig } from './webllmConfig.js';
import { newToolCallId, toolChunks, toolPlan } from './tools/toolPrompt.js';

/** Options of {@link WebllmEngine}. */
export interface WebllmEngineInit {
	/** The relay's origin; default this page's. */
	relay?: string;
	/** Generations that may wait behind the running one before `busy`. Default 8. */
	maxQueue?: number;
	/** `maxTokens` when a request has none. Default 512. */
	defaultMaxTokens?: number;
	/** `temperature` when a request has none. Default 0.8. */
	defaultTemperature?: number;
	/**
	 * Imports the WebLLM runtime; default `import('@mlc-ai/web-llm')`. Tests in Node, where
	 * WebGPU and a compiled model are unavailable, pass a scripted stand-in.
	 */
	runtime?: () => Promise<{ MLCEngine: new (config: MLCEngineConfig) => WebllmRuntime }>;
}

/** The part of WebLLM's `MLCEngine` this engine uses. */
export type WebllmRuntime = Pick<MLCEngine, 'reload' | 'unload' | 'interruptGenerate'> & {
	chat: { completions: { create(request: ChatCompletionRequestStreaming): Promise<AsyncIterable<ChatCompletionChunk>> } };
};

/** Loading progress: a fraction from 0 to 1 and WebLLM's description of the step. */
export interface WebllmProgress {
	progress: number;
	text: string;
}

/** Options of {@link WebllmEngine.load}. */
export interface WebllmLoadOptions {
	onProgress?: (progress: WebllmProgress) => void;
	/** Cancels loading. */
	signal?: AbortSignal;
}

interface Loaded {
	engine: WebllmRuntime;
	info: ModelInfo;
}

/** An {@link Engine} over WebLLM for one model at a time; see the module comment. */
export class WebllmEngine implements Engine {
	readonly kind = 'webllm' as const;
	private loaded: Loaded | undefined;
	/** The running generation's end, which the next one waits for. */
	private tail: Promise<void> = Promise.resolve();
	private waiting = 0;
	private running = false;

	constructor(private readonly init: WebllmEngineInit = {}) {}

	/** The loaded model, if any. */
	get model(): ModelInfo | undefined {
		return this.loaded && { ...this.loaded.info };
	}

	/** Generations running or waiting (for capability adverts). */
	get queueDepth(): number {
		return this.waiting + (this.running ? 1 : 0);
	}

	/**
	 * Loads the MLC model `file` (an entry of the relay's `/models/` listing), replacing the
	 * loaded one. Rejects with {@link EngineError} `failed` saying what went wrong (no WebGPU,
	 * a missing or invalid file on the relay, a URL outside the relay).
	 */
	async load(file: Pick<ModelFile, 'id' | 'name' | 'url' | 'format' | 'modelLib'>, options: WebllmLoadOptions = {}): Promise<ModelInfo> {
		options.signal?.throwIfAborted();
		let engine: WebllmRuntime | undefined;
		const onAbort = () => void engine?.unload().catch(() => undefined);
		options.signal?.addEventListener('abort', onAbort, { once: true });
		try {
			const relay = this.init.relay ?? globalThis.location?.origin;
			if (!relay) throw new Error('no relay to load the model from');
			const appConfig = webllmAppConfig(file, relay);
			// Read first, so a missing or broken model says so before WebLLM (and the GPU) start.
			const contextLength = contextOf(await readChatConfig(appConfig.model_list[0]!.model, options.signal));
			await this.unload();
			const { MLCEngine } = await (this.init.runtime ?? (() => import('@mlc-ai/web-llm')))();
			engine = new MLCEngine({
				appConfig,
				logLevel: 'WARN',
				initProgressCallback: (report: InitProgressReport) => options.onProgress?.({ progress: report.progress, text: report.text })
			});
			// WebLLM's own abort of a reload returns quietly: the signal is checked after it.
			await engine.reload(file.id);
			options.signal?.throwIfAborted();
			const info: ModelInfo = { id: file.id, name: file.name || file.id, engine: this.kind, contextLength };
			this.loaded = { engine, info };
			return { ...info };
		} catch (error) {
			await engine?.unload().catch(() => undefined);
			if (options.signal?.aborted) throw options.signal.reason;
			throw new EngineError('failed', loadFailure(file.id, error), { cause: error });
		} finally {
			options.signal?.removeEventListener('abort', onAbort);
		}
	}

	/** Frees the model (after the running generation is interrupted). */
	async unload(): Promise<void> {
		const loaded = this.loaded;
		this.loaded = undefined;
		if (loaded === undefined) return;
		await loaded.engine.interruptGenerate().catch(() => undefined);
		await loaded.engine.unload().catch(() => undefined);
	}

	async models(): Promise<ModelInfo[]> {
		return this.loaded ? [{ ...this.loaded.info }] : [];
	}

	async *generate(request: GenerateRequest, signal?: AbortSignal): AsyncGenerator<GenerateChunk> {
		signal?.throwIfAborted();
		const loaded = checkInBrowserRequest(this.loaded, request);
		if (this.waiting >= (this.init.maxQueue ?? 8))
			throw new EngineError('busy', `The model is busy: ${this.waiting + 1} requests ahead of you. Try again shortly.`);
		const before = this.tail;
		let finish = () => {};
		this.tail = new Promise<void>((resolve) => (finish = resolve));
		this.waiting++;
		try {
			await waitOrAbort(before, signal);
		} catch (error) {
			this.waiting--;
			void before.then(finish);
			throw error;
		}
		this.waiting--;
		this.running = true;
		try {
			if (this.loaded !== loaded) throw new EngineError('unknown-model', `The model "${request.model}" was unloaded from this browser.`);
			const plan = toolPlan(request);
			yield* toolChunks(this.run(loaded, { ...request, messages: plan.messages }, signal, plan.grammar), plan.tools, newToolCallId);
		} catch (error) {
			throw inBrowserFailure(error, loaded.info.contextLength, error instanceof Error && error.name === 'ContextWindowSizeExceededError', signal);
		} finally {
			this.running = false;
			finish();
		}
	}

	/** Generates from plain messages (tools/toolPrompt.ts made them), under `grammar` (xgrammar takes GBNF) when a tool call is required. */
	private async *run(loaded: Loaded, request: GenerateRequest, signal?: AbortSignal, grammar?: string): AsyncGenerator<GenerateChunk> {
		const budget = Math.max(0, Math.floor(request.maxTokens ?? this.init.defaultMaxTokens ?? 512));
		if (budget === 0) {
			yield { type: 'done', finishReason: 'length', promptTokens: 0, completionTokens: 0 };
			return;
		}
		const { engine } = loaded;
		const onAbort = () => void engine.interruptGenerate().catch(() => undefined);
		signal?.addEventListener('abort', onAbort, { once: true });
		let promptTokens = 0;
		let completionTokens = 0;
		let finishReason: FinishReason = 'stop';
		const started = performance.now();
		try {
			const chunks: AsyncIterable<ChatCompletionChunk> = await engine.chat.completions.create({
				messages: request.messages.map((m) => ({ role: m.role === 'tool' ? ('user' as const) : m.role, content: m.content })),
				...(grammar !== undefined ? { response_format: { type: 'grammar' as const, grammar } } : {}),
				stream: true,
				stream_options: { include_usage: true },
				max_tokens: budget,
				temperature: request.temperature ?? this.init.defaultTemperature ?? 0.8,
				...(request.stop?.length ? { stop: request.stop } : {}),
				...(request.seed !== undefined ? { seed: request.seed } : {})
			});
			for await (const chunk of chunks) {
				signal?.throwIfAborted();
				const choice = chunk.choices[0];
				const text = choice?.delta.content ?? '';
				if (text) yield { type: 'text', text };
				if (choice?.finish_reason === 'length') finishReason = 'length';
				if (chunk.usage) {
					promptTokens = chunk.usage.prompt_tokens;
					completionTokens = chunk.usage.completion_tokens;
				}
			}
			// An interrupted generation ends its stream quietly: the caller asked to stop.
			signal?.throwIfAborted();
		} finally {
			signal?.removeEventListener('abort', onAbort);
		}
		const seconds = (performance.now() - started) / 1000;
		if (completionTokens >= 4 && seconds > 0) loaded.info.tokensPerSecond = completionTokens / seconds;
		yield { type: 'done', finishReason, promptTokens, completionTokens };
	}
}

/** The model's `mlc-chat-config.json` from the relay. */
async function readChatConfig(base: string, signal?: AbortSignal): Promise<unknown> {
	const url = new URL('mlc-chat-config.json', base).href;
	const response = await fetch(url, { ...(signal ? { signal } : {}) });
	if (!response.ok) throw new ModelFileError(`mlc-chat-config.json is missing on the relay (HTTP ${response.status})`);
	try {
		return await response.json();
	} catch {
		throw new ModelFileError('mlc-chat-config.json on the relay is not valid JSON');
	}
}

/** A model file on the relay is missing or unreadable. */
class ModelFileError extends Error {
	override name = 'ModelFileError';
}

/** The model's context window from its chat config (`context_window_size`), 4096 when it gives none. */
function contextOf(config: unknown): number {
	const size = typeof config === 'object' && config !== null ? (config as { context_window_size?: unknown }).context_window_size : undefined;
	return typeof size === 'number' && size > 0 ? size : 4096;
}

/** Waits for `before`, or rejects with the signal's reason when it is aborted first. */
function waitOrAbort(before: Promise<void>, signal?: AbortSignal): Promise<void> {
	if (signal === undefined) return before;
	signal.throwIfAborted();
	return new Promise<void>((resolve, reject) => {
		const onAbort = () => reject(signal.reason);
		signal.addEventListener('abort', onAbort, { once: true });
		void before.then(() => {
			signal.removeEventListener('abort', onAbort);
			resolve();
		});
	});
}

/** Why a load failed, in words that say what to do. */
export function loadFailure(id: string, error: unknown): string {
	const name = error instanceof Error ? error.name : '';
	if (name === 'RemoteModelError') return errorText(error);
	if (name === 'WebGPUNotAvailableError' || name === 'WebGPUNotFoundError')
		return `"${id}" needs WebGPU, which this browser does not offer: load a GGUF model instead (it runs on the CPU).`;
	if (name === 'ShaderF16SupportError' || name === 'FeatureSupportError')
		return `This browser's GPU lacks a feature "${id}" needs (${errorText(error)}): load a model compiled for f32 instead.`;
	if (name === 'DeviceLostError') return `The GPU gave up while loading "${id}" (too little GPU memory?): try a smaller model.`;
	return `Could not load "${id}" from the relay: its files are missing or invalid (${errorText(error)}).`;
}

function errorText(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

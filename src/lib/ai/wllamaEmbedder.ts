/**
 * Embeddings in the browser: an {@link Embedder} over wllama (llama.cpp in WebAssembly) for
 * one GGUF file the relay serves, loaded in embedding mode. Like the chat engine
 * (wllamaEngine.ts), wllama is imported only when a model is loaded, its WebAssembly comes
 * from the relay, and it runs multithreaded where the page is cross-origin isolated.
 *
 * A model made for embeddings pools as it was trained (its GGUF says how); a chat model,
 * which has no pooling of its own, gives its last token's state, as node-llama-cpp does on
 * the relay, so the same file gives the same space in both (`gguf:<model id>`; finding that
 * out takes a second load, from the cache). Vectors are
 * scaled to unit length. wllama takes one text per request; text longer than the context is
 * cut (by halves, as its tokens are not counted here) until it fits.
 */
import type { Wllama } from '@wllama/wllama/esm/index.js';
import { EmbedderError, type Embedder } from '../knowledge/Embedder.js';
import { normalize } from '../knowledge/vectorCodec.js';
import { WLLAMA_WASM_PATH, modelIdOf } from './modelFiles.js';

/** Options of {@link WllamaEmbedder.load}. */
export interface WllamaEmbedderInit {
	/** URL of `wllama.wasm`; default the relay's {@link WLLAMA_WASM_PATH} on this page's origin. */
	wasmUrl?: string;
	/** Tokens per text at most (at most the model's training context). Default 1024. */
	contextSize?: number;
	/** `'auto'` offloads to WebGPU when `navigator.gpu` exists; `false` runs on the CPU. */
	gpu?: 'auto' | false;
	/** CPU threads; default half the cores when cross-origin isolated, else 1. */
	threads?: number;
	/** Keep the downloaded model in the origin's storage (OPFS). Default true. */
	cache?: boolean;
	/** Download progress. */
	onProgress?: (progress: { loaded: number; total: number }) => void;
	/** Cancels the download. */
	signal?: AbortSignal;
}

/** How many times a text is halved before giving up on fitting it. */
const MAX_CUTS = 12;

/** An {@link Embedder} over wllama; see the module comment. */
export class WllamaEmbedder implements Embedder {
	private queue: Promise<unknown> = Promise.resolve();
	private unloaded = false;

	private constructor(
		/** `gguf:<model id>`. */
		readonly id: string,
		/** Length of the vectors. */
		readonly dimensions: number,
		private readonly wllama: Wllama
	) {}

	/** Downloads (or reads from the cache) and loads the model at `modelUrl` for embeddings. */
	static async load(modelUrl: string, init: WllamaEmbedderInit = {}): Promise<WllamaEmbedder> {
		init.signal?.throwIfAborted();
		const url = new URL(modelUrl, globalThis.location?.href).href;
		const { Wllama } = await import('@wllama/wllama/esm/index.js');
		const wasm = new URL(init.wasmUrl ?? WLLAMA_WASM_PATH, globalThis.location?.href).href;
		const quiet = { ...console, debug: () => undefined, log: () => undefined };
		const wllama = new Wllama({ default: wasm }, { suppressNativeLog: true, logger: quiet, allowOffline: true });
		wllama.setCompat(null); // compat mode fetches from a CDN: never
		const isolated = globalThis.crossOriginIsolated === true;
		const cores = globalThis.navigator?.hardwareConcurrency ?? 1;
		const gpu = init.gpu !== false && globalThis.navigator !== undefined && 'gpu' in navigator;
		const params = {
			n_ctx: init.contextSize ?? 1024,
			// A text is pooled in one pass: the whole context in one batch.
			n_batch: init.contextSize ?? 1024,
			n_ubatch: init.contextSize ?? 1024,
			n_threads: init.threads ?? (isolated ? Math.max(1, Math.floor(cores / 2)) : 1),
			n_gpu_layers: gpu ? 999 : 0,
			n_parallel: 1,
			embeddings: true,
			useCache: init.cache ?? true,
			...(init.signal ? { signal: init.signal } : {}),
			...(init.onProgress ? { progressCallback: init.onProgress } : {})
		};
		try {
			await wllama.loadModelFromUrl(url, params);
			// A file llama.cpp cannot read "loads" with no model behind it (and crashes on first use).
			if (!(wllama.getLoadedContextInfo().n_embd > 0)) throw new EmbedderError('The file is not a model this browser can load.');
			if (!Object.keys(wllama.getLoadedContextInfo().metadata).some((key) => key.endsWith('.pooling_type'))) {
				// A model without pooling of its own (a chat model): without one, wllama would
				// answer with the first token's state, the same for every text. Load it again
				// (from the cache) pooling the last token, as node-llama-cpp does.
				await wllama.exit();
				await wllama.loadModelFromUrl(url, { ...params, pooling_type: 'last' });
			}
			const context = wllama.getLoadedContextInfo();
			return new WllamaEmbedder(`gguf:${modelIdOf(url)}`, context.n_embd, wllama);
		} catch (error) {
			await wllama.exit().catch(() => undefined);
			if (init.signal?.aborted) throw init.signal.reason;
			throw new EmbedderError(`Could not load the embedding model from ${url}: ${String(error)}`, { cause: error });
		}
	}

	embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
		const run = this.queue.then(async () => {
			const out: Float32Array[] = [];
			for (const text of texts) {
				signal?.throwIfAborted();
				if (this.unloaded) throw new EmbedderError('The embedding model was unloaded.');
				out.push(await this.embedOne(text));
			}
			return out;
		});
		this.queue = run.catch(() => undefined);
		return run;
	}

	/** Frees the model once running requests finish. */
	async unload(): Promise<void> {
		this.unloaded = true;
		await this.queue;
		await this.wllama.exit().catch(() => undefined);
	}

	private async embedOne(text: string): Promise<Float32Array> {
		// wllama refuses empty input: a space stands for it.
		let input = text.trim() === '' ? ' ' : text;
		for (let cuts = 0; ; cuts++) {
			try {
				const response = await this.wllama.createEmbedding({ input });
				const vector = pooled(response.data[0]?.embedding);
				if (!vector || vector.length !== this.dimensions) throw new EmbedderError('The embedding model returned no vector.');
				return normalize(vector);
			} catch (error) {
				if (error instanceof EmbedderError) throw error;
				if (cuts >= MAX_CUTS || input.length < 2) throw new EmbedderError(`The embedding model failed: ${String(error)}`, { cause: error });
				// Most likely too long for the context: try the first half.
				input = input.slice(0, Math.ceil(input.length / 2));
			}
		}
	}
}

/**
 * The vector of a response: one array of numbers, or (a model without pooling) one per
 * token, of which the last is the text's.
 */
function pooled(embedding: unknown): Float32Array | undefined {
	if (!Array.isArray(embedding) || embedding.length === 0) return undefined;
	const last: unknown = embedding[embedding.length - 1];
	const values: unknown[] = Array.isArray(last) ? last : embedding;
	return values.every((x) => typeof x === 'number' && Number.isFinite(x)) ? Float32Array.from(values as number[]) : undefined;
}

/**
 * Embeddings on the relay (and GPU peers): an {@link Embedder} over node-llama-cpp's
 * embedding context for one GGUF file, the same files the chat engine runs
 * (nodeLlamaEngine.ts). node-llama-cpp is imported only when the first text is embedded.
 *
 * The vector is what llama.cpp gives for the model's pooling (a dedicated embedding model
 * pools as it was trained; a chat model gives its last token's state), scaled to unit length.
 * Text longer than the context is cut to fit. Texts are embedded one after another on one
 * context; aborting stops before the next text.
 */
import { basename } from 'node:path';
import type { Llama, LlamaEmbeddingContext, LlamaModel } from 'node-llama-cpp';
import { EmbedderError, type Embedder } from '../../src/lib/knowledge/Embedder.ts';
import { normalize } from '../../src/lib/knowledge/vectorCodec.ts';
import { sharedLlama } from './nodeLlamaEngine.ts';

/** Options of {@link NodeLlamaEmbedder}. */
export interface NodeLlamaEmbedderInit {
	/** The GGUF file; its name without `.gguf` is the model id. */
	modelPath: string;
	/** Tokens per text at most; at most the model's training context. Default 1024. */
	contextSize?: number;
	/** CPU threads; node-llama-cpp's default (all cores) when absent. */
	threads?: number;
	/** `'auto'` uses a GPU when one is present, else the CPU. Ignored when `llama` is given. */
	gpu?: 'auto' | false;
	/** The process's node-llama-cpp binding, to share with the chat engine; loaded here otherwise. */
	llama?: Llama;
}

interface Loaded {
	model: LlamaModel;
	context: LlamaEmbeddingContext;
	/** Most tokens of one text (room left for the start and end tokens). */
	maxTokens: number;
}


/** An {@link Embedder} over node-llama-cpp; see the module comment. */
export class NodeLlamaEmbedder implements Embedder {
	/** `gguf:<model id>`. */
	readonly id: string;
	/** The file name without `.gguf`. */
	readonly modelId: string;
	private loading: Promise<Loaded> | undefined;
	private disposed = false;

	constructor(private readonly init: NodeLlamaEmbedderInit) {
		this.modelId = basename(init.modelPath).replace(/\.gguf$/i, '');
		this.id = `gguf:${this.modelId}`;
	}

	/** Length of the vectors (loads the model). */
	async dimensions(): Promise<number> {
		return (await this.load()).model.embeddingVectorSize;
	}

	async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
		signal?.throwIfAborted();
		const { model, context, maxTokens } = await this.load();
		const out: Float32Array[] = [];
		for (const text of texts) {
			signal?.throwIfAborted();
			if (this.disposed) throw new EmbedderError('The embedder was shut down.');
			// An empty text has no tokens and no vector: a space stands for it.
			const tokens = model.tokenize(text.trim() === '' ? ' ' : text).slice(0, maxTokens);
			let vector: readonly number[];
			try {
				vector = (await context.getEmbeddingFor(tokens)).vector;
			} catch (error) {
				throw new EmbedderError(`The embedding model failed: ${String(error)}`, { cause: error });
			}
			if (vector.length === 0) throw new EmbedderError('The embedding model returned no vector.');
			out.push(normalize(Float32Array.from(vector)));
		}
		return out;
	}

	/** Releases the model and its context. */
	async dispose(): Promise<void> {
		this.disposed = true;
		const loading = this.loading;
		this.loading = undefined;
		const loaded = await loading?.catch(() => undefined);
		await loaded?.context.dispose();
		await loaded?.model.dispose();
	}

	private load(): Promise<Loaded> {
		if (this.disposed) return Promise.reject(new EmbedderError('The embedder was shut down.'));
		this.loading ??= this.open().catch((error: unknown) => {
			this.loading = undefined;
			throw new EmbedderError(`Could not load ${this.init.modelPath}: ${String(error)}`, { cause: error });
		});
		return this.loading;
	}

	private async open(): Promise<Loaded> {
		const llama = this.init.llama ?? (await sharedLlama(this.init.gpu ?? 'auto'));
		const model = await llama.loadModel({ modelPath: this.init.modelPath });
		const contextSize = Math.min(this.init.contextSize ?? 1024, model.trainContextSize);
		const context = await model.createEmbeddingContext({ contextSize, ...(this.init.threads !== undefined ? { threads: this.init.threads } : {}) });
		return { model, context, maxTokens: Math.max(1, contextSize - 4) };
	}
}

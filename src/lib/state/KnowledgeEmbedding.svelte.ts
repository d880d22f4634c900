/**
 * "Knowledge embeddings": which embedding model, if any, ranks workspace knowledge on this
 * device, and that model once loaded. Without one the knowledge index ranks by full text
 * alone; with one it also ranks by meaning (KnowledgeIndex.ts fuses both).
 *
 * The choice is a GGUF file the relay serves, kept in this device's settings by name. The
 * model is loaded (wllama, imported on demand: wllamaEmbedder.ts) when the user picks it or
 * when a knowledge question is asked, never at start. A question waits a bounded time
 * ({@link EMBED_WAIT_MS}) for the model and for the passages still to embed; what is not ready
 * by then is ranked by full text, and embedding goes on in the background. A model that fails
 * to load, or to embed, is reported in {@link KnowledgeEmbedding.error} and full text answers
 * meanwhile.
 */
import { abortable } from '../abortable.js';
import { listModelFiles, type ModelFile } from '../ai/modelFiles.js';
import type { Embedder } from '../knowledge/Embedder.js';
import type { EmbedProgress, KnowledgeHit, KnowledgeIndex, KnowledgeIndexInit, KnowledgeQuery } from '../knowledge/KnowledgeIndex.js';

/** The settings key of the choice (a model file's name). */
export const EMBEDDING_SETTING = 'knowledgeEmbedder';

/** How long a question waits for the model to load and the passages to be embedded. */
export const EMBED_WAIT_MS = 30_000;

/** Where the chosen model stands. */
export const EmbeddingStatus = {
	/** No model chosen: full text only. */
	off: 'off',
	/** Chosen, not loaded yet (it loads with the next knowledge question). */
	idle: 'idle',
	loading: 'loading',
	ready: 'ready',
	/** Loading failed; see `error`. */
	failed: 'failed'
} as const;
export type EmbeddingStatus = (typeof EmbeddingStatus)[keyof typeof EmbeddingStatus];

/** An embedder that can be freed. */
export interface LoadedEmbedder extends Embedder {
	unload?(): Promise<void>;
}

/** Loads a model file as an embedder (default: wllama in this browser). */
export type EmbedderLoader = (
	file: ModelFile,
	options: { signal: AbortSignal; onProgress: (progress: { loaded: number; total: number }) => void }
) => Promise<LoadedEmbedder>;

/** The part of the settings table the choice is kept in (store/db.ts `settings`). */
export interface EmbeddingSettings {
	get(key: string): PromiseLike<{ value: unknown } | undefined>;
	put(row: { key: string; value: unknown }): PromiseLike<unknown>;
}

/** Options of {@link KnowledgeEmbedding}. */
export interface KnowledgeEmbeddingInit {
	settings: EmbeddingSettings;
	/** The model files on offer; default the relay that served the app (`GET /models/`). */
	listFiles?: (signal?: AbortSignal) => Promise<ModelFile[]>;
	/** Default {@link loadWllamaEmbedder}. */
	loadEmbedder?: EmbedderLoader;
	/** Default {@link EMBED_WAIT_MS}. */
	waitMs?: number;
}

/** How the last question's sources were ranked. */
export interface RankingReport {
	/** Whether vectors ranked too (the question was embedded and passages had vectors). */
	byMeaning: boolean;
	/** Passages with a vector when the question was asked. */
	embedded: number;
	/** Passages indexed. */
	passages: number;
}

/** The chosen model file is not among those the relay serves (any more). */
export class EmbeddingModelMissingError extends Error {
	override name = 'EmbeddingModelMissingError';
}

/** The chosen model could not be loaded; the cause says why. */
export class EmbeddingLoadError extends Error {
	override name = 'EmbeddingLoadError';
}

/** The model failed to embed passages or the question. */
export class EmbeddingFailedError extends Error {
	override name = 'EmbeddingFailedError';
}

/** See the module comment. */
export class KnowledgeEmbedding {
	/** The chosen model file's name; undefined for full text only. */
	chosen = $state<string | undefined>();
	status = $state<EmbeddingStatus>(EmbeddingStatus.off);
	/** Download progress while {@link status} is loading. */
	download = $state.raw<{ loaded: number; total: number } | undefined>();
	/** Passages embedded so far and in all, while some wait for a vector. */
	embedding = $state.raw<EmbedProgress | undefined>();
	/** The last failure; full text ranks meanwhile. */
	error = $state.raw<Error | undefined>();
	/** The GGUF model files the relay serves, once {@link listFiles} answered. */
	files = $state.raw<ModelFile[] | undefined>();
	/** Why the files could not be listed. */
	listError = $state.raw<Error | undefined>();
	/** How the last knowledge question's sources were ranked. */
	lastRanking = $state.raw<RankingReport | undefined>();

	/**
	 * What the knowledge index reports here (pass to KnowledgeIndex.open): embedding progress,
	 * and the question's embedding failing (full text answered alone).
	 */
	readonly indexHooks: Pick<KnowledgeIndexInit, 'onProgress' | 'onError'> = {
		onProgress: (progress) => (this.embedding = progress.done < progress.total ? progress : undefined),
		onError: (error) => {
			this.questionFailed = true;
			this.error = new EmbeddingFailedError(rootMessage(error), { cause: error });
		}
	};

	private embedder: { name: string; embedder: LoadedEmbedder } | undefined;
	private loading: { name: string; abort: AbortController; done: Promise<LoadedEmbedder | undefined> } | undefined;
	private index: KnowledgeIndex | undefined;
	private restoring: Promise<void> | undefined;
	private questionFailed = false;
	private closed = false;

	constructor(private readonly init: KnowledgeEmbeddingInit) {}

	/** Reads the saved choice (once); the model is not loaded. */
	restore(): Promise<void> {
		this.restoring ??= (async () => {
			try {
				const saved = (await this.init.settings.get(EMBEDDING_SETTING))?.value;
				if (typeof saved === 'string' && saved !== '' && this.chosen === undefined && this.status === EmbeddingStatus.off) {
					this.chosen = saved;
					this.status = EmbeddingStatus.idle;
				}
			} catch (error) {
				console.warn('knowledge: could not read the embedding model setting', error);
			}
		})();
		return this.restoring;
	}

	/** Lists the GGUF model files the relay serves into {@link files}. */
	async listFiles(signal?: AbortSignal): Promise<void> {
		this.listError = undefined;
		try {
			const files = await (this.init.listFiles ?? defaultListFiles)(signal);
			this.files = files.filter((f) => f.format === 'gguf');
		} catch (error) {
			if (signal?.aborted) return;
			this.listError = asError(error);
		}
	}

	/**
	 * Uses the model file `name` for knowledge (loaded now, replacing the one before), or none
	 * (`undefined`: full text only, the model is freed). The choice is saved on this device.
	 * Resolves once loaded or failed (see {@link error}).
	 */
	choose(name: string | undefined): Promise<void> {
		return this.use(name, false);
	}

	/** Loads the chosen model again (after it failed to load or to embed). */
	retry(): Promise<void> {
		return this.use(this.chosen, true);
	}

	/**
	 * Ranks `index` for a question, with vectors when a model is chosen: the model is loaded
	 * (unless it failed: {@link retry} tries again) and the passages waiting for a vector are
	 * embedded first, waiting at most the init's `waitMs` for both (full text ranks what is not
	 * ready, and embedding goes on). Records {@link lastRanking}. Read rights are the caller's
	 * `options.mayRead`, unchanged.
	 */
	async query(index: KnowledgeIndex, question: string, options: KnowledgeQuery): Promise<KnowledgeHit[]> {
		this.index = index;
		await this.restore();
		if (this.chosen !== undefined && !this.closed) {
			const deadline = AbortSignal.timeout(this.init.waitMs ?? EMBED_WAIT_MS);
			try {
				const embedder = await abortable(this.load(), deadline);
				if (embedder && this.embedder?.embedder === embedder && index.embedder !== embedder) await index.setEmbedder(embedder);
				if (embedder && index.embedder === embedder) await this.embedPending(index, deadline);
			} catch {
				// Still loading or embedding (it goes on), or failed (reported): full text covers the rest.
			}
		}
		this.questionFailed = false;
		const hits = await index.query(question, options);
		const embedded = index.embedder ? index.size - index.pendingCount : 0;
		const byMeaning = index.embedder !== undefined && embedded > 0 && !this.questionFailed;
		this.lastRanking = { byMeaning, embedded, passages: index.size };
		// The model works again: an earlier failure to embed is over.
		if (byMeaning && this.error instanceof EmbeddingFailedError && index.pendingCount === 0) this.error = undefined;
		return hits;
	}

	/** Stops loading and frees the model (the workspace closed). */
	async close(): Promise<void> {
		this.closed = true;
		await this.drop();
		this.index = undefined;
	}

	/** See {@link choose}; `force` loads the model again even when it is the one loaded. */
	private async use(name: string | undefined, force: boolean): Promise<void> {
		await this.restore();
		if (this.closed) return;
		const keep = !force && name === this.chosen && this.status !== EmbeddingStatus.failed;
		this.chosen = name;
		this.init.settings
			.put({ key: EMBEDDING_SETTING, value: name ?? '' })
			.then(undefined, (error: unknown) => console.warn('knowledge: could not save the embedding model setting', error));
		if (!keep) {
			this.lastRanking = undefined;
			this.error = undefined;
			this.status = name === undefined ? EmbeddingStatus.off : EmbeddingStatus.idle;
			await this.drop();
		}
		if (name === undefined) return;
		const embedder = await this.load();
		// Picked while the index is open: its passages are embedded now, in the background.
		const index = this.index;
		if (embedder && index) void this.embedPending(index).catch(() => undefined);
	}

	/** The chosen model, loading it unless loaded or loading; undefined when it failed. */
	private load(): Promise<LoadedEmbedder | undefined> {
		const name = this.chosen;
		if (name === undefined || this.closed || this.status === EmbeddingStatus.failed) return Promise.resolve(undefined);
		if (this.embedder?.name === name) return Promise.resolve(this.embedder.embedder);
		if (this.loading?.name === name) return this.loading.done;
		this.loading?.abort.abort();
		const abort = new AbortController();
		this.status = EmbeddingStatus.loading;
		this.error = undefined;
		this.download = { loaded: 0, total: 0 };
		const done = (async (): Promise<LoadedEmbedder | undefined> => {
			const file = await this.fileNamed(name, abort.signal);
			this.download = { loaded: 0, total: file.size };
			const embedder = await (this.init.loadEmbedder ?? loadWllamaEmbedder)(file, {
				signal: abort.signal,
				onProgress: ({ loaded, total }) => {
					if (this.loading?.abort === abort) this.download = { loaded, total };
				}
			});
			if (abort.signal.aborted || this.closed) {
				await embedder.unload?.().catch(() => undefined);
				return undefined;
			}
			this.embedder = { name, embedder };
			this.status = EmbeddingStatus.ready;
			const index = this.index;
			if (index && index.embedder !== embedder) await index.setEmbedder(embedder);
			// Another choice meanwhile dropped it (and took it from the index after this).
			return this.embedder?.embedder === embedder ? embedder : undefined;
		})().then(
			(embedder) => {
				if (this.loading?.abort === abort) this.loading = undefined;
				return embedder;
			},
			(error: unknown) => {
				if (this.loading?.abort !== abort) return undefined;
				this.loading = undefined;
				if (!abort.signal.aborted) {
					this.status = EmbeddingStatus.failed;
					this.error = error instanceof EmbeddingModelMissingError ? error : new EmbeddingLoadError(rootMessage(error), { cause: error });
				}
				return undefined;
			}
		);
		this.loading = { name, abort, done };
		void done.finally(() => {
			if (this.loading === undefined) this.download = undefined;
		});
		return done;
	}

	/** Embeds what waits in `index` (bounded by `signal`), with progress from the start. */
	private async embedPending(index: KnowledgeIndex, signal?: AbortSignal): Promise<void> {
		if (index.pendingCount === 0) return;
		this.embedding ??= { done: 0, total: index.pendingCount };
		try {
			await index.embedPending(signal ? { signal } : {});
		} catch (error) {
			if (!isAbort(error) && !signal?.aborted) this.error = new EmbeddingFailedError(rootMessage(error), { cause: error });
			throw error;
		} finally {
			if (index.pendingCount === 0) this.embedding = undefined;
		}
	}

	/** Stops a load and frees the loaded model; the index ranks by full text until the next one. */
	private drop(): Promise<void> {
		// Everything but freeing happens at once, so a question asked meanwhile loads the new choice.
		this.loading?.abort.abort(new DOMException('Another embedding model was chosen.', 'AbortError'));
		this.loading = undefined;
		this.download = undefined;
		this.embedding = undefined;
		const previous = this.embedder;
		this.embedder = undefined;
		if (!previous) return Promise.resolve();
		const index = this.index;
		return (async () => {
			// Also when its setEmbedder is still queued: this one comes after it.
			await index?.setEmbedder(undefined).catch(() => undefined);
			await previous.embedder.unload?.().catch(() => undefined);
		})();
	}

	/** The model file the relay serves under `name`. */
	private async fileNamed(name: string, signal: AbortSignal): Promise<ModelFile> {
		let file = this.files?.find((f) => f.name === name);
		if (!file) {
			await this.listFiles(signal);
			signal.throwIfAborted();
			if (this.listError) throw this.listError;
			file = this.files?.find((f) => f.name === name);
		}
		if (!file) throw new EmbeddingModelMissingError(`The relay does not serve "${name}".`);
		return file;
	}
}

/** The relay's model files, as the app's origin serves them. */
function defaultListFiles(signal?: AbortSignal): Promise<ModelFile[]> {
	return listModelFiles(location.origin, signal);
}

/** Loads a GGUF file in this browser with wllama (imported now), on WebGPU where there is an adapter. */
export const loadWllamaEmbedder: EmbedderLoader = async (file, { signal, onProgress }) => {
	const [{ WllamaEmbedder }, { detectWebGpu }] = await Promise.all([import('../ai/wllamaEmbedder.js'), import('../ai/engineChoice.js')]);
	const gpu = await detectWebGpu();
	return WllamaEmbedder.load(file.url, { signal, onProgress, gpu: gpu ? 'auto' : false });
};


function isAbort(error: unknown): boolean {
	return error instanceof DOMException && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

/** The message of the innermost cause (what went wrong, without the wrappers' restatements). */
function rootMessage(error: unknown): string {
	let inner = error;
	while (inner instanceof Error && inner.cause instanceof Error) inner = inner.cause;
	return asError(inner).message;
}

function asError(error: unknown): Error {
	return error instanceof Error ? error : new Error(String(error));
}

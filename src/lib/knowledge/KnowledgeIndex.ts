/**
 * A workspace's retrieval index: the chunks of its notes and messages (chunker.ts), ranked for
 * a question by two methods fused with reciprocal rank fusion (rrf.ts):
 *
 * - full text: BM25 over the chunks with the search tokenizer, CJK bigrams included
 *   (ChunkSearch.ts);
 * - vectors: the cosine similarity of the question's embedding to each chunk's (VectorMatrix.ts),
 *   when an {@link Embedder} is set. Without one, or while it fails, full text alone ranks.
 *
 * Who may read what is the caller's predicate: chunks of a document it refuses are skipped by
 * both rankings, so they neither appear nor push readable chunks out of the candidates.
 *
 * Updates are incremental: a change puts, replaces or removes chunks; a chunk whose hash
 * matches its stored vector is never embedded again (a vector is also reused for a chunk that
 * moved, e.g. a section renumbered by an insertion above it). New and changed chunks are
 * embedded in batches by one background pass that {@link KnowledgeIndex.update} waits for;
 * chunk changes are stored and searchable (full text) before their vectors exist.
 *
 * Everything is held in memory and written through to a {@link VectorStore}; opening reads
 * it back, so an unchanged workspace is never embedded twice.
 */
import { abortable } from '../abortable.js';
import { embeddingText, messageChunkId, type Chunk } from './chunker.js';
import { EmbedderError, type Embedder } from './Embedder.js';
import { ChunkSearch } from './ChunkSearch.js';
import { reciprocalRankFusion, RRF_K } from './rrf.js';
import { VectorMatrix } from './VectorMatrix.js';
import type { EmbedProgress, KnowledgeChange, KnowledgeHit, KnowledgeQuery, UpdateResult } from './types.js';
import type { StoredVector, VectorStore } from './VectorStore.js';

export type { EmbedProgress, KnowledgeChange, KnowledgeHit, KnowledgeQuery, UpdateResult } from './types.js';

/** Texts per call to the embedder. */
export const EMBED_BATCH = 16;
/** Results of a query unless asked otherwise. */
export const DEFAULT_RESULTS = 8;

/** Options of {@link KnowledgeIndex.open}. */
export interface KnowledgeIndexInit {
	store: VectorStore;
	/** The embedding model; none means full text only (see {@link KnowledgeIndex.setEmbedder}). */
	embedder?: Embedder;
	/** Texts per embedder call (default {@link EMBED_BATCH}). */
	batchSize?: number;
	/** Reciprocal rank fusion's k (default 60). */
	rrfK?: number;
	/** Called as the background pass embeds chunks. */
	onProgress?: (progress: EmbedProgress) => void;
	/** Called when the embedder fails while answering a query (full text answers alone then). */
	onError?: (error: Error) => void;
}

/** See the module comment. */
export class KnowledgeIndex {
	private readonly chunks = new Map<string, Chunk>();
	private readonly byDoc = new Map<string, Set<string>>();
	private readonly fullText = new ChunkSearch();
	private readonly vectors = new VectorMatrix();
	/** Chunks without a current vector in the embedder's space. */
	private readonly pending = new Set<string>();
	private embedderNow: Embedder | undefined;
	private queue: Promise<unknown> = Promise.resolve();
	private pass: Promise<void> | undefined;
	private passAbort = new AbortController();
	private closed = false;

	private constructor(private readonly init: KnowledgeIndexInit) {}

	/** Opens an index over what `store` holds (vectors of `init.embedder`'s space). */
	static async open(init: KnowledgeIndexInit): Promise<KnowledgeIndex> {
		const index = new KnowledgeIndex(init);
		const chunks = await init.store.chunks();
		for (const chunk of chunks) index.hold(chunk);
		index.fullText.addAll(chunks);
		if (init.embedder) await index.loadSpace(init.embedder);
		return index;
	}

	/** Chunks indexed. */
	get size(): number {
		return this.chunks.size;
	}

	/** Chunks waiting for a vector (0 without an embedder). */
	get pendingCount(): number {
		return this.embedderNow ? this.pending.size : 0;
	}

	/** The embedder in use. */
	get embedder(): Embedder | undefined {
		return this.embedderNow;
	}

	/** A chunk by id. */
	chunk(id: string): Chunk | undefined {
		const chunk = this.chunks.get(id);
		return chunk && { ...chunk };
	}

	/** Ids of a document's chunks. */
	chunkIds(docId: string): string[] {
		return [...(this.byDoc.get(docId) ?? [])];
	}

	/** Ids of the messages a document has chunks of. */
	messageIds(docId: string): string[] {
		const ids = new Set<string>();
		for (const id of this.byDoc.get(docId) ?? []) {
			const itemId = this.chunks.get(id)?.itemId;
			if (itemId !== undefined) ids.add(itemId);
		}
		return [...ids];
	}

	/** The chunks of one message, in order. */
	messageChunks(docId: string, itemId: string): Chunk[] {
		const out: Chunk[] = [];
		for (let k = 0; ; k++) {
			const chunk = this.chunks.get(messageChunkId(docId, itemId, k));
			if (!chunk || chunk.itemId !== itemId) return out;
			out.push({ ...chunk });
		}
	}

	/**
	 * Uses another embedder (or none): its stored vectors are loaded, and chunks without one
	 * are embedded by the next {@link update} or {@link embedPending}. A running pass stops.
	 */
	async setEmbedder(embedder: Embedder | undefined): Promise<void> {
		await this.enqueue(async () => {
			this.passAbort.abort(new DOMException('The embedder changed.', 'AbortError'));
			await this.pass?.catch(() => undefined);
			this.passAbort = new AbortController();
			this.vectors.clear();
			this.pending.clear();
			this.embedderNow = undefined;
			if (embedder) await this.loadSpace(embedder);
		});
	}

	/**
	 * Applies a change (stored, then searchable), then embeds what is new or changed. Resolves
	 * when no chunk waits for a vector; rejects when the embedder fails (the chunks stay,
	 * searchable by full text, and are embedded by a later call). `signal` stops waiting for the
	 * embedding, not the change.
	 */
	async update(change: KnowledgeChange, options: { signal?: AbortSignal } = {}): Promise<UpdateResult> {
		const result = await this.apply(change);
		await this.embedPending(options);
		return result;
	}

	/**
	 * Applies a change without waiting for embeddings: resolves once it is stored and
	 * searchable by full text. The changed chunks wait for {@link embedPending}.
	 */
	apply(change: KnowledgeChange): Promise<UpdateResult> {
		return this.enqueue(() => this.applyNow(change));
	}

	/** Embeds every chunk that waits for a vector; see {@link update}. */
	async embedPending(options: { signal?: AbortSignal } = {}): Promise<void> {
		for (;;) {
			options.signal?.throwIfAborted();
			if (this.closed || !this.embedderNow || this.pending.size === 0) return;
			const passSignal = this.passAbort.signal;
			this.pass ??= this.runPass(this.embedderNow, passSignal).finally(() => (this.pass = undefined));
			try {
				await abortable(this.pass, options.signal);
			} catch (error) {
				// A pass stopped by a change of embedder: the next one (for the new embedder) goes on.
				if (!passSignal.aborted || this.closed || options.signal?.aborted) throw error;
			}
		}
	}

	/** The chunks that best answer `text` among those the asker may read, best first. */
	async query(text: string, options: KnowledgeQuery): Promise<KnowledgeHit[]> {
		const limit = Math.max(0, Math.floor(options.limit ?? DEFAULT_RESULTS));
		const candidates = Math.max(limit, options.candidates ?? Math.max(50, 5 * limit));
		const mode = options.mode ?? 'hybrid';
		if (limit === 0 || text.trim() === '') return [];
		const verdicts = new Map<string, boolean>();
		const mayRead = (docId: string): boolean => {
			let ok = verdicts.get(docId);
			if (ok === undefined) verdicts.set(docId, (ok = options.mayRead(docId) === true));
			return ok;
		};
		const readable = (id: string): boolean => {
			const docId = this.chunks.get(id)?.docId;
			return docId !== undefined && mayRead(docId);
		};
		const fullText = mode === 'vector' ? [] : this.fullText.search(text, candidates, readable);
		const minSimilarity = options.minSimilarity ?? 0;
		const similar = mode === 'fulltext' ? [] : (await this.rankVectors(text, candidates, mayRead, options.signal)).filter((n) => n.score > minSimilarity);
		const similarity = new Map(similar.map((n) => [n.id, n.score]));
		const hits: KnowledgeHit[] = [];
		for (const fused of reciprocalRankFusion([fullText, similar.map((n) => n.id)], this.init.rrfK ?? RRF_K)) {
			if (hits.length >= limit) break;
			const chunk = this.chunks.get(fused.id);
			if (!chunk || !readable(chunk.id)) continue; // checked again: nothing refused leaves
			const [fullTextRank, vectorRank] = fused.ranks;
			hits.push({
				id: chunk.id,
				docId: chunk.docId,
				kind: chunk.kind,
				title: chunk.title,
				text: chunk.text,
				offset: chunk.offset,
				...(chunk.itemId !== undefined ? { itemId: chunk.itemId } : {}),
				score: fused.score,
				...(fullTextRank !== undefined ? { fullTextRank } : {}),
				...(vectorRank !== undefined ? { vectorRank, similarity: similarity.get(chunk.id) } : {})
			});
		}
		return hits;
	}

	/** Stops the embedding pass; later updates are refused. */
	async close(): Promise<void> {
		this.closed = true;
		this.passAbort.abort(new DOMException('The index was closed.', 'AbortError'));
		await this.pass?.catch(() => undefined);
		await this.queue.catch(() => undefined);
	}

	/** Readable chunks by similarity to the question's embedding (none without vectors). */
	private async rankVectors(text: string, n: number, mayRead: (docId: string) => boolean, signal?: AbortSignal) {
		const embedder = this.embedderNow;
		if (!embedder || this.vectors.size === 0) return [];
		let question: Float32Array | undefined;
		try {
			[question] = await embedder.embed([text], signal);
		} catch (error) {
			if (signal?.aborted) throw signal.reason;
			this.init.onError?.(error instanceof Error ? error : new EmbedderError(String(error)));
			return [];
		}
		return question ? this.vectors.nearest(question, n, mayRead) : [];
	}

	private async applyNow(change: KnowledgeChange): Promise<UpdateResult> {
		if (this.closed) throw new DOMException('The index was closed.', 'AbortError');
		const removed = new Set<string>(change.remove ?? []);
		const put = new Map<string, Chunk>();
		for (const docId of change.removeDocs ?? []) for (const id of this.byDoc.get(docId) ?? []) removed.add(id);
		for (const { docId, itemId, chunks } of change.replace ?? []) {
			const before = itemId === undefined ? this.chunkIds(docId) : this.messageChunks(docId, itemId).map((c) => c.id);
			for (const id of before) removed.add(id);
			for (const chunk of chunks) put.set(chunk.id, chunk);
		}
		for (const chunk of change.put ?? []) put.set(chunk.id, chunk);
		for (const id of put.keys()) removed.delete(id);
		for (const id of [...removed]) if (!this.chunks.has(id)) removed.delete(id);
		const changed = [...put.values()].filter((c) => !sameChunk(this.chunks.get(c.id), c));
		// Vectors of text that moved to another id (a renumbered section), taken before any goes.
		const holders = new Map<string, string>();
		for (const id of [...removed, ...changed.map((c) => c.id)]) {
			const hash = this.vectors.hashOf(id);
			if (hash !== undefined && !holders.has(hash)) holders.set(hash, id);
		}
		const reused: StoredVector[] = [];
		for (const chunk of changed) {
			const holder = holders.get(chunk.hash);
			if (holder === undefined || holder === chunk.id) continue;
			const vector = this.vectors.get(holder);
			if (vector) reused.push({ id: chunk.id, hash: chunk.hash, vector });
		}
		const embedderId = this.embedderNow?.id;
		await this.init.store.write({
			put: changed,
			remove: [...removed],
			...(embedderId !== undefined && reused.length > 0 ? { vectors: { embedderId, put: reused } } : {})
		});
		for (const id of removed) this.drop(id);
		for (const chunk of changed) {
			this.fullText.put(chunk, this.chunks.get(chunk.id));
			this.hold(chunk);
			if (this.vectors.hashOf(chunk.id) !== chunk.hash) {
				this.vectors.delete(chunk.id);
				this.pending.add(chunk.id);
			}
		}
		if (embedderId !== undefined) {
			for (const v of reused) {
				this.vectors.set(v.id, v.hash, v.vector, this.chunks.get(v.id)?.docId);
				this.pending.delete(v.id);
			}
		}
		return { put: changed.length, removed: removed.size, reused: embedderId !== undefined ? reused.length : 0 };
	}

	/** Embeds pending chunks in batches until none waits; see the module comment. */
	private async runPass(embedder: Embedder, signal: AbortSignal): Promise<void> {
		const batchSize = Math.max(1, this.init.batchSize ?? EMBED_BATCH);
		let done = 0;
		while (this.pending.size > 0 && this.embedderNow === embedder) {
			signal.throwIfAborted();
			const batch: Chunk[] = [];
			for (const id of this.pending) {
				const chunk = this.chunks.get(id);
				if (!chunk) this.pending.delete(id);
				else batch.push(chunk);
				if (batch.length >= batchSize) break;
			}
			if (batch.length === 0) break;
			const vectors = await embedder.embed(batch.map(embeddingText), signal);
			if (vectors.length !== batch.length)
				throw new EmbedderError(`The embedder returned ${vectors.length} vectors for ${batch.length} texts.`);
			const stored = await this.enqueue(async () => {
				// Only vectors of chunks unchanged meanwhile count (a changed one waits again).
				const current = batch
					.map((chunk, i) => ({ id: chunk.id, hash: chunk.hash, vector: vectors[i]! }))
					.filter((v) => this.chunks.get(v.id)?.hash === v.hash && this.embedderNow === embedder);
				if (current.length === 0) return 0;
				await this.init.store.write({ vectors: { embedderId: embedder.id, put: current } });
				for (const v of current) {
					this.vectors.set(v.id, v.hash, v.vector, this.chunks.get(v.id)?.docId);
					this.pending.delete(v.id);
				}
				return current.length;
			});
			done += stored;
			this.init.onProgress?.({ done, total: done + this.pending.size });
		}
	}

	/** Loads an embedder's stored vectors; chunks without a current one wait for a vector. */
	private async loadSpace(embedder: Embedder): Promise<void> {
		const stored = (await this.init.store.vectors(embedder.id)).filter((v) => this.chunks.get(v.id)?.hash === v.hash); // not stale or orphaned
		// The space's length is the one most stored vectors have: a damaged row of another length
		// is skipped and embedded again (found in review: the first row's length decided, so one
		// damaged first row set every good vector aside and made every later pass fail).
		const dimensions = commonest(stored.map((v) => v.vector.length));
		for (const v of stored) {
			if (v.vector.length !== dimensions || (this.vectors.size > 0 && v.vector.length !== this.vectors.dimensions)) continue;
			this.vectors.set(v.id, v.hash, v.vector, this.chunks.get(v.id)?.docId);
		}
		for (const id of this.chunks.keys()) if (this.vectors.hashOf(id) === undefined) this.pending.add(id);
		this.embedderNow = embedder;
	}

	/** Adds a chunk to the maps (not to full text). */
	private hold(chunk: Chunk): void {
		this.chunks.set(chunk.id, { ...chunk });
		let ids = this.byDoc.get(chunk.docId);
		if (!ids) this.byDoc.set(chunk.docId, (ids = new Set()));
		ids.add(chunk.id);
	}

	private drop(id: string): void {
		const chunk = this.chunks.get(id);
		if (!chunk) return;
		this.chunks.delete(id);
		this.fullText.remove(chunk);
		this.vectors.delete(id);
		this.pending.delete(id);
		const ids = this.byDoc.get(chunk.docId);
		ids?.delete(id);
		if (ids?.size === 0) this.byDoc.delete(chunk.docId);
	}

	private enqueue<T>(run: () => Promise<T>): Promise<T> {
		const next = this.queue.then(run);
		this.queue = next.catch(() => undefined);
		return next;
	}
}

/** Whether a stored chunk equals a new one in every field. */
function sameChunk(a: Chunk | undefined, b: Chunk): boolean {
	if (!a) return false;
	const keys = new Set([...Object.keys(a), ...Object.keys(b)] as (keyof Chunk)[]);
	for (const key of keys) if (a[key] !== b[key]) return false;
	return true;
}

/** The value that occurs most often in `values` (the first of equals), or undefined when empty. */
function commonest(values: readonly number[]): number | undefined {
	const counts = new Map<number, number>();
	let best: number | undefined;
	for (const v of values) {
		const n = (counts.get(v) ?? 0) + 1;
		counts.set(v, n);
		if (best === undefined || n > counts.get(best)!) best = v;
	}
	return best;
}

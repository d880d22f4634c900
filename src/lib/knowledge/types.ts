/**
 * The shapes KnowledgeIndex.ts takes and gives: changes, queries, hits, progress.
 */
import type { Chunk } from './chunker.js';

/** How far the embedding pass is. */
export interface EmbedProgress {
	/** Chunks embedded by this pass so far. */
	done: number;
	/** `done` plus those still waiting. */
	total: number;
}

/** A change to the index, applied as one batch. */
export interface KnowledgeChange {
	/** Chunks added or changed (by id). */
	put?: Chunk[];
	/** Ids of chunks removed. */
	remove?: string[];
	/**
	 * A document's chunks (or, with `itemId`, one message's) are exactly `chunks` now: the
	 * others it had are removed. What a changed note gives.
	 */
	replace?: { docId: string; itemId?: string; chunks: Chunk[] }[];
	/** Documents whose chunks all go (deleted, or no longer followed). */
	removeDocs?: string[];
}

/** What a change did. */
export interface UpdateResult {
	/** Chunks written (new or changed). */
	put: number;
	removed: number;
	/** Chunks whose vector was reused from a chunk with the same hash. */
	reused: number;
}

/** Options of {@link KnowledgeIndex.query}. */
export interface KnowledgeQuery {
	/** Whether the asker may read a document: chunks of others are never returned. */
	mayRead: (docId: string) => boolean;
	/** Most results (default 8). */
	limit?: number;
	/** Candidates taken from each ranking before fusion (default max(50, 5 × limit)). */
	candidates?: number;
	/**
	 * Vector candidates must be more similar than this (default 0: a chunk unrelated to the
	 * question, or opposite to it, is not a candidate however few others there are).
	 */
	minSimilarity?: number;
	/** `fulltext` or `vector` alone, for comparison; default both. */
	mode?: 'hybrid' | 'fulltext' | 'vector';
	/** Aborts the question's embedding. */
	signal?: AbortSignal;
}

/** A retrieved chunk: where it is (citations open it there) and how it ranked. */
export interface KnowledgeHit extends Pick<Chunk, 'id' | 'docId' | 'kind' | 'title' | 'text' | 'offset' | 'itemId'> {
	/** The fused score (higher is better). */
	score: number;
	/** Rank (from 1) in the full-text ranking, if there. */
	fullTextRank?: number;
	/** Rank (from 1) in the vector ranking, if there. */
	vectorRank?: number;
	/** Cosine similarity to the question, when vectors ranked it. */
	similarity?: number;
}

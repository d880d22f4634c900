/**
 * The full-text side of retrieval: MiniSearch's BM25 over chunks with the search index's
 * tokenizer (store/search/tokenizer.ts: words normalised, CJK runs as bigrams), titles weighted
 * double, any term matching (a question's words are not all in the passage that answers it).
 *
 * Questions are full sentences, and their commonest words ("the", "what", 的) occur in most
 * chunks: BM25 gives them almost no weight, yet scoring them means visiting nearly every chunk
 * (that alone took 50–170 ms at 10,000 chunks). So the index counts in how many chunks each
 * term occurs, and a question's terms found in more than {@link COMMON_SHARE} of the chunks
 * (and more than {@link COMMON_MIN}) are left out of the search, unless nothing else is left;
 * of the rest, the {@link MAX_TERMS} rarest are searched (a long question's many mid-frequency
 * words cost time for little change in the ranking).
 */
import MiniSearch, { type Options } from 'minisearch';
import { SEARCH_OPTIONS } from '../store/search/SearchIndex.js';
import { tokenize, tokenizeQuery } from '../store/search/tokenizer.js';
import type { Chunk } from './chunker.js';

/** A term in more than this share of the chunks is too common to search for… */
export const COMMON_SHARE = 0.1;
/** …when it is also in more than this many. */
export const COMMON_MIN = 200;
/** The rarest terms of a question searched for, at most (they carry most of BM25's weight). */
export const MAX_TERMS = 8;

interface FullTextDoc {
	id: string;
	title: string;
	text: string;
}

const OPTIONS: Options<FullTextDoc> = {
	idField: 'id',
	fields: ['title', 'text'],
	storeFields: [],
	tokenize: SEARCH_OPTIONS.tokenize,
	processTerm: SEARCH_OPTIONS.processTerm,
	searchOptions: {
		tokenize: tokenizeQuery,
		processTerm: (term) => term,
		combineWith: 'OR',
		prefix: false,
		boost: { title: 2 }
	}
};

/** See the module comment. */
export class ChunkSearch {
	private readonly index = new MiniSearch<FullTextDoc>(OPTIONS);
	/** In how many chunks each term occurs. */
	private readonly frequency = new Map<string, number>();

	/** Adds chunks (none of them indexed yet). */
	addAll(chunks: readonly Chunk[]): void {
		this.index.addAll(chunks.map(doc));
		for (const chunk of chunks) this.count(chunk, 1);
	}

	/** Adds a chunk, or replaces `previous` (the version indexed) with it. */
	put(chunk: Chunk, previous: Chunk | undefined): void {
		if (previous) this.remove(previous);
		this.index.add(doc(chunk));
		this.count(chunk, 1);
	}

	/** Removes the chunk (the version indexed). */
	remove(chunk: Chunk): void {
		if (!this.index.has(chunk.id)) return;
		this.index.discard(chunk.id);
		this.count(chunk, -1);
	}

	/** Ids of the best `n` chunks for `question` among those `accept` lets through, best first. */
	search(question: string, n: number, accept: (id: string) => boolean): string[] {
		const terms = [...new Set(tokenizeQuery(question))]
			.map((term) => ({ term, chunks: this.frequency.get(term) ?? 0 }))
			.filter((t) => t.chunks > 0)
			.sort((a, b) => a.chunks - b.chunks);
		if (terms.length === 0) return [];
		const common = Math.max(COMMON_MIN, COMMON_SHARE * this.index.documentCount);
		const kept = terms.filter((t) => t.chunks <= common);
		const queries = (kept.length > 0 ? kept.slice(0, MAX_TERMS) : terms.slice(0, 1)).map((t) => t.term);
		return this.index
			.search({ combineWith: 'OR', queries }, { filter: (r) => accept(String(r.id)) })
			.slice(0, n)
			.map((r) => String(r.id));
	}

	private count(chunk: Chunk, delta: 1 | -1): void {
		for (const term of new Set(tokenize(`${chunk.title}\n${chunk.text}`))) {
			const next = (this.frequency.get(term) ?? 0) + delta;
			if (next > 0) this.frequency.set(term, next);
			else this.frequency.delete(term);
		}
	}
}

function doc(chunk: Chunk): FullTextDoc {
	return { id: chunk.id, title: chunk.title, text: chunk.text };
}

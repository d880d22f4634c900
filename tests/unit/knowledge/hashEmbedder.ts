/**
 * A deterministic stand-in for an embedding model, for tests and as the benchmark's labelled
 * baseline: the search tokenizer's terms (words, CJK bigrams) hashed into a fixed number of
 * signed buckets, normalised. Texts sharing terms get similar vectors, so ranking behaves
 * plausibly, but it knows nothing of meaning. It counts what it is asked to embed.
 */
import { tokenize } from '../../../src/lib/store/search/tokenizer.js';
import type { Embedder } from '../../../src/lib/knowledge/Embedder.js';
import { normalize } from '../../../src/lib/knowledge/vectorCodec.js';

/** FNV-1a over the UTF-16 units of a term. */
function fnv1a(term: string): number {
	let h = 0x811c9dc5;
	for (let i = 0; i < term.length; i++) {
		h ^= term.charCodeAt(i);
		h = Math.imul(h, 0x01000193);
	}
	return h >>> 0;
}

/** See the module comment. */
export class HashEmbedder implements Embedder {
	readonly id: string;
	/** Texts embedded so far, in order. */
	readonly texts: string[] = [];
	/** Calls to {@link embed}. */
	calls = 0;
	/** When set, {@link embed} rejects with it. */
	failWith: Error | undefined;
	/** When set, {@link embed} waits for it before answering. */
	gate: Promise<void> | undefined;

	constructor(readonly dims = 64, id = `hash-${dims}`) {
		this.id = id;
	}

	async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
		signal?.throwIfAborted();
		this.calls++;
		if (this.gate) await this.gate;
		if (this.failWith) throw this.failWith;
		this.texts.push(...texts);
		return texts.map((text) => this.vector(text));
	}

	/** The vector of one text (synchronously). */
	vector(text: string): Float32Array {
		const v = new Float32Array(this.dims);
		for (const term of tokenize(text)) {
			const h = fnv1a(term);
			const bucket = h % this.dims;
			v[bucket] = v[bucket]! + (h & 0x80000000 ? -1 : 1);
		}
		return normalize(v);
	}
}

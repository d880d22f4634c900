/**
 * Where one workspace's retrieval data lives between sessions: its chunks (chunker.ts) and,
 * per embedder id, one vector per chunk with the hash of the text it was computed from. A
 * vector whose hash is not its chunk's current hash is stale and is computed again; nothing
 * else decides what to embed. Removing a chunk removes its vectors in every space.
 *
 * Implementations: {@link MemoryVectorStore} (tests, a relay without a database) and
 * IdbVectorStore.ts (the browser's Dexie database). The index above (KnowledgeIndex.ts) keeps
 * everything in memory and writes through.
 */
import type { Chunk } from './chunker.js';

/** A chunk's vector in one embedder's space. */
export interface StoredVector {
	/** The chunk id. */
	id: string;
	/** The chunk's hash when the vector was computed. */
	hash: string;
	/** Unit length. */
	vector: Float32Array;
}

/** Changes written together (in one transaction where the storage has them). */
export interface VectorStoreBatch {
	/** Chunks added or changed (replacing the chunk of the same id). */
	put?: Chunk[];
	/** Ids of chunks removed, with their vectors in every space. */
	remove?: string[];
	/** Vectors computed, in one embedder's space. */
	vectors?: { embedderId: string; put: StoredVector[] };
}

/** One workspace's chunks and vectors; see the module comment. */
export interface VectorStore {
	/** Every stored chunk. */
	chunks(): Promise<Chunk[]>;
	/** Every stored vector of one embedder's space (damaged ones left out). */
	vectors(embedderId: string): Promise<StoredVector[]>;
	/** Applies a batch; resolves once it is stored. */
	write(batch: VectorStoreBatch): Promise<void>;
}

/** A {@link VectorStore} in memory. */
export class MemoryVectorStore implements VectorStore {
	private readonly chunkMap = new Map<string, Chunk>();
	private readonly spaces = new Map<string, Map<string, StoredVector>>();

	async chunks(): Promise<Chunk[]> {
		return [...this.chunkMap.values()].map((c) => ({ ...c }));
	}

	async vectors(embedderId: string): Promise<StoredVector[]> {
		return [...(this.spaces.get(embedderId)?.values() ?? [])].map((v) => ({ ...v, vector: v.vector.slice() }));
	}

	async write(batch: VectorStoreBatch): Promise<void> {
		for (const id of batch.remove ?? []) {
			this.chunkMap.delete(id);
			for (const space of this.spaces.values()) space.delete(id);
		}
		for (const chunk of batch.put ?? []) this.chunkMap.set(chunk.id, { ...chunk });
		if (batch.vectors) {
			let space = this.spaces.get(batch.vectors.embedderId);
			if (!space) this.spaces.set(batch.vectors.embedderId, (space = new Map()));
			for (const v of batch.vectors.put) space.set(v.id, { ...v, vector: v.vector.slice() });
		}
	}
}

/**
 * Where a replica keeps blobs: manifests and verified chunks, by blob id. Chunks are stored as
 * they arrive, so a fetch that breaks off resumes with what is missing. The browser's IndexedDB
 * and the relay's database implement it next to the documents' storage; MemoryBlobStore serves
 * tests and devices without storage.
 */
import { chunkOf, manifestOf, type BlobManifest } from './blobManifest.js';
import { strongerOrigin, type BlobLedger, type BlobOrigin, type LedgerEntry } from './blobBudget.js';
import { NoManifestError } from './blobErrors.js';

/** A replica's blobs. Callers store only verified chunks (blobService.ts verifies). */
export interface BlobStore {
	/** The manifest of blob `id`, when this replica knows it. */
	manifest(id: string): Promise<BlobManifest | undefined>;
	putManifest(manifest: BlobManifest): Promise<void>;
	/** Chunk `index` of blob `id`, when held. */
	chunk(id: string, index: number): Promise<Uint8Array | undefined>;
	/** Chunks `indices` of blob `id`, in that order (undefined for those not held); one read where the store can. */
	chunks(id: string, indices: readonly number[]): Promise<Array<Uint8Array | undefined>>;
	/**
	 * Stores chunk `index` of blob `id`. Refused with {@link NoManifestError}, nothing stored,
	 * unless the manifest of `id` is held, checked in the write's own transaction: a drop (of its
	 * manifest, chunks and mark: blobBudget.ts) during a fetch leaves no chunk that nothing counts.
	 */
	putChunk(id: string, index: number, bytes: Uint8Array): Promise<void>;
	/**
	 * Stores several chunks of blob `id` at once (one transaction where the store has them), all
	 * or none: refused as `putChunk` is. Like `putChunk`, it keeps no reference to the bytes once
	 * it settles: the fetch reuses their buffers.
	 */
	putChunks(id: string, chunks: ReadonlyArray<{ index: number; bytes: Uint8Array }>): Promise<void>;
	/** Indices of the chunks of blob `id` not held; undefined when its manifest is unknown here. */
	missing(id: string): Promise<number[] | undefined>;
}

/** Stores `bytes` as a blob (a no-op for chunks already held: the same bytes are one blob); returns its manifest. */
export async function storeBlob(store: BlobStore, bytes: Uint8Array): Promise<BlobManifest> {
	const manifest = await manifestOf(bytes);
	await store.putManifest(manifest);
	for (const index of (await store.missing(manifest.id)) ?? []) await store.putChunk(manifest.id, index, chunkOf(bytes, index, manifest.chunkBytes));
	return manifest;
}

/** The whole blob, when every chunk is held. */
export async function readBlob(store: BlobStore, id: string): Promise<Uint8Array | undefined> {
	const manifest = await store.manifest(id);
	if (manifest === undefined || (await store.missing(id))?.length !== 0) return undefined;
	const out = new Uint8Array(manifest.size);
	for (let i = 0; i < manifest.hashes.length; i++) out.set((await store.chunk(id, i))!, i * manifest.chunkBytes);
	return out;
}

/** A {@link BlobStore} in memory, with its {@link BlobLedger} (blobBudget.ts). */
export class MemoryBlobStore implements BlobLedger {
	private readonly manifests = new Map<string, BlobManifest>();
	private readonly held = new Map<string, Map<number, Uint8Array>>();
	private readonly marks = new Map<string, LedgerEntry>();

	entries(): Promise<LedgerEntry[]> {
		const out = [...this.marks.values()].map((e) => ({ ...e }));
		for (const [id, m] of this.manifests) if (!this.marks.has(id)) out.push({ id, bytes: m.size, origin: 'sent', at: 0 });
		return Promise.resolve(out);
	}

	mark(id: string, bytes: number, origin: BlobOrigin, sender?: string): Promise<void> {
		const was = this.marks.get(id);
		// A blob held without a mark is the device's own (stored before any budget): it stays so.
		const kept = was === undefined && this.manifests.has(id);
		const entry: LedgerEntry = { id, bytes, origin: kept ? 'sent' : strongerOrigin(was?.origin, origin), at: was?.at ?? Date.now() };
		const from = was?.sender ?? sender;
		this.marks.set(id, from === undefined ? entry : { ...entry, sender: from });
		return Promise.resolve();
	}

	drop(id: string): Promise<void> {
		this.manifests.delete(id);
		this.held.delete(id);
		this.marks.delete(id);
		return Promise.resolve();
	}

	manifest(id: string): Promise<BlobManifest | undefined> {
		return Promise.resolve(this.manifests.get(id));
	}

	putManifest(manifest: BlobManifest): Promise<void> {
		if (!this.manifests.has(manifest.id)) this.manifests.set(manifest.id, { ...manifest, hashes: [...manifest.hashes] });
		return Promise.resolve();
	}

	chunk(id: string, index: number): Promise<Uint8Array | undefined> {
		return Promise.resolve(this.held.get(id)?.get(index));
	}

	chunks(id: string, indices: readonly number[]): Promise<Array<Uint8Array | undefined>> {
		return Promise.resolve(indices.map((index) => this.held.get(id)?.get(index)));
	}

	putChunk(id: string, index: number, bytes: Uint8Array): Promise<void> {
		return this.putChunks(id, [{ index, bytes }]);
	}

	putChunks(id: string, chunks: ReadonlyArray<{ index: number; bytes: Uint8Array }>): Promise<void> {
		if (!this.manifests.has(id)) return Promise.reject(new NoManifestError(id));
		let held = this.held.get(id);
		if (held === undefined) this.held.set(id, (held = new Map()));
		for (const { index, bytes } of chunks) held.set(index, bytes.slice());
		return Promise.resolve();
	}

	missing(id: string): Promise<number[] | undefined> {
		const manifest = this.manifests.get(id);
		if (manifest === undefined) return Promise.resolve(undefined);
		const chunks = this.held.get(id);
		return Promise.resolve(manifest.hashes.map((_, i) => i).filter((i) => !chunks?.has(i)));
	}

	/** Bytes held in chunks (for tests: the same blob twice is stored once). */
	get bytesHeld(): number {
		let n = 0;
		for (const chunks of this.held.values()) for (const bytes of chunks.values()) n += bytes.byteLength;
		return n;
	}
}

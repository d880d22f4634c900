/**
 * What every BlobStore must do (in memory, IndexedDB, the relay's SQLite): keep manifests and
 * chunks by blob id, say what is missing (undefined before the manifest), store the same file
 * once, refuse chunks of a blob whose manifest it does not hold, keep all of it across a reopen,
 * and treat a damaged manifest as absent.
 */
import { describe, expect, it } from 'vitest';
import { CHUNK_BYTES, chunkOf, manifestOf } from '../../../src/lib/blob/blobManifest';
import { readBlob, storeBlob, type BlobStore } from '../../../src/lib/blob/BlobStore';

/** A store of one workspace, and a way to open the same storage again (a restart). */
export interface StoreUnderTest {
	store: BlobStore;
	reopen(): Promise<BlobStore>;
}

/** A store under test whose storage can be damaged from outside (not the one in memory). */
export interface DamageableStore extends StoreUnderTest {
	/** Damages the stored manifest of `id`. */
	damageManifest(id: string): Promise<void>;
}

function bytesOf(size: number): Uint8Array {
	const bytes = new Uint8Array(size);
	for (let i = 0; i < size; i++) bytes[i] = (i * 7919) % 251;
	return bytes;
}

export function blobStoreContract(name: string, open: () => Promise<StoreUnderTest>, openDamageable?: () => Promise<DamageableStore>): void {
	describe(`${name} as a BlobStore`, () => {
		it('keeps manifests and chunks, says what is missing, and reads a whole blob back', async () => {
			const { store } = await open();
			const bytes = bytesOf(2 * CHUNK_BYTES + 99);
			const manifest = await manifestOf(bytes);
			expect(await store.missing(manifest.id)).toBeUndefined();
			await store.putManifest(manifest);
			expect(await store.missing(manifest.id)).toEqual([0, 1, 2]);
			await store.putChunk(manifest.id, 1, chunkOf(bytes, 1));
			expect(await store.missing(manifest.id)).toEqual([0, 2]);
			expect(await readBlob(store, manifest.id)).toBeUndefined();
			// Several at once (one already held): the same as one by one.
			await store.putChunks(manifest.id, [
				{ index: 2, bytes: chunkOf(bytes, 2) },
				{ index: 1, bytes: chunkOf(bytes, 1) }
			]);
			expect(await store.missing(manifest.id)).toEqual([0]);
			expect(await store.chunk(manifest.id, 2)).toEqual(chunkOf(bytes, 2));
			expect(await store.chunks(manifest.id, [2, 0, 1])).toEqual([chunkOf(bytes, 2), undefined, chunkOf(bytes, 1)]);
			await storeBlob(store, bytes);
			expect(await store.missing(manifest.id)).toEqual([]);
			expect(await store.manifest(manifest.id)).toEqual(manifest);
			expect(await readBlob(store, manifest.id)).toEqual(bytes);
			expect(await store.chunk(manifest.id, 3)).toBeUndefined();
		});

		it('keeps no reference to the bytes it was given once a write settles (a fetch reuses its buffers)', async () => {
			const { store } = await open();
			const bytes = bytesOf(2 * CHUNK_BYTES);
			const manifest = await manifestOf(bytes);
			await store.putManifest(manifest);
			// Buffers of their own, whole, as the fetch's reused ones are.
			const given = [0, 1].map((index) => ({ index, bytes: chunkOf(bytes, index).slice() }));
			await store.putChunks(manifest.id, given);
			for (const chunk of given) chunk.bytes.fill(0);
			const held = await store.chunks(manifest.id, [0, 1]);
			// Compared as a verdict: a failing diff of two 256 KiB arrays takes minutes to print.
			expect(held.map((chunk, index) => chunk !== undefined && Buffer.compare(chunk, chunkOf(bytes, index)) === 0)).toEqual([true, true]);
		});

		it('refuses chunks of a blob whose manifest it does not hold (never stored, or dropped), storing nothing', async () => {
			const { store } = await open();
			const bytes = bytesOf(2 * CHUNK_BYTES);
			const manifest = await manifestOf(bytes);
			// Found by reading: a fetch went on writing chunks of a blob dropped meanwhile, counted by nothing.
			await expect(store.putChunk(manifest.id, 0, chunkOf(bytes, 0))).rejects.toMatchObject({ name: 'NoManifestError', blobId: manifest.id });
			await expect(store.putChunks(manifest.id, [{ index: 1, bytes: chunkOf(bytes, 1) }])).rejects.toMatchObject({ name: 'NoManifestError' });
			expect(await store.chunks(manifest.id, [0, 1])).toEqual([undefined, undefined]);
			await store.putManifest(manifest);
			expect(await store.missing(manifest.id)).toEqual([0, 1]);
		});

		it('keeps everything across a reopen', async () => {
			const under = await open();
			const bytes = bytesOf(CHUNK_BYTES + 5);
			const { id } = await storeBlob(under.store, bytes);
			const half = bytesOf(3 * CHUNK_BYTES);
			const partial = await manifestOf(half);
			await under.store.putManifest(partial);
			await under.store.putChunk(partial.id, 2, chunkOf(half, 2));
			const again = await under.reopen();
			expect(await readBlob(again, id)).toEqual(bytes);
			expect(await again.missing(partial.id)).toEqual([0, 1]);
		});

		if (openDamageable === undefined) return;
		it('treats a damaged manifest as absent', async () => {
			const under = await openDamageable();
			const { id } = await storeBlob(under.store, bytesOf(1000));
			await under.damageManifest(id);
			expect(await under.store.manifest(id)).toBeUndefined();
			expect(await under.store.missing(id)).toBeUndefined();
		});
	});
}

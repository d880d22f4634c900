/** The BlobStore contract (tests/unit/blob/blobStoreContract.ts) on the relay's SQLite database, reopened from disk; and what its quota counts. */
import { mkdtempSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CHUNK_BYTES, encodeManifest, manifestOf } from '../../src/lib/blob/blobManifest.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blobStoreContract } from '../../tests/unit/blob/blobStoreContract.ts';
import { openRelayDb } from './relayDb.ts';
import { SqliteBlobStore } from './SqliteBlobStore.ts';
import { DiskBound } from './diskBound.ts';

const openSqlite = async () => {
	const dir = mkdtempSync(join(tmpdir(), 'outpost-blobs-'));
	const relayDb = openRelayDb(dir);
	const workspaceId = 'wsa';
	return {
		store: new SqliteBlobStore(relayDb, workspaceId),
		reopen: async () => {
			relayDb.db.close();
			return new SqliteBlobStore(openRelayDb(dir), workspaceId);
		},
		damageManifest: async (id: string) => {
			relayDb.db.prepare('UPDATE blob_manifests SET manifest = ? WHERE workspace = ? AND id = ?').run(new Uint8Array([9, 9]), workspaceId, id);
		}
	};
};
blobStoreContract('SqliteBlobStore', openSqlite, openSqlite);

describe('SqliteBlobStore quota', () => {
	it('counts manifests as well as chunks, also when reopened (found in review: a manifest stored before any chunk came, and kept when none did, counted nothing)', async () => {
		const { store, reopen } = await openSqlite();
		const bytes = new Uint8Array(3 * CHUNK_BYTES + 10).fill(5);
		const manifest = await manifestOf(bytes);
		await store.putManifest(manifest);
		const manifestBytes = encodeManifest(manifest).byteLength;
		expect(store.bytes).toBe(manifestBytes);
		await store.putManifest(manifest); // the same again: counted once
		expect(store.bytes).toBe(manifestBytes);
		await store.putChunk(manifest.id, 0, bytes.subarray(0, CHUNK_BYTES));
		expect(store.bytes).toBe(manifestBytes + CHUNK_BYTES);
		expect((await reopen()).bytes).toBe(manifestBytes + CHUNK_BYTES);
	});

	it("refuses chunks past what the relay stores in all, every workspace's blobs together, with nothing stored", async () => {
		const relayDb = openRelayDb(mkdtempSync(join(tmpdir(), 'outpost-blobs-')));
		const bound = new DiskBound(relayDb.db, new DiskBound(relayDb.db).used() + 6 * CHUNK_BYTES);
		const bytes = new Uint8Array(4 * CHUNK_BYTES).map((_, i) => i % 251);
		const manifest = await manifestOf(bytes);
		const chunks = [0, 1, 2, 3].map((index) => ({ index, bytes: bytes.subarray(index * CHUNK_BYTES, (index + 1) * CHUNK_BYTES) }));
		const first = new SqliteBlobStore(relayDb, 'wsa', bound);
		await first.putManifest(manifest);
		await first.putChunks(manifest.id, chunks);
		const second = new SqliteBlobStore(relayDb, 'wsb', bound);
		await second.putManifest(manifest);
		await expect(second.putChunks(manifest.id, chunks)).rejects.toMatchObject({ name: 'RelayFullError' });
		expect(await second.missing(manifest.id)).toEqual([0, 1, 2, 3]);
		expect(second.bytes).toBe(encodeManifest(manifest).byteLength);
		relayDb.db.close();
	});
});

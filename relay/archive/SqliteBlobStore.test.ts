/** The BlobStore contract (tests/unit/blob/blobStoreContract.ts) on the relay's SQLite database, reopened from disk; and what its quota counts. */
import { mkdtempSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CHUNK_BYTES, encodeManifest, manifestOf } from '../../src/lib/blob/blobManifest.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blobStoreContract } from '../../tests/unit/blob/blobStoreContract.ts';
import { openRelayDb } from './relayDb.ts';
import { SqliteBlobStore } from './SqliteBlobStore.ts';

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
});

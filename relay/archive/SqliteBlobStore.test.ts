/** The BlobStore contract (tests/unit/blob/blobStoreContract.ts) on the relay's SQLite database, reopened from disk. */
import { mkdtempSync } from 'node:fs';
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

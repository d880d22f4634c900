/** The BlobStore contract (blobStoreContract.ts) in memory and in IndexedDB (fake-indexeddb); the relay's SQLite runs it in relay/archive/SqliteBlobStore.test.ts. */
import 'fake-indexeddb/auto';
import { MemoryBlobStore } from '../../../src/lib/blob/BlobStore';
import { OutpostDb } from '../../../src/lib/store/db';
import { IdbBlobStore } from '../../../src/lib/store/IdbBlobStore';
import { blobStoreContract } from './blobStoreContract';

blobStoreContract('MemoryBlobStore', async () => {
	const store = new MemoryBlobStore();
	return { store, reopen: () => Promise.resolve(store) };
});

let n = 0;
const openIdb = async () => {
	const name = `blobs-${++n}`;
	const db = new OutpostDb(name);
	const workspaceId = 'ws-a';
	return {
		store: new IdbBlobStore(db, workspaceId),
		reopen: async () => {
			db.close();
			return new IdbBlobStore(new OutpostDb(name), workspaceId);
		},
		damageManifest: async (id: string) => {
			await db.blobManifests.update([workspaceId, id], { manifest: new Uint8Array([1, 2, 3]) });
		}
	};
};
blobStoreContract('IdbBlobStore', openIdb, openIdb);

/** MemoryDocs meets the SyncDocs contract. */
import * as Y from 'yjs';
import { describeSyncDocs } from './syncDocsSuite';
import { MemoryDocs } from './memoryDocs';

describeSyncDocs('MemoryDocs', () => {
	const docs = new MemoryDocs();
	return { docs, edit: (docId: string, change: (doc: Y.Doc) => void) => change(docs.get(docId)) };
});

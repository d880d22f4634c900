/**
 * Found in review. Two tabs of one browser profile each run their own DocStore over the same IndexedDB
 * document databases (README "Second tabs": the other tab syncs with the lock holder over the
 * mesh, not through storage). Tab A's compaction writes A's in-memory state and deletes every
 * record below it, including the records tab B appended that A never loaded: B's edit,
 * acknowledged as durable by `written()`, is gone from disk.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { persistDoc } from '../../../../src/lib/core/persistence';
import { IdbDocStorage } from '../../../../src/lib/store/IdbDocStorage';
import { newId } from '../../../../src/lib/doc/ids';

describe('compaction across two tabs sharing a document database', () => {
	it("keeps the other tab's durable records", async () => {
		const prefix = `tabs-${newId()}:`;
		const docId = newId();
		const storage = new IdbDocStorage(prefix);

		// Tab A and tab B open the same document.
		const docA = new Y.Doc();
		const a = persistDoc(docA, () => storage.open(docId), { compactAfterRecords: 5, compactDelayMs: 10 });
		await a.loaded;
		const docB = new Y.Doc();
		const b = persistDoc(docB, () => storage.open(docId), { compactAfterRecords: 1000 });
		await b.loaded;

		// Tab B writes a message; it is durable (written() resolved).
		docB.getMap('m').set('from-b', 'hello from tab B');
		await b.written();

		// Tab A keeps editing; its log reaches the compaction threshold.
		for (let i = 0; i < 6; i++) {
			docA.getMap('m').set(`a${i}`, i);
			await a.written();
		}
		await new Promise((r) => setTimeout(r, 100)); // compaction due 10 ms later
		await a.stop();
		await b.stop(); // tab B closes before the mesh carried its edit to tab A

		// Next launch: B's edit must still be there.
		const docC = new Y.Doc();
		const c = persistDoc(docC, () => storage.open(docId));
		await c.loaded;
		expect(docC.getMap('m').get('a5')).toBe(5);
		expect(docC.getMap('m').get('from-b')).toBe('hello from tab B');
		await c.stop();
	});
});

/**
 * Found in review: one damaged vector row of another length (truncated bytes still decode as an int8
 * vector) poisons an embedder's space. KnowledgeIndex.loadSpace takes the first stored vector's
 * length as the space's, skips every good vector after it, and the re-embedding pass then
 * throws VectorLengthError for every chunk (VectorMatrix.set), so embedding never finishes and
 * every good stored vector is ignored. A damaged row should be dropped, not set the dimensions.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { newId } from '../../../../src/lib/doc/ids.js';
import { chunkNote } from '../../../../src/lib/knowledge/chunker.js';
import { IdbVectorStore } from '../../../../src/lib/knowledge/IdbVectorStore.js';
import { KnowledgeIndex } from '../../../../src/lib/knowledge/KnowledgeIndex.js';
import { encodeVector } from '../../../../src/lib/knowledge/vectorCodec.js';
import { OutpostDb } from '../../../../src/lib/store/db.js';
import { HashEmbedder } from '../../knowledge/hashEmbedder.js';

describe('a damaged stored vector', () => {
	it('is set aside; the good vectors still load and embedding still completes', async () => {
		const name = `rk-vec-${newId()}`;
		const ws = newId();
		const embedder = new HashEmbedder(64);
		const chunks = chunkNote('n', 'Guide', '# Alpha\nalpha text\n\n# Beta\nbeta text\n\n# Gamma\ngamma text');
		{
			const index = await KnowledgeIndex.open({ store: new IdbVectorStore(new OutpostDb(name), ws), embedder });
			await index.update({ replace: [{ docId: 'n', chunks }] });
			await index.close();
		}
		// The row read first (lowest key) is cut short: still a valid int8 encoding, of 7 dimensions.
		const db = new OutpostDb(name);
		const first = [...chunks].sort((a, b) => (a.id < b.id ? -1 : 1))[0]!;
		await db.knowledgeVectors.update([ws, embedder.id, first.id], { bytes: encodeVector(Float32Array.of(1, 2, 3, 4, 5, 6, 7)) });
		const before = embedder.calls;
		const index = await KnowledgeIndex.open({ store: new IdbVectorStore(db, ws), embedder });
		const pendingAtOpen = index.pendingCount;
		await expect(index.embedPending()).resolves.toBeUndefined();
		// Only the damaged chunk waited for a vector again; the others' stored vectors counted.
		expect(pendingAtOpen).toBe(1);
		expect(index.pendingCount).toBe(0);
		expect(embedder.calls - before).toBe(1);
		await index.close();
	});
});

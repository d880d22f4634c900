/**
 * The browser's {@link VectorStore}: two tables of the Dexie database (store/db.ts,
 * version 5), keyed by workspace. Vectors are stored as compact bytes (vectorCodec.ts, int8
 * by default: 4 + d bytes a vector). Works in Node over fake-indexeddb (tests, bench).
 */
import type { OutpostDb } from '../store/db.js';
import type { Chunk } from './chunker.js';
import { decodeVector, encodeVector, VectorFormat } from './vectorCodec.js';
import type { StoredVector, VectorStore, VectorStoreBatch } from './VectorStore.js';

/** A stored chunk (table `knowledgeChunks`, key `[workspaceId+id]`). */
export interface KnowledgeChunkRow extends Chunk {
	workspaceId: string;
}

/** A stored vector (table `knowledgeVectors`, key `[workspaceId+embedderId+id]`). */
export interface KnowledgeVectorRow {
	workspaceId: string;
	embedderId: string;
	/** The chunk id. */
	id: string;
	hash: string;
	/** vectorCodec.ts bytes. */
	bytes: Uint8Array;
}

/** A {@link VectorStore} over Dexie; see the module comment. */
export class IdbVectorStore implements VectorStore {
	constructor(
		private readonly db: OutpostDb,
		private readonly workspaceId: string,
		private readonly format: VectorFormat = VectorFormat.int8
	) {}

	async chunks(): Promise<Chunk[]> {
		const rows = await this.db.knowledgeChunks.where('workspaceId').equals(this.workspaceId).toArray();
		return rows.filter(isChunkRow).map(({ workspaceId: _ws, ...chunk }) => chunk);
	}

	async vectors(embedderId: string): Promise<StoredVector[]> {
		const rows = await this.db.knowledgeVectors.where('[workspaceId+embedderId]').equals([this.workspaceId, embedderId]).toArray();
		const out: StoredVector[] = [];
		for (const row of rows) {
			const vector = typeof row.hash === 'string' ? decodeVector(row.bytes) : undefined;
			if (vector) out.push({ id: row.id, hash: row.hash, vector });
		}
		return out;
	}

	async write(batch: VectorStoreBatch): Promise<void> {
		const { db, workspaceId } = this;
		const removed = batch.remove ?? [];
		await db.transaction('rw', [db.knowledgeChunks, db.knowledgeVectors], async () => {
			if (removed.length > 0) {
				await db.knowledgeChunks.bulkDelete(removed.map((id): [string, string] => [workspaceId, id]));
				await db.knowledgeVectors
					.where('[workspaceId+id]')
					.anyOf(removed.map((id) => [workspaceId, id]))
					.delete();
			}
			if (batch.put && batch.put.length > 0) await db.knowledgeChunks.bulkPut(batch.put.map((c) => ({ ...c, workspaceId })));
			const vectors = batch.vectors;
			if (vectors && vectors.put.length > 0) {
				await db.knowledgeVectors.bulkPut(
					vectors.put.map((v) => ({ workspaceId, embedderId: vectors.embedderId, id: v.id, hash: v.hash, bytes: encodeVector(v.vector, this.format) }))
				);
			}
		});
	}
}

/** Whether a row read back has the fields of a chunk (a damaged row is left out, to be chunked again). */
function isChunkRow(row: KnowledgeChunkRow): boolean {
	return (
		typeof row.id === 'string' &&
		typeof row.docId === 'string' &&
		(row.kind === 'note' || row.kind === 'message') &&
		typeof row.title === 'string' &&
		typeof row.text === 'string' &&
		typeof row.offset === 'number' &&
		typeof row.hash === 'string'
	);
}

/**
 * The browser's {@link BlobStore}: manifests and verified chunks of one workspace in the Dexie
 * database (db.ts, version 4), so attachments a device fetched stay readable offline and a
 * fetch broken off by a closed tab resumes with what is missing.
 */
import { encodeManifest, decodeManifest, type BlobManifest } from '../blob/blobManifest.js';
import type { BlobStore } from '../blob/BlobStore.js';
import type { OutpostDb } from './db.js';

export class IdbBlobStore implements BlobStore {
	constructor(
		private readonly db: OutpostDb,
		private readonly workspaceId: string
	) {}

	async manifest(id: string): Promise<BlobManifest | undefined> {
		const row = await this.db.blobManifests.get([this.workspaceId, id]);
		// Checked again on the way out: a damaged row is no manifest.
		return row === undefined ? undefined : decodeManifest(id, row.manifest).catch(() => undefined);
	}

	async putManifest(manifest: BlobManifest): Promise<void> {
		const key: [string, string] = [this.workspaceId, manifest.id];
		if ((await this.db.blobManifests.get(key)) !== undefined) return;
		await this.db.blobManifests.put({ workspaceId: this.workspaceId, id: manifest.id, manifest: encodeManifest(manifest) });
	}

	async chunk(id: string, index: number): Promise<Uint8Array | undefined> {
		return (await this.db.blobChunks.get([this.workspaceId, id, index]))?.bytes;
	}

	async chunks(id: string, indices: readonly number[]): Promise<Array<Uint8Array | undefined>> {
		const rows = await this.db.blobChunks.bulkGet(indices.map((index): [string, string, number] => [this.workspaceId, id, index]));
		return rows.map((row) => row?.bytes);
	}

	async putChunk(id: string, index: number, bytes: Uint8Array): Promise<void> {
		await this.db.blobChunks.put({ workspaceId: this.workspaceId, id, index, bytes: bytes.slice() });
	}

	async putChunks(id: string, chunks: ReadonlyArray<{ index: number; bytes: Uint8Array }>): Promise<void> {
		if (chunks.length === 0) return;
		await this.db.blobChunks.bulkPut(chunks.map(({ index, bytes }) => ({ workspaceId: this.workspaceId, id, index, bytes: bytes.slice() })));
	}

	async missing(id: string): Promise<number[] | undefined> {
		const manifest = await this.manifest(id);
		if (manifest === undefined) return undefined;
		const held = new Set(
			(await this.db.blobChunks.where('[workspaceId+id]').equals([this.workspaceId, id]).primaryKeys()).map((key) => (key as [string, string, number])[2])
		);
		return manifest.hashes.map((_, i) => i).filter((i) => !held.has(i));
	}
}

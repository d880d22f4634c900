/**
 * The browser's {@link BlobStore}: manifests and verified chunks of one workspace in the Dexie
 * database (db.ts, version 4), so attachments a device fetched stay readable offline and a
 * fetch broken off by a closed tab resumes with what is missing. It is also the blobs'
 * {@link BlobLedger} (blob/blobBudget.ts): why each is held rides on its manifest's row (fields
 * no index reads, so the schema is unchanged); a blob admitted before its manifest is stored is
 * marked in memory until then.
 */
import Dexie from 'dexie';
import { strongerOrigin, type BlobLedger, type BlobOrigin, type LedgerEntry } from '../blob/blobBudget.js';
import { NoManifestError } from '../blob/blobErrors.js';
import { encodeManifest, decodeManifest, type BlobManifest } from '../blob/blobManifest.js';
import type { BlobManifestRow, OutpostDb } from './db.js';

/** A manifest's row with its mark (absent on rows stored before the budget: those count as sent). */
interface MarkedRow extends BlobManifestRow {
	origin?: BlobOrigin;
	/** The blob's size, so the ledger need not decode every manifest. */
	size?: number;
	at?: number;
	sender?: string;
}

type Mark = Omit<LedgerEntry, 'id'>;

export class IdbBlobStore implements BlobLedger {
	/** Marks of blobs admitted whose manifest is not stored yet. */
	private readonly pending = new Map<string, Mark>();
	/** Sizes of rows stored before the budget (read from their manifests once). */
	private readonly legacySizes = new Map<string, number>();

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
		const mark = this.pending.get(manifest.id);
		const row: MarkedRow = { workspaceId: this.workspaceId, id: manifest.id, manifest: encodeManifest(manifest), ...(mark === undefined ? {} : rowMark(mark)) };
		await this.db.blobManifests.put(row);
		this.pending.delete(manifest.id);
	}

	async chunk(id: string, index: number): Promise<Uint8Array | undefined> {
		return (await this.db.blobChunks.get([this.workspaceId, id, index]))?.bytes;
	}

	async chunks(id: string, indices: readonly number[]): Promise<Array<Uint8Array | undefined>> {
		const rows = await this.db.blobChunks.bulkGet(indices.map((index): [string, string, number] => [this.workspaceId, id, index]));
		return rows.map((row) => row?.bytes);
	}

	putChunk(id: string, index: number, bytes: Uint8Array): Promise<void> {
		return this.putChunks(id, [{ index, bytes }]);
	}

	/**
	 * Writes only while the manifest's row is there, in one transaction with the check: a drop
	 * (any tab's) runs wholly before it (the chunks are refused) or after it (they go with it).
	 */
	async putChunks(id: string, chunks: ReadonlyArray<{ index: number; bytes: Uint8Array }>): Promise<void> {
		const rows = chunks.map(({ index, bytes }) => ({ workspaceId: this.workspaceId, id, index, bytes: ownBuffer(bytes) }));
		await this.db.transaction('rw', this.db.blobManifests, this.db.blobChunks, async () => {
			if ((await this.db.blobManifests.where(':id').equals([this.workspaceId, id]).count()) === 0) throw new NoManifestError(id);
			if (rows.length > 0) await this.db.blobChunks.bulkPut(rows);
		});
	}

	async missing(id: string): Promise<number[] | undefined> {
		const manifest = await this.manifest(id);
		if (manifest === undefined) return undefined;
		const held = new Set(
			(await this.db.blobChunks.where('[workspaceId+id]').equals([this.workspaceId, id]).primaryKeys()).map((key) => (key as [string, string, number])[2])
		);
		return manifest.hashes.map((_, i) => i).filter((i) => !held.has(i));
	}

	async entries(): Promise<LedgerEntry[]> {
		const rows: MarkedRow[] = await this.db.blobManifests
			.where('[workspaceId+id]')
			.between([this.workspaceId, Dexie.minKey], [this.workspaceId, Dexie.maxKey])
			.toArray();
		const out: LedgerEntry[] = [];
		for (const row of rows) {
			// A row from before the budget: its size from the manifest, kept as sent.
			let bytes = row.size ?? this.legacySizes.get(row.id);
			if (bytes === undefined) this.legacySizes.set(row.id, (bytes = await decodeManifest(row.id, row.manifest).then((m) => m.size, () => 0)));
			out.push({ id: row.id, bytes, origin: row.origin ?? 'sent', at: row.at ?? 0, ...(row.sender !== undefined ? { sender: row.sender } : {}) });
		}
		for (const [id, mark] of this.pending) if (!rows.some((row) => row.id === id)) out.push({ id, ...mark });
		return out;
	}

	async mark(id: string, bytes: number, origin: BlobOrigin, sender?: string): Promise<void> {
		await this.db.transaction('rw', this.db.blobManifests, async () => {
			const row: MarkedRow | undefined = await this.db.blobManifests.get([this.workspaceId, id]);
			const was = row === undefined ? this.pending.get(id) : row.origin === undefined ? undefined : { origin: row.origin, at: row.at ?? 0, sender: row.sender };
			// A row without a mark is the device's own (stored before the budget): it stays so.
			const mark: Mark = {
				bytes,
				origin: row !== undefined && row.origin === undefined ? 'sent' : strongerOrigin(was?.origin, origin),
				at: was?.at ?? Date.now(),
				...((was?.sender ?? sender) !== undefined ? { sender: (was?.sender ?? sender)! } : {})
			};
			if (row === undefined) this.pending.set(id, mark);
			else await this.db.blobManifests.put({ ...row, ...rowMark(mark) });
		});
	}

	async drop(id: string): Promise<void> {
		this.pending.delete(id);
		await this.db.transaction('rw', this.db.blobManifests, this.db.blobChunks, async () => {
			await this.db.blobChunks.where('[workspaceId+id]').equals([this.workspaceId, id]).delete();
			await this.db.blobManifests.delete([this.workspaceId, id]);
		});
	}
}

/** A mark as a row's fields. */
function rowMark(mark: Mark): Pick<MarkedRow, 'origin' | 'size' | 'at' | 'sender'> {
	return { origin: mark.origin, size: mark.bytes, at: mark.at, ...(mark.sender !== undefined ? { sender: mark.sender } : {}) };
}

/**
 * `bytes` as IndexedDB should clone it: a view of part of a larger buffer is copied first (a
 * clone of a view takes its whole buffer); a view of a whole buffer is cloned as it is, with no
 * copy of ours (the fetch's reused chunk buffers: chunkBuffers.ts).
 */
function ownBuffer(bytes: Uint8Array): Uint8Array {
	return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

/**
 * The relay's {@link BlobStore}: manifests and verified chunks of one workspace in the relay's
 * database (relayDb.ts, schema 3), so a file stays available when its sender goes offline.
 * Writes are single committed statements; a manifest row that no longer hashes to its id
 * (a damaged page) is treated as absent. A write past what the relay stores in all (its
 * `bound`, diskBound.ts) is refused with nothing stored: pins are judged against the bound
 * before a fetch starts, and this stops the fetches already running when the room runs out.
 */
import type Database from 'better-sqlite3';
import { decodeManifest, encodeManifest, type BlobManifest } from '../../src/lib/blob/blobManifest.ts';
import type { BlobStore } from '../../src/lib/blob/BlobStore.ts';
import { NoManifestError } from '../../src/lib/blob/blobErrors.ts';
import type { RelayDb } from './relayDb.ts';
import type { DiskBound } from './diskBound.ts';

export class SqliteBlobStore implements BlobStore {
	private readonly readManifest: Database.Statement<[string, string], { manifest: Uint8Array }>;
	private readonly insertManifest: Database.Statement<[string, string, Uint8Array]>;
	private readonly readChunk: Database.Statement<[string, string, number], { bytes: Uint8Array }>;
	private readonly insertChunk: Database.Statement<[string, string, number, Uint8Array]>;
	private readonly heldChunks: Database.Statement<[string, string], { idx: number }>;
	private readonly hasManifest: Database.Statement<[string, string], { n: number }>;
	/** Bytes of the workspace's chunks held, counted once at open and kept by the writes. */
	private held: number;

	private readonly insertChunks: (id: string, chunks: ReadonlyArray<{ index: number; bytes: Uint8Array }>) => void;

	constructor(
		private readonly relayDb: RelayDb,
		private readonly workspaceId: string,
		/** What the relay stores in all (diskBound.ts); unbounded without. */
		private readonly bound?: Pick<DiskBound, 'check'>
	) {
		const { db } = relayDb;
		this.insertChunks = db.transaction((id: string, chunks: ReadonlyArray<{ index: number; bytes: Uint8Array }>) => {
			// Chunks no manifest names are counted by nothing (BlobStore.putChunk): refused, nothing written.
			if (this.hasManifest.get(this.workspaceId, id) === undefined) throw new NoManifestError(id);
			for (const { index, bytes } of chunks) if (this.insertChunk.run(this.workspaceId, id, index, bytes).changes > 0) this.held += bytes.byteLength;
		});
		this.readManifest = db.prepare('SELECT manifest FROM blob_manifests WHERE workspace = ? AND id = ?');
		this.hasManifest = db.prepare('SELECT 1 AS n FROM blob_manifests WHERE workspace = ? AND id = ?');
		this.insertManifest = db.prepare('INSERT OR IGNORE INTO blob_manifests (workspace, id, manifest) VALUES (?, ?, ?)');
		this.readChunk = db.prepare('SELECT bytes FROM blob_chunks WHERE workspace = ? AND id = ? AND idx = ?');
		// A chunk is verified before it is stored, so a second copy of it is the same bytes.
		this.insertChunk = db.prepare('INSERT OR IGNORE INTO blob_chunks (workspace, id, idx, bytes) VALUES (?, ?, ?, ?)');
		this.heldChunks = db.prepare('SELECT idx FROM blob_chunks WHERE workspace = ? AND id = ?');
		const counted = db.prepare<[string], { n: number | null }>('SELECT SUM(length(bytes)) AS n FROM blob_chunks WHERE workspace = ?').get(workspaceId);
		const manifests = db.prepare<[string], { n: number | null }>('SELECT SUM(length(manifest)) AS n FROM blob_manifests WHERE workspace = ?').get(workspaceId);
		this.held = (counted?.n ?? 0) + (manifests?.n ?? 0);
	}

	/**
	 * Bytes of chunks and manifests this workspace holds (what its blob quota counts; found in
	 * review: manifests, stored before any chunk comes and kept when none does, were not counted).
	 */
	get bytes(): number {
		return this.held;
	}

	async manifest(id: string): Promise<BlobManifest | undefined> {
		const row = this.readManifest.get(this.workspaceId, id);
		return row === undefined ? undefined : decodeManifest(id, new Uint8Array(row.manifest)).catch(() => undefined);
	}

	putManifest(manifest: BlobManifest): Promise<void> {
		const bytes = encodeManifest(manifest);
		return this.within(bytes.byteLength, manifest.id, () => {
			if (this.insertManifest.run(this.workspaceId, manifest.id, bytes).changes > 0) this.held += bytes.byteLength;
		});
	}

	chunk(id: string, index: number): Promise<Uint8Array | undefined> {
		const row = this.readChunk.get(this.workspaceId, id, index);
		return Promise.resolve(row === undefined ? undefined : new Uint8Array(row.bytes));
	}

	chunks(id: string, indices: readonly number[]): Promise<Array<Uint8Array | undefined>> {
		return Promise.resolve(indices.map((index) => {
			const row = this.readChunk.get(this.workspaceId, id, index);
			return row === undefined ? undefined : new Uint8Array(row.bytes);
		}));
	}

	putChunk(id: string, index: number, bytes: Uint8Array): Promise<void> {
		return this.putChunks(id, [{ index, bytes }]);
	}

	/** One transaction: one commit (the database syncs each commit to disk). */
	putChunks(id: string, chunks: ReadonlyArray<{ index: number; bytes: Uint8Array }>): Promise<void> {
		return this.within(chunks.reduce((n, c) => n + c.bytes.byteLength, 0), id, () => this.insertChunks(id, chunks));
	}

	/** Runs `write` when `bytes` more fit the relay's bound; a rejection (RelayFullError) otherwise, nothing written. */
	private within(bytes: number, id: string, write: () => void): Promise<void> {
		try {
			this.bound?.check(bytes, `blob ${id} of workspace ${this.workspaceId}`);
			write();
			return Promise.resolve();
		} catch (error) {
			return Promise.reject(error instanceof Error ? error : new Error(String(error)));
		}
	}


	/** Drops blob `id`, its manifest and chunks (one transaction), and stops counting them. */
	drop(id: string): Promise<void> {
		const { db } = this.relayDb;
		const freed = db.transaction(() => {
			const chunks = db.prepare<[string, string], { n: number | null }>('SELECT SUM(length(bytes)) AS n FROM blob_chunks WHERE workspace = ? AND id = ?').get(this.workspaceId, id);
			const manifest = db.prepare<[string, string], { n: number | null }>('SELECT length(manifest) AS n FROM blob_manifests WHERE workspace = ? AND id = ?').get(this.workspaceId, id);
			db.prepare('DELETE FROM blob_chunks WHERE workspace = ? AND id = ?').run(this.workspaceId, id);
			db.prepare('DELETE FROM blob_manifests WHERE workspace = ? AND id = ?').run(this.workspaceId, id);
			return (chunks?.n ?? 0) + (manifest?.n ?? 0);
		})();
		this.held -= freed;
		return Promise.resolve();
	}

	async missing(id: string): Promise<number[] | undefined> {
		const manifest = await this.manifest(id);
		if (manifest === undefined) return undefined;
		const held = new Set(this.heldChunks.all(this.workspaceId, id).map((row) => row.idx));
		return manifest.hashes.map((_, i) => i).filter((i) => !held.has(i));
	}
}

/**
 * The sealed blobs of private spaces the relay keeps without being in them, by the space's
 * document whose member asked (core/blobMesh.ts): it serves each only to that space's members.
 * It records which devices asked (`blob_pinners`), so that only they (or an admin) have it
 * dropped again. Dropping the bytes once no pin is left is the caller's ({@link forget}'s answer).
 */
export class SqliteSealedBlobIndex {
	private readonly find: Database.Statement<[string, string, string], { n: number }>;
	private readonly addNow: (workspaceId: string, blobId: string, docId: string, asker: string) => void;
	private readonly readAskers: Database.Statement<[string, string, string], { device: string }>;
	private readonly forgetNow: (workspaceId: string, blobId: string, docId: string, asker: string | undefined) => boolean;

	constructor(relayDb: RelayDb) {
		const { db } = relayDb;
		this.find = db.prepare('SELECT 1 AS n FROM blob_spaces WHERE workspace = ? AND blob = ? AND doc = ?');
		const insert = db.prepare<[string, string, string]>('INSERT OR IGNORE INTO blob_spaces (workspace, blob, doc) VALUES (?, ?, ?)');
		const insertAsker = db.prepare<[string, string, string, string]>('INSERT OR IGNORE INTO blob_pinners (workspace, blob, doc, device) VALUES (?, ?, ?, ?)');
		this.addNow = db.transaction((workspaceId: string, blobId: string, docId: string, asker: string) => {
			insert.run(workspaceId, blobId, docId);
			insertAsker.run(workspaceId, blobId, docId, asker);
		});
		this.readAskers = db.prepare('SELECT device FROM blob_pinners WHERE workspace = ? AND blob = ? AND doc = ?');
		const dropAsker = db.prepare<[string, string, string, string]>('DELETE FROM blob_pinners WHERE workspace = ? AND blob = ? AND doc = ? AND device = ?');
		const dropAskers = db.prepare<[string, string, string]>('DELETE FROM blob_pinners WHERE workspace = ? AND blob = ? AND doc = ?');
		const dropDoc = db.prepare<[string, string, string]>('DELETE FROM blob_spaces WHERE workspace = ? AND blob = ? AND doc = ?');
		const anyDoc = db.prepare<[string, string], { n: number }>('SELECT 1 AS n FROM blob_spaces WHERE workspace = ? AND blob = ?');
		this.forgetNow = db.transaction((workspaceId: string, blobId: string, docId: string, asker: string | undefined) => {
			if (asker === undefined) dropAskers.run(workspaceId, blobId, docId);
			else dropAsker.run(workspaceId, blobId, docId, asker);
			// The document keeps it while a device's pin for it is left (an admin's UNPIN leaves none).
			if (this.readAskers.get(workspaceId, blobId, docId) === undefined) dropDoc.run(workspaceId, blobId, docId);
			return anyDoc.get(workspaceId, blobId) !== undefined;
		});
	}

	has(workspaceId: string, blobId: string, docId: string): boolean {
		return this.find.get(workspaceId, blobId, docId) !== undefined;
	}

	/** Records blob `blobId` as kept for document `docId`, at device `asker`'s request (one transaction). */
	add(workspaceId: string, blobId: string, docId: string, asker: string): void {
		this.addNow(workspaceId, blobId, docId, asker);
	}

	askers(workspaceId: string, blobId: string, docId: string): string[] {
		return this.readAskers.all(workspaceId, blobId, docId).map((row) => row.device);
	}

	/**
	 * Forgets `asker`'s pin of the blob for `docId` (every pin for it when undefined), and the
	 * document's record once no pin for it is left; whether any document still keeps the blob.
	 */
	forget(workspaceId: string, blobId: string, docId: string, asker: string | undefined): boolean {
		return this.forgetNow(workspaceId, blobId, docId, asker);
	}
}

/**
 * The relay's {@link DocStorage}: the documents of one archived workspace as rows of the
 * relay's database (relayDb.ts), one row per record of a document's log, in order. An append
 * is one committed insert (durable when it returns: WAL, synchronous FULL); a compaction
 * replaces a document's rows in one transaction, so a crash leaves either the old records or
 * the new one. A record whose CRC does not match its bytes (a flipped bit) is moved to
 * `aside` when the document opens and counted as dropped; the rest of the document loads.
 * Records the persistence policy sets aside (they no longer apply) are copied to `aside` too.
 * The policy (when to write, compact, set aside) is the workspace core's
 * (src/lib/core/persistence.ts), the same as the browser's over IndexedDB.
 *
 * Beside the adapter's shape it answers what the archive needs of the whole workspace: its
 * documents, the bytes they take (the quota), digests kept across restarts (cleared by every
 * write, and by damage found when the document loads; until it loads, a kept digest is
 * trusted), and removal.
 */
import type { Statement } from 'better-sqlite3';
import type { DocStorage, StoredDoc } from '../../src/lib/core/storage.ts';
import type { RelayDb } from './relayDb.ts';
import { crc32 } from './updateLog.ts';

interface RecordRow {
	seq: number;
	bytes: Uint8Array;
	crc: number;
}

/** See the module comment. */
export class SqliteDocStorage implements DocStorage {
	private readonly read: Statement<[string, string], RecordRow>;
	private readonly insert: Statement<[string, string, number, Uint8Array, number]>;
	private readonly deleteDoc: Statement<[string, string]>;
	private readonly deleteSeq: Statement<[string, string, number]>;
	private readonly putAside: Statement<[string, string, Uint8Array, string, number]>;
	private readonly clearDigest: Statement<[string, string]>;
	private readonly readDigest: Statement<[string, string], { digest: string }>;
	private readonly writeDigest: Statement<[string, string, string]>;
	private readonly docs: Statement<[string], { doc: string }>;
	private readonly total: Statement<[string], { total: number | null }>;

	constructor(
		private readonly relayDb: RelayDb,
		/** The workspace whose documents these are. */
		readonly workspaceId: string
	) {
		const { db } = relayDb;
		this.read = db.prepare('SELECT seq, bytes, crc FROM records WHERE workspace = ? AND doc = ? ORDER BY seq');
		this.insert = db.prepare('INSERT INTO records (workspace, doc, seq, bytes, crc) VALUES (?, ?, ?, ?, ?)');
		this.deleteDoc = db.prepare('DELETE FROM records WHERE workspace = ? AND doc = ?');
		this.deleteSeq = db.prepare('DELETE FROM records WHERE workspace = ? AND doc = ? AND seq = ?');
		this.putAside = db.prepare('INSERT INTO aside (workspace, doc, bytes, reason, at) VALUES (?, ?, ?, ?, ?)');
		this.clearDigest = db.prepare('DELETE FROM digests WHERE workspace = ? AND doc = ?');
		this.readDigest = db.prepare('SELECT digest FROM digests WHERE workspace = ? AND doc = ?');
		this.writeDigest = db.prepare('INSERT OR REPLACE INTO digests (workspace, doc, digest) VALUES (?, ?, ?)');
		this.docs = db.prepare('SELECT DISTINCT doc FROM records WHERE workspace = ?');
		this.total = db.prepare('SELECT SUM(length(bytes)) AS total FROM records WHERE workspace = ?');
	}

	async open(docId: string): Promise<StoredDoc> {
		const ws = this.workspaceId;
		const rows = this.read.all(ws, docId);
		const records: Uint8Array[] = [];
		let droppedBytes = 0;
		const damaged = rows.filter((row) => crc32(row.bytes) !== row.crc >>> 0);
		if (damaged.length > 0) {
			// Kept apart, out of the log: the document loads from the intact records.
			this.relayDb.db.transaction(() => {
				for (const row of damaged) {
					this.putAside.run(ws, docId, row.bytes, 'damaged: checksum mismatch', Date.now());
					this.deleteSeq.run(ws, docId, row.seq);
				}
				this.clearDigest.run(ws, docId);
			})();
		}
		for (const row of rows) {
			if (damaged.includes(row)) droppedBytes += row.bytes.byteLength;
			else records.push(new Uint8Array(row.bytes));
		}
		let next = rows.length > 0 ? rows[rows.length - 1]!.seq + 1 : 0;
		let count = records.length;
		const write = (update: Uint8Array) => {
			this.insert.run(ws, docId, next++, update, crc32(update));
			this.clearDigest.run(ws, docId);
		};
		return {
			records,
			droppedBytes,
			get count() {
				return count;
			},
			append: async (update) => {
				write(update);
				count++;
			},
			compact: async (state) => {
				this.relayDb.db.transaction(() => {
					this.deleteDoc.run(ws, docId);
					write(state());
				})();
				count = 1;
			},
			setAside: async (indexes) => {
				this.relayDb.db.transaction(() => {
					for (const index of indexes) {
						const record = records[index];
						if (record !== undefined) this.putAside.run(ws, docId, record, 'no longer applies', Date.now());
					}
				})();
			},
			close: async () => {}
		};
	}

	/** Every document of the workspace with at least one record. */
	list(): string[] {
		return this.docs.all(this.workspaceId).map((row) => row.doc);
	}

	/** Bytes the workspace's records take (what its quota counts). */
	bytes(): number {
		return this.total.get(this.workspaceId)?.total ?? 0;
	}

	/** The digest kept for document `docId` (written by {@link keepDigest} since its last change). */
	keptDigest(docId: string): string | undefined {
		return this.readDigest.get(this.workspaceId, docId)?.digest;
	}

	/** Keeps `digest` for document `docId` until its next write. */
	keepDigest(docId: string, digest: string): void {
		this.writeDigest.run(this.workspaceId, docId, digest);
	}

	/** Removes every record, record set aside and digest of the workspace. */
	drop(): void {
		const ws = this.workspaceId;
		const { db } = this.relayDb;
		db.transaction(() => {
			for (const table of ['records', 'aside', 'digests']) db.prepare(`DELETE FROM ${table} WHERE workspace = ?`).run(ws);
		})();
	}
}

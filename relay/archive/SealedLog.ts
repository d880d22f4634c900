/**
 * Sealed updates of private spaces the relay is not in: one
 * append-only log per space document in the relay's database (table `sealed`), of envelopes it
 * cannot read (core/spaceSeal.ts). Who may append and read is decided by the session from the
 * relay's folded team (the remote must be a current device of a member of the space); this
 * module keeps the bytes, in order, within a byte quota per workspace and what the relay
 * stores in all (diskBound.ts).
 */
import type Database from 'better-sqlite3';
import type { SealedStore } from '../../src/lib/mesh/SyncSession.ts';
import { RelayFullError, type DiskBound } from './diskBound.ts';

/** Most envelopes one read returns (what a SEALED_BATCH may carry). */
export const MAX_SEALED_READ = 256;
/** Default byte quota of one workspace's sealed logs. */
export const MAX_SEALED_BYTES = 256 * 1024 * 1024;

/** Appending would take the workspace's sealed logs past their quota; nothing was stored. */
export class SealedQuotaError extends Error {
	override name = 'SealedQuotaError';
}

/** The sealed logs of one workspace. */
export class SealedLog {
	private readonly next: Database.Statement<[string, string], { next: number }>;
	private readonly insert: Database.Statement<[string, string, number, Uint8Array]>;
	private readonly range: Database.Statement<[string, string, number, number], { bytes: Buffer }>;
	private readonly total: Database.Statement<[string], { total: number | null }>;
	private readonly appendAll: (doc: string, envelopes: Uint8Array[]) => void;
	/** Bytes the logs take, once counted (only this instance appends to them). */
	private used: number | undefined;

	constructor(
		db: Database.Database,
		private readonly workspaceId: string,
		private readonly maxBytes = MAX_SEALED_BYTES,
		/** What the relay stores in all (diskBound.ts); unbounded without. */
		private readonly bound?: Pick<DiskBound, 'check'>
	) {
		this.next = db.prepare('SELECT COALESCE(MAX(idx) + 1, 0) AS next FROM sealed WHERE workspace = ? AND doc = ?');
		this.insert = db.prepare('INSERT INTO sealed (workspace, doc, idx, bytes) VALUES (?, ?, ?, ?)');
		this.range = db.prepare('SELECT bytes FROM sealed WHERE workspace = ? AND doc = ? AND idx >= ? ORDER BY idx LIMIT ?');
		this.total = db.prepare('SELECT SUM(LENGTH(bytes)) AS total FROM sealed WHERE workspace = ?');
		this.appendAll = db.transaction((doc: string, envelopes: Uint8Array[]) => {
			const adding = envelopes.reduce((n, e) => n + e.length, 0);
			// Counted once (a sum over every row of the workspace), then kept: not a scan per append.
			const used = (this.used ??= this.bytes());
			if (used + adding > this.maxBytes) {
				throw new SealedQuotaError(`workspace ${this.workspaceId} would pass its quota of ${this.maxBytes} bytes of sealed updates`);
			}
			this.bound?.check(adding, `sealed updates of workspace ${this.workspaceId}`);
			let idx = this.next.get(this.workspaceId, doc)?.next ?? 0;
			for (const envelope of envelopes) this.insert.run(this.workspaceId, doc, idx++, envelope);
			this.used = used + adding;
		});
	}

	/** Appends envelopes to document `doc`'s log, all or none. @throws {SealedQuotaError} or {@link RelayFullError} */
	append(doc: string, envelopes: Uint8Array[]): void {
		this.appendAll(doc, envelopes);
	}

	/** Envelopes of `doc` from index `from` on: at most {@link MAX_SEALED_READ} and `maxBytes` (at least one), and whether more follow. */
	read(doc: string, from: number, maxBytes: number): { envelopes: Uint8Array[]; more: boolean } {
		const rows = this.range.all(this.workspaceId, doc, from, MAX_SEALED_READ + 1);
		const envelopes: Uint8Array[] = [];
		let bytes = 0;
		for (const row of rows.slice(0, MAX_SEALED_READ)) {
			if (envelopes.length > 0 && bytes + row.bytes.length > maxBytes) break;
			envelopes.push(new Uint8Array(row.bytes));
			bytes += row.bytes.length;
		}
		return { envelopes, more: rows.length > envelopes.length };
	}

	/** Bytes the workspace's sealed logs take, counted afresh. */
	bytes(): number {
		return this.total.get(this.workspaceId)?.total ?? 0;
	}

	/**
	 * A session's view of the logs: `mayUse` says which documents its remote peer may use. Over
	 * the quota (or the relay's bound in all), what is put is dropped and `onQuota` told (the
	 * session goes on; the sender's next WANT shows what is stored).
	 */
	storeFor(mayUse: (docId: string) => boolean, onQuota: (error: SealedQuotaError | RelayFullError) => void = () => {}): SealedStore {
		return {
			mayUse,
			put: async (docId, envelopes) => {
				try {
					this.append(docId, envelopes);
				} catch (error) {
					if (!(error instanceof SealedQuotaError || error instanceof RelayFullError)) throw error;
					onQuota(error);
				}
			},
			get: async (docId, from, maxBytes) => this.read(docId, from, maxBytes)
		};
	}
}

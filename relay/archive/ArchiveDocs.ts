/**
 * The documents of one workspace archived on the relay, as the sync protocol sees them
 * ({@link SyncDocs}): rows of the relay's database (relayDb.ts, SqliteDocStorage.ts). Every
 * update (a remote one applied with {@link ArchiveDocs.apply}, or a local edit made with
 * {@link ArchiveDocs.change}) is committed; `apply` resolves only once its update is on disk.
 * Updates are checked with updateCheck.ts's dry run and the document's write policy first,
 * and a refused one is neither applied nor stored.
 *
 * Documents load on demand: opening the archive only lists them, and a document is read when
 * a sync first needs it. At most `maxHeld` documents stay in memory; the least recently used
 * idle one beyond that is written out and freed, its digest kept (in memory and in the
 * database, so a restart needs no reload to compare digests). A relay with many workspaces
 * (or one with many documents) thus starts at once and holds only what peers are syncing.
 *
 * Quotas: one workspace may hold at most `maxDocs` documents ({@link TooManyDocumentsError})
 * and `maxBytes` bytes of records ({@link WorkspaceQuotaError}), and the relay as much as its
 * `bound` lets it hold in all (diskBound.ts `RelayFullError`); an update past any is
 * refused, with nothing stored. A local edit that says what it adds ({@link ArchiveDocs.change}:
 * team operations an admin's request seeds) is held to the same. The storage follows the core's persistence policy
 * (src/lib/core/persistence.ts: records that no longer apply are set aside, a document is
 * compacted once it holds {@link COMPACT_AFTER_RECORDS} records), the browser's policy too.
 */
import * as Y from 'yjs';
import { isId } from '../../src/lib/doc/ids.ts';
import { checkRemoteUpdate, isListedDoc, NO_TEAM, settledFor, updateContext, type DocsTeam } from '../../src/lib/doc/team/writePolicy.ts';
import { UpdateRejectedError } from '../../src/lib/mesh/errors.ts';
import { docDigest, type SyncDocs, type UpdateListener } from '../../src/lib/mesh/syncDocs.ts';
import { applicablePart, applyRemoteUpdate, clocksOfDoc } from '../../src/lib/mesh/updateCheck.ts';
import { persistDoc, type PersistedDoc } from '../../src/lib/core/persistence.ts';
import { useRelayDb } from './relayDb.ts';
import { SqliteDocStorage } from './SqliteDocStorage.ts';
import type { DiskBound } from './diskBound.ts';

export { COMPACT_AFTER_RECORDS } from '../../src/lib/core/persistence.ts';

/** Most documents one archived workspace may hold (the sync protocol's digest limit too). */
export const MAX_DOCS = 100_000;

/** Default of how many documents one archive keeps in memory. */
export const MAX_HELD_DOCS = 256;

/** Default of the bytes one archived workspace's records may take: 1 GiB. */
export const MAX_WORKSPACE_BYTES = 1024 * 1024 * 1024;

/** An update would take the workspace's records beyond its byte quota; nothing was stored. */
export class WorkspaceQuotaError extends Error {
	override name = 'WorkspaceQuotaError';
	constructor(
		readonly workspaceId: string,
		readonly limit: number
	) {
		super(`workspace ${workspaceId} would pass its quota of ${limit} bytes on this relay`);
	}
}

/** A new document would take the workspace beyond {@link MAX_DOCS}; nothing was stored. */
export class TooManyDocumentsError extends Error {
	override name = 'TooManyDocumentsError';
	constructor(
		readonly workspaceId: string,
		readonly limit: number
	) {
		super(`workspace ${workspaceId} already holds ${limit} documents, the most this relay archives for one workspace`);
	}
}

/** Options of {@link ArchiveDocs.open}. */
export interface ArchiveDocsInit {
	/** Most documents of the workspace (new ones beyond it are refused); default {@link MAX_DOCS}. */
	maxDocs?: number;
	/** Most bytes of records the workspace may take (updates beyond are refused); default {@link MAX_WORKSPACE_BYTES}. */
	maxBytes?: number;
	/** Most documents held in memory at once; default {@link MAX_HELD_DOCS}. */
	maxHeld?: number;
	/** Told of every document with damaged records set aside when it loaded (also kept in `recovered`). */
	onRecovered?: (recovered: RecoveredLog) => void;
	/** Where the database reports damage it finds and logs it moves in, when this opens it. */
	log?: (line: string) => void;
	/** What the relay stores in all, every workspace together (diskBound.ts); unbounded without. */
	bound?: Pick<DiskBound, 'check'>;
}

/** A document some of whose records were damaged and set aside when it loaded. */
export interface RecoveredLog {
	docId: string;
	/** Bytes of the damaged records. */
	droppedBytes: number;
}

/** A document held in memory with its log. */
interface Held {
	doc: Y.Doc;
	persisted: PersistedDoc;
	/** Digest of the current state, once computed; cleared by every update. */
	digest: Promise<string> | undefined;
	/** Calls using the document now; it is never evicted while one runs. */
	users: number;
	/** Held until the archive closes ({@link ArchiveDocs.hold}). */
	pinned: boolean;
}

/** What a document this peer does not hold looks like (the root before it arrives). */
const EMPTY_DOC = new Y.Doc();

/** {@link SyncDocs} over per-document update logs on disk. */
export class ArchiveDocs implements SyncDocs {
	/** Documents in memory, least recently used first. */
	private readonly held = new Map<string, Held>();
	/** Documents being loaded (or created), so two calls load one. */
	private readonly opening = new Map<string, Promise<void>>();
	/** Documents being evicted (their log closing). */
	private readonly evicting = new Map<string, Promise<void>>();
	/** Every document with a log on disk (or being created), held or not. */
	private readonly stored = new Set<string>();
	/** Digests of documents not held, kept from when they were. */
	private readonly digests = new Map<string, Promise<string>>();
	private readonly listeners = new Set<UpdateListener>();
	/** Documents with damaged records set aside when they loaded. */
	readonly recovered: RecoveredLog[] = [];
	private readonly maxDocs: number;
	private readonly maxBytes: number;
	private readonly maxHeld: number;
	/** Bytes of records stored, as last counted plus what was applied since (compactions only lower it). */
	private bytesUsed: number;
	/** Whether the quota's refusal was logged (once, not per update). */
	private quotaLogged = false;
	private closed = false;

	private constructor(
		/** The workspace id, also its root document's id. */
		readonly workspaceId: string,
		private readonly storage: SqliteDocStorage,
		private readonly release: () => void,
		private readonly init: ArchiveDocsInit
	) {
		this.maxDocs = init.maxDocs ?? MAX_DOCS;
		this.maxBytes = init.maxBytes ?? MAX_WORKSPACE_BYTES;
		this.maxHeld = Math.max(1, init.maxHeld ?? MAX_HELD_DOCS);
		for (const docId of storage.list()) if (isId(docId)) this.stored.add(docId);
		this.bytesUsed = storage.bytes();
	}

	/** Opens the archive of `workspaceId` in the relay database of `dataDir` (created when missing); loads no document yet. */
	static async open(dataDir: string, workspaceId: string, init: ArchiveDocsInit = {}): Promise<ArchiveDocs> {
		if (!isId(workspaceId)) throw new TypeError(`not a workspace id: ${workspaceId}`);
		const { relayDb, release } = useRelayDb(dataDir, init.log);
		try {
			return new ArchiveDocs(workspaceId, new SqliteDocStorage(relayDb, workspaceId), release, init);
		} catch (error) {
			release();
			throw error;
		}
	}

	/** Removes everything the relay stores of workspace `workspaceId` (its archive must be closed). */
	static async drop(dataDir: string, workspaceId: string): Promise<void> {
		const { relayDb, release } = useRelayDb(dataDir);
		try {
			new SqliteDocStorage(relayDb, workspaceId).drop();
		} finally {
			release();
		}
	}

	/** Counts afresh the bytes of records the workspace takes (compactions lower it) and keeps the count. */
	recountBytes(): number {
		this.bytesUsed = this.storage.bytes();
		return this.bytesUsed;
	}

	/** Documents held in memory now (for tests and figures). */
	get heldCount(): number {
		return this.held.size;
	}

	private async load(docId: string): Promise<void> {
		const doc = new Y.Doc({ guid: docId, gc: true });
		const persisted = persistDoc(doc, () => this.storage.open(docId));
		let report;
		try {
			report = await persisted.loaded;
		} catch (error) {
			doc.destroy();
			throw error;
		}
		if (report.droppedBytes > 0) {
			const recovered = { docId, droppedBytes: report.droppedBytes };
			this.recovered.push(recovered);
			this.init.onRecovered?.(recovered);
		}
		// Nothing changes a document while it is not held, so a digest kept from before still
		// holds, unless loading found damaged records and set them aside.
		const kept = report.droppedBytes > 0 ? undefined : this.digests.get(docId);
		const held: Held = { doc, persisted, digest: kept, users: 0, pinned: false };
		this.digests.delete(docId);
		doc.on('update', (update: Uint8Array, origin: unknown) => {
			held.digest = undefined;
			for (const listener of this.listeners) listener(docId, update, origin);
		});
		this.held.set(docId, held);
	}

	/**
	 * Runs `use` on document `docId`, loading it (or creating its log, when `create`) first; the
	 * document stays held while `use` runs. Undefined when it is not stored and not `create`d.
	 * @throws {TooManyDocumentsError} when creating it would exceed the limit.
	 */
	private async withDoc<T>(docId: string, create: boolean, use: (held: Held) => T | Promise<T>): Promise<T | undefined> {
		for (;;) {
			const held = this.held.get(docId);
			if (held !== undefined) {
				// Found and claimed in one step: eviction only ever takes unclaimed documents.
				held.users++;
				this.held.delete(docId); // most recently used last
				this.held.set(docId, held);
				try {
					return await use(held);
				} finally {
					held.users--;
					this.evict();
				}
			}
			if (this.closed) throw new Error('the archive is closed');
			const evicting = this.evicting.get(docId);
			if (evicting !== undefined) {
				await evicting;
				continue;
			}
			let opening = this.opening.get(docId);
			if (opening === undefined) {
				const isNew = !this.stored.has(docId);
				if (isNew && !create) return undefined;
				if (isNew && this.stored.size >= this.maxDocs) throw new TooManyDocumentsError(this.workspaceId, this.maxDocs);
				this.stored.add(docId); // counted at once, so concurrent creations respect the limit
				opening = this.load(docId)
					.catch((error: unknown) => {
						if (isNew) this.stored.delete(docId);
						throw error;
					})
					.finally(() => this.opening.delete(docId));
				this.opening.set(docId, opening);
			}
			await opening;
		}
	}

	/** Frees the least recently used idle documents beyond `maxHeld`. */
	private evict(): void {
		if (this.held.size <= this.maxHeld) return;
		for (const [docId, held] of this.held) {
			if (this.held.size <= this.maxHeld) return;
			if (held.users > 0) continue;
			// Computed now, from the state as it is (docDigest encodes before its first await).
			this.digests.set(docId, (held.digest ??= docDigest(held.doc)));
			this.held.delete(docId);
			const digest = this.digests.get(docId)!;
			const closing = held.persisted
				.stop() // after the pending writes and compaction
				.then(async () => this.keepDigest(docId, await digest))
				.catch(() => undefined)
				.then(() => held.doc.destroy())
				.finally(() => this.evicting.delete(docId));
			this.evicting.set(docId, closing);
		}
	}

	/** Keeps a document's digest in the database, for the next digest comparison after a restart. */
	private keepDigest(docId: string, digest: string): void {
		if (this.stored.has(docId)) this.storage.keepDigest(docId, digest);
	}

	private isRoot(docId: string): boolean {
		return docId === this.workspaceId && !this.stored.has(docId);
	}

	/** The team's answers (the core tells: OutpostCore `useTeam`). */
	private team: DocsTeam = NO_TEAM;

	useTeam(team: DocsTeam): void {
		this.team = team;
	}

	/** Asks the root when it is held (the core holds it while the workspace is open). */
	isListed(docId: string): boolean {
		return isListedDoc(this.workspaceId, this.held.get(this.workspaceId)?.doc, docId) || this.team.spaces().has(docId);
	}

	list(): string[] {
		const ids = new Set(this.stored);
		ids.add(this.workspaceId);
		return [...ids];
	}

	digest(docId: string): Promise<string> | undefined {
		const held = this.held.get(docId);
		if (held !== undefined) return (held.digest ??= docDigest(held.doc));
		const kept = this.digests.get(docId);
		if (kept !== undefined) return kept;
		const fromDb = this.stored.has(docId) ? this.storage.keptDigest(docId) : undefined;
		if (fromDb !== undefined) {
			const digest = Promise.resolve(fromDb);
			this.digests.set(docId, digest);
			return digest;
		}
		if (this.stored.has(docId)) return this.withDoc(docId, false, (h) => (h.digest ??= docDigest(h.doc))).then(orEmptyDigest);
		return this.isRoot(docId) ? docDigest(EMPTY_DOC) : undefined;
	}

	stateVector(docId: string): Uint8Array | Promise<Uint8Array | undefined> | undefined {
		const held = this.held.get(docId);
		if (held !== undefined) return Y.encodeStateVector(held.doc);
		if (this.stored.has(docId)) return this.withDoc(docId, false, (h) => Y.encodeStateVector(h.doc));
		return this.isRoot(docId) ? Y.encodeStateVector(EMPTY_DOC) : undefined;
	}

	clocks(docId: string): ((client: number) => number) | Promise<((client: number) => number) | undefined> | undefined {
		const held = this.held.get(docId);
		if (held !== undefined) return clocksOfDoc(held.doc);
		if (this.stored.has(docId)) return this.withDoc(docId, false, (h) => clocksOfDoc(h.doc));
		return undefined; // the empty root: no clocks
	}

	diff(docId: string, stateVector: Uint8Array): Uint8Array | Promise<Uint8Array | undefined> | undefined {
		const held = this.held.get(docId);
		if (held !== undefined) return Y.encodeStateAsUpdate(held.doc, stateVector);
		if (this.stored.has(docId)) return this.withDoc(docId, false, (h) => Y.encodeStateAsUpdate(h.doc, stateVector));
		return this.isRoot(docId) ? Y.encodeStateAsUpdate(EMPTY_DOC, stateVector) : undefined;
	}

	/**
	 * Applies a remote update and resolves once it is on disk.
	 * @throws {UpdateRejectedError} for a bad document id, an update that does not decode or
	 *   apply cleanly, or a new document beyond the limit ({@link TooManyDocumentsError} as its
	 *   cause); nothing is stored then.
	 */
	async apply(docId: string, update: Uint8Array, origin: unknown, from?: string): Promise<void> {
		if (this.closed) throw new UpdateRejectedError(docId, new Error('the archive is closed'));
		if (!isId(docId)) throw new UpdateRejectedError(docId, new Error('not a document id'));
		// A first check, before a new document is created, for bytes that do not even decode
		// (a stored document is checked once, below, against its state then).
		if (!this.stored.has(docId) && applicablePart(update, () => 0) === undefined) {
			throw new UpdateRejectedError(docId, new Error('the update could not be read'));
		}
		// How the root lists it decides its write policy (the core holds the root; else it is loaded).
		const root = docId !== this.workspaceId && this.stored.has(this.workspaceId) ? await this.withDoc(this.workspaceId, false, (r) => r.doc) : undefined;
		const settling = settledFor(this.team, from);
		if (settling !== undefined) await settling;
		const context = updateContext(root, docId, this.team, from);
		try {
			await this.withDoc(docId, true, async (held) => {
				// Checked against the state now: another apply may have landed while the log opened.
				const part = applicablePart(update, clocksOfDoc(held.doc));
				if (part === undefined) throw new UpdateRejectedError(docId, new Error('the update could not be read'));
				const refused = checkRemoteUpdate(this.workspaceId, docId, held.doc, part, context);
				if (refused !== undefined) throw new UpdateRejectedError(docId, new Error(refused));
				this.checkQuota(part.byteLength);
				// Nothing is kept pending (updateCheck.ts): what waits for updates not received is asked for again by the next sync.
				applyRemoteUpdate(held.doc, part, origin); // the persistence starts the write
				this.bytesUsed += part.byteLength;
				await held.persisted.written();
			});
		} catch (error) {
			throw error instanceof UpdateRejectedError ? error : new UpdateRejectedError(docId, error);
		}
	}

	/**
	 * Throws {@link WorkspaceQuotaError} when `bytes` more would pass the workspace's quota
	 * (recounted first), and RelayFullError (diskBound.ts) when they would pass what the relay
	 * stores in all.
	 */
	private checkQuota(bytes: number): void {
		if (this.bytesUsed + bytes > this.maxBytes && this.recountBytes() + bytes > this.maxBytes) this.refuseQuota(); // after a recount: compactions free room
		this.init.bound?.check(bytes, `updates of workspace ${this.workspaceId}`);
	}

	private refuseQuota(): never {
		const error = new WorkspaceQuotaError(this.workspaceId, this.maxBytes);
		if (!this.quotaLogged) {
			this.quotaLogged = true;
			this.init.log?.(`Archive ${this.workspaceId}: ${error.message}; further updates are refused until it has room`);
		}
		throw error;
	}

	/**
	 * Edits document `docId` locally (creating it when missing); resolves once the edit is on
	 * disk. `adds`, when given, is what the edit stores at most: it is held to the quotas first
	 * (as a remote update is), and nothing is edited when it does not fit. What the edit writes
	 * is counted against the workspace's quota.
	 * @throws {TooManyDocumentsError} when creating it would exceed the limit.
	 * @throws {WorkspaceQuotaError} or RelayFullError (diskBound.ts) when `adds` bytes do not fit.
	 */
	async change(docId: string, edit: (doc: Y.Doc) => void, origin: unknown = this, adds?: number): Promise<void> {
		if (!isId(docId)) throw new TypeError(`not a document id: ${docId}`);
		if (adds !== undefined) this.checkQuota(adds); // before a new document is created for it
		await this.withDoc(docId, true, async (held) => {
			let written = 0;
			const count = (update: Uint8Array) => (written += update.byteLength);
			held.doc.on('update', count);
			try {
				held.doc.transact(() => edit(held.doc), origin);
			} finally {
				held.doc.off('update', count);
			}
			this.bytesUsed += written;
			await held.persisted.written();
		});
	}

	/**
	 * Loads document `docId` (creating its log when missing) and keeps it in memory until the
	 * archive closes: the roster a TeamAuthority watches. Edits made to it are stored and
	 * reported to {@link onLocalUpdate} listeners like any local edit (not awaited: use
	 * {@link change} to wait for the disk).
	 * @throws {TooManyDocumentsError} when creating it would exceed the limit.
	 */
	async hold(docId: string): Promise<Y.Doc> {
		if (!isId(docId)) throw new TypeError(`not a document id: ${docId}`);
		const doc = await this.withDoc(docId, true, (held) => {
			// One use that never ends: eviction skips documents in use.
			if (!held.pinned) {
				held.pinned = true;
				held.users++;
			}
			return held.doc;
		});
		return doc!;
	}

	onLocalUpdate(listener: UpdateListener): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	/** Waits for pending writes, closes every log and frees the documents. */
	async close(): Promise<void> {
		this.closed = true;
		await Promise.allSettled([...this.opening.values()]);
		await Promise.allSettled([...this.evicting.values()]);
		for (const [docId, { doc, persisted }] of this.held) {
			await persisted.stop();
			this.keepDigest(docId, await docDigest(doc));
			doc.destroy();
		}
		this.held.clear();
		this.release();
	}
}

/** A stored document always has a digest; the empty one if it vanished meanwhile. */
function orEmptyDigest(digest: string | undefined): Promise<string> | string {
	return digest ?? docDigest(EMPTY_DOC);
}

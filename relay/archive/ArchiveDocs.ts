/**
 * The documents of one workspace archived on the relay's disk, as the sync protocol sees
 * them ({@link SyncDocs}): one {@link UpdateLog} per document under
 * `<data>/workspaces/<workspaceId>/<docId>.ylog`. Every update (a remote one applied with
 * {@link ArchiveDocs.apply}, or a local edit made with {@link ArchiveDocs.change}) is appended
 * and fsynced; `apply` resolves only once its update is on disk. Updates are checked with
 * updateCheck.ts's dry run first, and a refused one is neither applied nor stored.
 *
 * Documents are loaded into memory when the archive opens (the relay serves them all); the
 * workspace root (whose id is the workspace id) is always held, empty until it arrives. A log
 * is compacted to one record once it holds {@link COMPACT_AFTER_RECORDS} records.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as Y from 'yjs';
import { isId } from '../../src/lib/doc/ids.ts';
import { UpdateRejectedError } from '../../src/lib/mesh/errors.ts';
import { docDigest, type SyncDocs, type UpdateListener } from '../../src/lib/mesh/syncDocs.ts';
import { applicablePart } from '../../src/lib/mesh/updateCheck.ts';
import { removeStaleTemp, syncDir, UpdateLog } from './updateLog.ts';

/** Records after which a document's log is rewritten as one. */
export const COMPACT_AFTER_RECORDS = 1000;

const LOG_SUFFIX = '.ylog';

/** A log whose tail was cut off when the archive opened. */
export interface RecoveredLog {
	docId: string;
	/** Bytes of the torn or corrupt tail that were dropped. */
	droppedBytes: number;
}

/** A document held in memory with its log. */
interface Held {
	doc: Y.Doc;
	log: UpdateLog;
	/** Digest of the current state, once computed; cleared by every update. */
	digest: Promise<string> | undefined;
	/** The write of the newest update (rejects when it failed). */
	written: Promise<void> | undefined;
	/** Whether a compaction is queued. */
	compacting: boolean;
}

/** What a document this peer does not hold looks like (the root before it arrives). */
const EMPTY_DOC = new Y.Doc();

/** The directory of workspace `workspaceId`'s documents under `dataDir`. */
export function workspaceDir(dataDir: string, workspaceId: string): string {
	return join(dataDir, 'workspaces', workspaceId);
}

/** {@link SyncDocs} over per-document update logs on disk. */
export class ArchiveDocs implements SyncDocs {
	private readonly held = new Map<string, Held>();
	/** Documents being created (their log opening), so two applies create one. */
	private readonly opening = new Map<string, Promise<Held>>();
	private readonly listeners = new Set<UpdateListener>();
	/** Logs whose tail was dropped when the archive opened. */
	readonly recovered: RecoveredLog[] = [];
	private closed = false;

	private constructor(
		/** The workspace id, also its root document's id. */
		readonly workspaceId: string,
		/** The directory holding the logs. */
		readonly dir: string
	) {}

	/** Opens (creating when missing) the archive of `workspaceId` under `dataDir`, loading every document. */
	static async open(dataDir: string, workspaceId: string): Promise<ArchiveDocs> {
		if (!isId(workspaceId)) throw new TypeError(`not a workspace id: ${workspaceId}`);
		const dir = workspaceDir(dataDir, workspaceId);
		await mkdir(dir, { recursive: true, mode: 0o700 });
		await syncDir(join(dataDir, 'workspaces'));
		const archive = new ArchiveDocs(workspaceId, dir);
		for (const name of await readdir(dir)) {
			const docId = name.slice(0, -LOG_SUFFIX.length);
			if (name.endsWith(LOG_SUFFIX) && isId(docId)) await archive.load(docId);
		}
		return archive;
	}

	private async load(docId: string): Promise<Held> {
		const path = join(this.dir, docId + LOG_SUFFIX);
		await removeStaleTemp(path);
		const { log, contents } = await UpdateLog.open(path);
		if (contents.droppedBytes > 0) this.recovered.push({ docId, droppedBytes: contents.droppedBytes });
		const doc = new Y.Doc({ guid: docId, gc: true });
		// Each record was checked before it was stored; one that no longer applies (a bug, a
		// disk error the CRC missed) is skipped rather than making the whole document unreadable.
		for (const update of contents.updates) {
			try {
				Y.applyUpdate(doc, update);
			} catch {
				/* skipped; see above */
			}
		}
		const held: Held = { doc, log, digest: undefined, written: undefined, compacting: false };
		doc.on('update', (update: Uint8Array, origin: unknown) => {
			held.digest = undefined;
			held.written = log.append(update);
			held.written.catch(() => undefined); // awaited (and reported) by apply() and change()
			if (log.records >= COMPACT_AFTER_RECORDS && !held.compacting) {
				held.compacting = true;
				// A failed compaction leaves the old log whole; the next update tries again.
				void log
					.compact(() => Y.encodeStateAsUpdate(doc))
					.catch(() => undefined)
					.finally(() => (held.compacting = false));
			}
			for (const listener of this.listeners) listener(docId, update, origin);
		});
		this.held.set(docId, held);
		return held;
	}

	/** The held document `docId`, creating its log when missing. */
	private async get(docId: string): Promise<Held> {
		const held = this.held.get(docId);
		if (held) return held;
		let opening = this.opening.get(docId);
		if (!opening) {
			opening = this.load(docId).finally(() => this.opening.delete(docId));
			this.opening.set(docId, opening);
		}
		return opening;
	}

	private peek(docId: string): Y.Doc | undefined {
		return this.held.get(docId)?.doc ?? (docId === this.workspaceId ? EMPTY_DOC : undefined);
	}

	list(): string[] {
		const ids = new Set(this.held.keys());
		ids.add(this.workspaceId);
		return [...ids];
	}

	digest(docId: string): Promise<string> | undefined {
		const held = this.held.get(docId);
		if (!held) {
			const empty = this.peek(docId);
			return empty && docDigest(empty);
		}
		held.digest ??= docDigest(held.doc);
		return held.digest;
	}

	stateVector(docId: string): Uint8Array | undefined {
		const doc = this.peek(docId);
		return doc && Y.encodeStateVector(doc);
	}

	diff(docId: string, stateVector: Uint8Array): Uint8Array | undefined {
		const doc = this.peek(docId);
		return doc && Y.encodeStateAsUpdate(doc, stateVector);
	}

	/**
	 * Applies a remote update and resolves once it is on disk.
	 * @throws {UpdateRejectedError} for a bad document id or an update that does not decode or
	 *   apply cleanly; nothing is stored then.
	 */
	async apply(docId: string, update: Uint8Array, origin: unknown): Promise<void> {
		if (this.closed) throw new UpdateRejectedError(docId, new Error('the archive is closed'));
		if (!isId(docId)) throw new UpdateRejectedError(docId, new Error('not a document id'));
		const current = this.held.get(docId)?.doc ?? new Y.Doc();
		if (applicablePart(update, Y.encodeStateVector(current)) === undefined) {
			throw new UpdateRejectedError(docId, new Error('the update could not be read'));
		}
		const held = await this.get(docId);
		// Checked again against the state now: another apply may have landed while the log opened.
		const part = applicablePart(update, Y.encodeStateVector(held.doc));
		if (part === undefined) throw new UpdateRejectedError(docId, new Error('the update could not be read'));
		held.written = undefined;
		Y.applyUpdate(held.doc, part, origin); // its update handler starts the write
		await held.written;
	}

	/** Edits document `docId` locally (creating it when missing); resolves once the edit is on disk. */
	async change(docId: string, edit: (doc: Y.Doc) => void, origin: unknown = this): Promise<void> {
		if (!isId(docId)) throw new TypeError(`not a document id: ${docId}`);
		const held = await this.get(docId);
		held.written = undefined;
		held.doc.transact(() => edit(held.doc), origin);
		await held.written;
	}

	onLocalUpdate(listener: UpdateListener): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	/** Waits for pending writes, closes every log and frees the documents. */
	async close(): Promise<void> {
		this.closed = true;
		await Promise.allSettled([...this.opening.values()]);
		for (const { doc, log } of this.held.values()) {
			await log.close();
			doc.destroy();
		}
		this.held.clear();
	}
}

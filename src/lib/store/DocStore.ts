/**
 * Loads and persists shared documents, reference-counted so a document shown in two places
 * is loaded once. The bytes live in IndexedDB (one database per document, IdbDocStorage.ts);
 * loading, storing and compacting follow the workspace core's persistence policy
 * (core/persistence.ts), the same as the relay's. A damaged stored update never takes the
 * document down, let alone the workspace: it is set aside, the rest loads, and the handle
 * carries a {@link DocCorruptError}.
 */
import * as Y from 'yjs';
import { persistDoc, type PersistedDoc } from '../core/persistence.js';
import { DocCorruptError, UpdateRejectedError } from './errors.js';
import { IdbDocStorage, IdbStoredDoc, lastStoredKey } from './IdbDocStorage.js';
import { applyRemoteUpdate } from '../mesh/updateCheck.js';

export { QUARANTINE_PREFIX } from './IdbDocStorage.js';

/** Prefix of the IndexedDB database holding a document. */
export const DOC_DB_PREFIX = 'outpost-doc:';

/** A loaded document. */
export interface DocHandle {
	readonly id: string;
	readonly doc: Y.Doc;
	/** Resolves once stored state is loaded (or recovered); never rejects. */
	readonly ready: Promise<void>;
	/** Set when part of the stored state was damaged and set aside (this session). */
	readonly error: DocCorruptError | undefined;
}

/**
 * Called with every change to an open document after it loaded: its id, the Yjs update and
 * the transaction origin. Loading itself is not reported.
 */
export type DocUpdateListener = (id: string, update: Uint8Array, origin: unknown) => void;

interface Entry {
	handle: DocHandle & { error: DocCorruptError | undefined };
	persistence: PersistedDoc;
	refs: number;
}

/** Opens documents by id; see the module comment. */
export class DocStore {
	private readonly entries = new Map<string, Entry>();
	/** Damage found this session, by document id: reported on every later open too. */
	private readonly damage = new Map<string, DocCorruptError>();
	private readonly updateListeners = new Set<DocUpdateListener>();

	/** Called with every damaged document and every update that could not be applied. */
	onError: (error: Error) => void = (error) => console.warn(error.message);

	/**
	 * @param prefix Prefix of the documents' database names: a second store with another
	 * prefix keeps its documents apart (a second peer in one process, in tests).
	 */
	constructor(private readonly prefix = DOC_DB_PREFIX) {
		this.storage = new IdbDocStorage(prefix);
	}

	private readonly storage: IdbDocStorage;

	/** The database name of a document in the default store. */
	static dbName(id: string): string {
		return DOC_DB_PREFIX + id;
	}

	/**
	 * Subscribes to every change of every open document (see {@link DocUpdateListener});
	 * returns an unsubscribe. A listener that throws is reported through {@link onError}.
	 */
	onUpdate(listener: DocUpdateListener): () => void {
		this.updateListeners.add(listener);
		return () => this.updateListeners.delete(listener);
	}

	/** Opens (or shares) a document; pair every call with {@link release}. */
	open(id: string): DocHandle {
		const existing = this.entries.get(id);
		if (existing) {
			existing.refs++;
			return existing.handle;
		}
		const doc = new Y.Doc({ guid: id });
		const persistence = persistDoc(doc, () => this.storage.open(id), { onError: (error) => this.onError(error) });
		const handle: Entry['handle'] = {
			id,
			doc,
			error: this.damage.get(id),
			ready: persistence.loaded.then(
				({ setAside }) => {
					// Watched from here on, like persistence: an `update` listener during loading
					// would make Yjs encode the whole stored state once more.
					if (!doc.isDestroyed) doc.on('update', (update: Uint8Array, origin: unknown) => this.emitUpdate(id, update, origin));
					if (setAside === 0) return;
					handle.error = new DocCorruptError(id, setAside);
					this.damage.set(id, handle.error);
					this.onError(handle.error);
				},
				(error: unknown) => this.onError(error instanceof Error ? error : new Error(String(error)))
			)
		};
		this.entries.set(id, { handle, persistence, refs: 1 });
		return handle;
	}

	/** Drops one reference; the last one closes the database and frees the document. */
	release(handle: DocHandle): void {
		const entry = this.entries.get(handle.id);
		if (!entry || entry.handle !== handle) return;
		if (--entry.refs > 0) return;
		this.entries.delete(handle.id);
		void entry.persistence.stop(); // stops persisting at once, closes the database later
		handle.doc.destroy();
	}

	/** The key of a document's newest stored update; a change means the document changed. */
	lastStoredKey(id: string): Promise<number | undefined> {
		// An open document's database connection answers without opening another one.
		const stored = this.entries.get(id)?.persistence.stored;
		return stored instanceof IdbStoredDoc ? stored.lastKey() : lastStoredKey(this.prefix + id);
	}

	/** Whether a document is loaded now. */
	isOpen(id: string): boolean {
		return this.entries.has(id);
	}

	/**
	 * Applies an update that came from elsewhere (a peer, an import), keeping nothing pending
	 * (updateCheck.ts `applyRemoteUpdate`: the write policies checked what integrates now).
	 * Unreadable bytes are reported through {@link onError} and return false; they never throw.
	 */
	applyUpdate(handle: DocHandle, update: Uint8Array, origin: unknown): boolean {
		try {
			applyRemoteUpdate(handle.doc, update, origin);
			return true;
		} catch (cause) {
			this.onError(new UpdateRejectedError(handle.id, cause));
			return false;
		}
	}

	private emitUpdate(id: string, update: Uint8Array, origin: unknown): void {
		for (const listener of [...this.updateListeners]) {
			try {
				listener(id, update, origin);
			} catch (error) {
				this.onError(error instanceof Error ? error : new Error(String(error)));
			}
		}
	}

	/** Closes every open document. */
	closeAll(): void {
		for (const entry of [...this.entries.values()]) {
			entry.refs = 1;
			this.release(entry.handle);
		}
	}
}

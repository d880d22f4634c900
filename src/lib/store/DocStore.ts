/**
 * Loads and persists shared documents with y-indexeddb (one IndexedDB database per
 * document), reference-counted so a document shown in two places is loaded once.
 *
 * A damaged stored update must not take the document, let alone the workspace, down:
 * y-indexeddb applies all stored updates in one transaction and, if one is unreadable,
 * never reports "synced". We notice that (the load transaction ends without the synced
 * flag), set the unreadable entries aside in the database's `custom` store (kept, never
 * deleted), reload the rest and report a {@link DocCorruptError} for that document only.
 */
import * as idb from 'lib0/indexeddb';
import * as Y from 'yjs';
import { IndexeddbPersistence } from 'y-indexeddb';
import { DocCorruptError, UpdateRejectedError } from './errors.js';

/** Prefix of the IndexedDB database holding a document. */
export const DOC_DB_PREFIX = 'outpost-doc:';
/** Prefix of the `custom`-store keys under which damaged updates are kept. */
export const QUARANTINE_PREFIX = 'quarantine:';

/** A loaded document. */
export interface DocHandle {
	readonly id: string;
	readonly doc: Y.Doc;
	/** Resolves once stored state is loaded (or recovered); never rejects. */
	readonly ready: Promise<void>;
	/** Set when part of the stored state was damaged and set aside. */
	readonly error: DocCorruptError | undefined;
}

interface Entry {
	handle: DocHandle & { error: DocCorruptError | undefined };
	persistence: IndexeddbPersistence;
	refs: number;
}

/** Opens documents by id; see the module comment. */
export class DocStore {
	private readonly entries = new Map<string, Entry>();
	/** Damage found this session, by document id: reported on every later open too. */
	private readonly damage = new Map<string, DocCorruptError>();

	/** Called with every update that could not be applied (logged by default). */
	onError: (error: Error) => void = (error) => console.warn(error.message);

	/** The database name of a document. */
	static dbName(id: string): string {
		return DOC_DB_PREFIX + id;
	}

	/** Opens (or shares) a document; pair every call with {@link release}. */
	open(id: string): DocHandle {
		const existing = this.entries.get(id);
		if (existing) {
			existing.refs++;
			return existing.handle;
		}
		const doc = new Y.Doc({ guid: id, gc: true });
		let resolveReady!: () => void;
		const ready = new Promise<void>((resolve) => (resolveReady = resolve));
		const handle = { id, doc, ready, error: this.damage.get(id) };
		const entry: Entry = { handle, persistence: this.persist(handle, resolveReady), refs: 1 };
		this.entries.set(id, entry);
		return handle;
	}

	/** Drops one reference; the last one closes the database and frees the document. */
	release(handle: DocHandle): void {
		const entry = this.entries.get(handle.id);
		if (!entry || entry.handle !== handle) return;
		if (--entry.refs > 0) return;
		this.entries.delete(handle.id);
		void entry.persistence.destroy();
		handle.doc.destroy();
	}

	/** Whether a document is loaded now. */
	isOpen(id: string): boolean {
		return this.entries.has(id);
	}

	/**
	 * Applies an update that came from elsewhere (a peer, an import). Unreadable bytes are
	 * reported through {@link onError} and returned as false; they never throw.
	 */
	applyUpdate(handle: DocHandle, update: Uint8Array, origin: unknown): boolean {
		try {
			Y.applyUpdate(handle.doc, update, origin);
			return true;
		} catch (cause) {
			this.onError(new UpdateRejectedError(handle.id, cause));
			return false;
		}
	}

	/** Closes every open document. */
	closeAll(): void {
		for (const entry of [...this.entries.values()]) {
			entry.refs = 1;
			this.release(entry.handle);
		}
	}

	private persist(handle: Entry['handle'], resolveReady: () => void): IndexeddbPersistence {
		const { doc, id } = handle;
		const persistence = new IndexeddbPersistence(DocStore.dbName(id), doc);
		persistence.once('synced', () => resolveReady());
		const onAfterTransaction = (tr: Y.Transaction) => {
			if (tr.origin !== persistence) return;
			doc.off('afterTransaction', onAfterTransaction);
			// y-indexeddb sets `synced` right after its load transaction returns; still unset
			// once this task ends means one of the stored updates threw.
			queueMicrotask(() => {
				if (persistence.synced || doc.isDestroyed) return;
				void this.recover(handle, persistence).then(resolveReady);
			});
		};
		doc.on('afterTransaction', onAfterTransaction);
		return persistence;
	}

	private async recover(handle: Entry['handle'], failed: IndexeddbPersistence): Promise<void> {
		await failed.destroy();
		const name = DocStore.dbName(handle.id);
		const quarantined = await quarantineDamaged(name);
		handle.error = new DocCorruptError(handle.id, quarantined);
		this.damage.set(handle.id, handle.error);
		this.onError(handle.error);
		const entry = this.entries.get(handle.id);
		if (!entry || handle.doc.isDestroyed) return;
		const persistence = new IndexeddbPersistence(name, handle.doc);
		entry.persistence = persistence;
		await persistence.whenSynced;
	}
}

/**
 * Moves every stored update that Yjs cannot read from the `updates` store into the
 * `custom` store (under {@link QUARANTINE_PREFIX}), so loading succeeds and no byte is lost.
 * Returns how many were moved.
 */
export async function quarantineDamaged(dbName: string): Promise<number> {
	const db = await idb.openDB(dbName, (d) =>
		idb.createStores(d, [['updates', { autoIncrement: true }], ['custom']])
	);
	try {
		const [updates] = idb.transact(db, ['updates'], 'readonly');
		const pairs = await idb.getAllKeysValues(updates);
		const scratch = new Y.Doc();
		const damaged: { k: unknown; v: unknown }[] = [];
		for (const pair of pairs) {
			try {
				if (!(pair.v instanceof Uint8Array)) throw new TypeError('not bytes');
				Y.applyUpdate(scratch, pair.v);
			} catch {
				damaged.push(pair);
			}
		}
		scratch.destroy();
		if (damaged.length === 0) return 0;
		const [store, custom] = idb.transact(db, ['updates', 'custom']);
		const now = Date.now();
		await Promise.all(
			damaged.flatMap(({ k, v }) => [
				idb.put(custom, v as ArrayBuffer, `${QUARANTINE_PREFIX}${now}:${String(k)}`),
				idb.del(store, k as number)
			])
		);
		return damaged.length;
	} finally {
		db.close();
	}
}

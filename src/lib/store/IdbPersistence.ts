/**
 * Keeps one Y.Doc in IndexedDB with y-indexeddb's storage functions and layout (database
 * per document, an `updates` store of Yjs updates, a `custom` store), under a lifecycle of
 * our own. y-indexeddb's `IndexeddbPersistence` loads inside its constructor and, when one
 * stored update is unreadable, never reports "synced" and leaves an unhandled rejection; here
 * the same `fetchUpdates` call is awaited, so a failure can be caught: the unreadable entries
 * are moved aside (never deleted) and the rest is loaded.
 */
import * as idb from 'lib0/indexeddb';
import * as Y from 'yjs';
import { PREFERRED_TRIM_SIZE, fetchUpdates, storeState } from 'y-indexeddb';

/** Prefix of the `custom`-store keys under which damaged updates are kept. */
export const QUARANTINE_PREFIX = 'quarantine:';

const COMPACT_DELAY_MS = 1000;

/** How a load went. */
export interface LoadResult {
	/** Stored updates that could not be read and were set aside. */
	quarantined: number;
}

/**
 * Persistence of one document. Field names follow y-indexeddb's `IndexeddbPersistence`,
 * whose exported `fetchUpdates`/`storeState` functions operate on them.
 */
export class IdbPersistence {
	db: IDBDatabase | null = null;
	_dbref = 0;
	_dbsize = 0;
	_destroyed = false;
	/** Resolves once stored state is in the document; never rejects. */
	readonly loaded: Promise<LoadResult>;
	private compactTimer: ReturnType<typeof setTimeout> | undefined;

	constructor(
		readonly name: string,
		readonly doc: Y.Doc
	) {
		this.loaded = this.load();
	}

	/**
	 * Stores every later change. Attached only once loading has applied the stored state: an
	 * `update` listener makes Yjs encode each transaction, and encoding the whole loaded
	 * document (hundreds of ms for a 100,000-message channel) would be thrown away.
	 */
	private readonly storeUpdate = (update: Uint8Array, origin: unknown): void => {
		if (!this.db || origin === this || this._destroyed) return;
		const [updates] = idb.transact(this.db, ['updates']);
		void idb.addAutoKey(updates, update as unknown as ArrayBuffer); // lib0's types omit typed arrays
		if (++this._dbsize >= PREFERRED_TRIM_SIZE) {
			clearTimeout(this.compactTimer);
			this.compactTimer = setTimeout(() => void storeState(this as never, false).catch(() => undefined), COMPACT_DELAY_MS);
		}
	};

	private async load(): Promise<LoadResult> {
		this.db = await idb.openDB(this.name, (db) =>
			idb.createStores(db, [['updates', { autoIncrement: true }], ['custom']])
		);
		// Edits made before loading finished are stored first, as y-indexeddb does.
		const saveEarlyEdits = (store: IDBObjectStore) => {
			if (this.doc.store.clients.size > 0) void idb.addAutoKey(store, Y.encodeStateAsUpdate(this.doc) as unknown as ArrayBuffer);
		};
		// `this as never`: y-indexeddb types its parameter as its own class; these functions
		// only touch the fields this class shares with it.
		const follow = () => {
			if (!this._destroyed) this.doc.on('update', this.storeUpdate);
		};
		try {
			await fetchUpdates(this as never, saveEarlyEdits, follow);
			return { quarantined: 0 };
		} catch {
			if (this._destroyed) return { quarantined: 0 };
			const quarantined = await quarantineDamaged(this.db);
			await fetchUpdates(this as never, saveEarlyEdits).catch(() => undefined);
			follow();
			return { quarantined };
		}
	}

	/** Stops persisting and closes the database. */
	async destroy(): Promise<void> {
		clearTimeout(this.compactTimer);
		this._destroyed = true;
		this.doc.off('update', this.storeUpdate);
		await this.loaded.catch(() => undefined);
		this.db?.close();
	}
}

/**
 * The key of the newest stored update of a document database (undefined when empty):
 * it changes whenever anything is written, so it tells whether a document changed since a
 * key was noted, without loading it.
 */
export async function lastStoredKey(name: string): Promise<number | undefined> {
	const db = await idb.openDB(name, (d) => idb.createStores(d, [['updates', { autoIncrement: true }], ['custom']]));
	try {
		return await lastKeyIn(db);
	} finally {
		db.close();
	}
}

/** The newest update key in an open document database. */
export async function lastKeyIn(db: IDBDatabase): Promise<number | undefined> {
	const [updates] = idb.transact(db, ['updates'], 'readonly');
	const key: unknown = await idb.getLastKey(updates);
	return typeof key === 'number' ? key : undefined;
}

/**
 * Moves every stored update that Yjs cannot read from the `updates` store into the
 * `custom` store (under {@link QUARANTINE_PREFIX}). Returns how many were moved.
 */
export async function quarantineDamaged(db: IDBDatabase): Promise<number> {
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
}

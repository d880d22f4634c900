/**
 * The browser's {@link DocStorage}: one IndexedDB database per document, in y-indexeddb's
 * layout (an auto-increment `updates` store of Yjs updates, a `custom` store), so documents
 * stored by earlier versions load as they are. Records set aside are kept in `custom` under
 * {@link QUARANTINE_PREFIX}. IndexedDB runs transactions over the same store in the order they
 * were created, so appends and compactions take effect in call order without waiting on each
 * other. The persistence policy is the core's (core/persistence.ts).
 *
 * Several tabs of one browser may each hold a document's database open (second tabs sync with
 * the lock holder over the mesh, not through storage), so a compaction deletes only the records
 * this tab read or wrote: another tab's records stay and load next time (found in review: a
 * compaction deleted every record below its state, another tab's durable edits too). A record
 * IndexedDB cannot read back (in Chromium, a value kept in a lost blob file fails the whole
 * getAll) reads as an empty record, which does not load; the rest loads, and it stays stored
 * (not set aside nor compacted away), to be read again next time.
 */
import type { DocStorage, StoredDoc } from '../core/storage.js';

/** Prefix of the `custom`-store keys under which damaged updates are kept. */
export const QUARANTINE_PREFIX = 'quarantine:';

const UPDATES = 'updates';
const CUSTOM = 'custom';

/** Opens (creating when missing) the database of one document. */
function openDocDb(name: string): Promise<IDBDatabase> {
	return new Promise((resolve, reject) => {
		const request = indexedDB.open(name);
		request.onupgradeneeded = () => {
			const db = request.result;
			if (!db.objectStoreNames.contains(UPDATES)) db.createObjectStore(UPDATES, { autoIncrement: true });
			if (!db.objectStoreNames.contains(CUSTOM)) db.createObjectStore(CUSTOM);
		};
		request.onsuccess = () => resolve(request.result);
		request.onerror = () => reject(request.error ?? new Error(`could not open ${name}`));
	});
}

/** Resolves when `tx` commits; rejects when it fails or aborts. */
function committed(tx: IDBTransaction): Promise<void> {
	return new Promise((resolve, reject) => {
		tx.oncomplete = () => resolve();
		tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
		tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
	});
}

function requested<T>(request: IDBRequest<T>): Promise<T> {
	return new Promise((resolve, reject) => {
		request.onsuccess = () => resolve(request.result);
		request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'));
	});
}

/** The key of the newest stored update of an open document database (undefined when empty). */
export async function lastKeyIn(db: IDBDatabase): Promise<number | undefined> {
	const cursor = await requested(db.transaction(UPDATES, 'readonly').objectStore(UPDATES).openKeyCursor(null, 'prev'));
	const key = cursor?.key;
	return typeof key === 'number' ? key : undefined;
}

/**
 * The key of the newest stored update of database `name` (undefined when empty): it changes
 * whenever anything is written, so it tells whether a document changed since a key was noted,
 * without loading it.
 */
export async function lastStoredKey(name: string): Promise<number | undefined> {
	const db = await openDocDb(name);
	try {
		return await lastKeyIn(db);
	} finally {
		db.close();
	}
}

/** The result of `request`, or undefined when it fails (the failure does not abort its transaction). */
function requestedOrUndefined<T>(make: () => IDBRequest<T>): Promise<T | undefined> {
	return new Promise((resolve) => {
		let request: IDBRequest<T>;
		try {
			request = make();
		} catch {
			resolve(undefined);
			return;
		}
		request.onsuccess = () => resolve(request.result);
		request.onerror = (event) => {
			event.preventDefault();
			resolve(undefined);
		};
	});
}

/** Every stored update with its key: all at once, or one by one when that fails (an unreadable record reads as undefined). */
async function readUpdates(db: IDBDatabase): Promise<{ key: IDBValidKey; value: unknown }[]> {
	try {
		const store = db.transaction(UPDATES, 'readonly').objectStore(UPDATES);
		const [keys, values] = await Promise.all([requested(store.getAllKeys()), requested(store.getAll())]);
		return keys.map((key, i) => ({ key, value: values[i] as unknown }));
	} catch {
		const keys = await requested(db.transaction(UPDATES, 'readonly').objectStore(UPDATES).getAllKeys());
		const store = db.transaction(UPDATES, 'readonly').objectStore(UPDATES);
		const values = await Promise.all(keys.map((key) => requestedOrUndefined(() => store.get(key))));
		return keys.map((key, i) => ({ key, value: values[i] as unknown }));
	}
}

/** One document's open database. */
export class IdbStoredDoc implements StoredDoc {
	readonly droppedBytes = 0;
	count: number;
	private pending: Promise<unknown> = Promise.resolve();
	/** Keys of the records this tab read or wrote: what its compactions may delete. */
	private readonly ours = new Set<IDBValidKey>();

	constructor(
		readonly db: IDBDatabase,
		readonly records: readonly Uint8Array[],
		/** The stored values behind `records` (a value that was not bytes reads as an empty record). */
		private readonly stored: ReadonlyArray<{ key: IDBValidKey; value: unknown }>
	) {
		this.count = records.length;
		// A record that could not be read (undefined) stays where it is: the failure may pass.
		for (const { key, value } of stored) if (value !== undefined) this.ours.add(key);
	}

	private track<T>(promise: Promise<T>): Promise<T> {
		this.pending = promise.catch(() => undefined);
		return promise;
	}

	append(update: Uint8Array): Promise<void> {
		const tx = this.db.transaction(UPDATES, 'readwrite');
		const added = tx.objectStore(UPDATES).add(update);
		added.onsuccess = () => this.ours.add(added.result);
		this.count++;
		return this.track(committed(tx));
	}

	compact(state: () => Uint8Array): Promise<void> {
		const tx = this.db.transaction(UPDATES, 'readwrite');
		const updates = tx.objectStore(UPDATES);
		const added = updates.add(state());
		// What this tab stored before the state (it includes all of it) goes; transactions run in
		// creation order, so every earlier append's key is known by now.
		added.onsuccess = () => {
			for (const key of this.ours) updates.delete(key);
			this.ours.clear();
			this.ours.add(added.result);
		};
		this.count = 1;
		return this.track(committed(tx));
	}

	setAside(indexes: readonly number[]): Promise<void> {
		const tx = this.db.transaction([UPDATES, CUSTOM], 'readwrite');
		const now = Date.now();
		for (const index of indexes) {
			const entry = this.stored[index];
			// Unreadable this time: left in place, never compacted away, read again next time (found in review).
			if (entry === undefined || entry.value === undefined) continue;
			tx.objectStore(CUSTOM).put(entry.value, `${QUARANTINE_PREFIX}${now}:${String(entry.key)}`);
			tx.objectStore(UPDATES).delete(entry.key);
			this.ours.delete(entry.key);
		}
		return this.track(committed(tx));
	}

	/** The key of the newest stored update (see {@link lastStoredKey}). */
	lastKey(): Promise<number | undefined> {
		return lastKeyIn(this.db);
	}

	async close(): Promise<void> {
		await this.pending;
		this.db.close();
	}
}

/** See the module comment. */
export class IdbDocStorage implements DocStorage {
	/** `prefix`: of each document's database name; a second prefix keeps a second store apart. */
	constructor(readonly prefix: string) {}

	async open(docId: string): Promise<IdbStoredDoc> {
		const db = await openDocDb(this.prefix + docId);
		try {
			const stored = await readUpdates(db);
			// A value that is not bytes cannot be an update: it reads as an empty record, which does not apply.
			const records = stored.map(({ value }) => (value instanceof Uint8Array ? value : new Uint8Array(0)));
			return new IdbStoredDoc(db, records, stored);
		} catch (error) {
			db.close();
			throw error;
		}
	}
}

/**
 * The workspace core's storage adapter: the bytes of each document as a log of Yjs updates,
 * kept by one platform (IndexedDB in the browser: store/IdbDocStorage.ts; files on the relay's
 * disk: relay/archive/FileDocStorage.ts; memory in tests: memoryStorage.ts). An adapter only
 * reads and writes records; when to write, compact and set records aside is the persistence
 * policy's (persistence.ts), the same on every platform.
 */

/** The documents one platform stores (for one workspace, or one device). */
export interface DocStorage {
	/** Opens the log of document `docId`, creating it when missing, and reads its records. */
	open(docId: string): Promise<StoredDoc>;
}

/** One document's open log. */
export interface StoredDoc {
	/** The records read when it opened, oldest first. */
	readonly records: readonly Uint8Array[];
	/** Bytes at its end that were not a whole record (a write cut short) and were dropped when it opened. */
	readonly droppedBytes: number;
	/** Records in the log now (read, appended, or 1 after a compaction). */
	readonly count: number;
	/**
	 * Appends one record; resolves once it is durable. Appends and compactions take effect in
	 * call order.
	 */
	append(update: Uint8Array): Promise<void>;
	/** Replaces every record by one, `state()` (asked no earlier than the call), atomically. */
	compact(state: () => Uint8Array): Promise<void>;
	/** Keeps copies of records read at open (by index) apart from the log, never to be loaded again nor deleted. */
	setAside(indexes: readonly number[]): Promise<void>;
	/** Waits for pending writes, then closes the log. */
	close(): Promise<void>;
}

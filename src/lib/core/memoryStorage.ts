/**
 * A {@link DocStorage} in memory: the logs live as long as the object. For tests of the
 * persistence policy and of anything built on the core that should not touch a disk.
 */
import type { DocStorage, StoredDoc } from './storage.js';

/** See the module comment. */
export class MemoryDocStorage implements DocStorage {
	/** The records of every document, by id (tests may damage them). */
	readonly logs = new Map<string, Uint8Array[]>();
	/** Records set aside, by document id. */
	readonly aside = new Map<string, Uint8Array[]>();

	open(docId: string): Promise<StoredDoc> {
		let log = this.logs.get(docId);
		if (log === undefined) this.logs.set(docId, (log = []));
		const records = [...log];
		const storage = this;
		return Promise.resolve({
			records,
			droppedBytes: 0,
			get count() {
				return storage.logs.get(docId)?.length ?? 0;
			},
			append(update: Uint8Array) {
				storage.logs.get(docId)?.push(update.slice());
				return Promise.resolve();
			},
			compact(state: () => Uint8Array) {
				storage.logs.set(docId, [state()]);
				return Promise.resolve();
			},
			setAside(indexes: readonly number[]) {
				const kept = storage.aside.get(docId) ?? [];
				storage.aside.set(docId, [...kept, ...indexes.map((i) => records[i]!)]);
				return Promise.resolve();
			},
			close: () => Promise.resolve()
		});
	}
}

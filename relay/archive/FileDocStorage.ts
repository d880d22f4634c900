/**
 * The relay's {@link DocStorage}: one crash-safe update log per document
 * (`<dir>/<docId>.ylog`, updateLog.ts). Appends resolve once fsynced; a compaction replaces
 * the log through a temp file and a rename. Records set aside are appended, as log records, to
 * `<docId>.ylog.aside` next to it and never loaded again. The persistence policy is the
 * workspace core's (src/lib/core/persistence.ts), the same as the browser's.
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { DocStorage, StoredDoc } from '../../src/lib/core/storage.ts';
import { encodeRecord, removeStaleTemp, UpdateLog } from './updateLog.ts';

/** File name suffix of a document's log. */
export const LOG_SUFFIX = '.ylog';
/** Suffix of the file of records set aside. */
export const ASIDE_SUFFIX = '.ylog.aside';

/** See the module comment. */
export class FileDocStorage implements DocStorage {
	constructor(readonly dir: string) {}

	/** The path of document `docId`'s log. */
	path(docId: string): string {
		return join(this.dir, docId + LOG_SUFFIX);
	}

	async open(docId: string): Promise<StoredDoc> {
		const path = this.path(docId);
		await removeStaleTemp(path);
		const { log, contents } = await UpdateLog.open(path);
		const { updates, damaged } = contents;
		// Damaged records in the middle are kept aside by the log; they count as lost to the document.
		const droppedBytes = contents.droppedBytes + damaged.reduce((n, d) => n + d.length, 0);
		return {
			records: updates,
			droppedBytes,
			get count() {
				return log.records;
			},
			append: (update) => log.append(update),
			compact: (state) => log.compact(state),
			async setAside(indexes) {
				const file = await open(join(path.slice(0, -LOG_SUFFIX.length) + ASIDE_SUFFIX), 'a', 0o600);
				try {
					for (const index of indexes) {
						const record = updates[index];
						if (record !== undefined) await file.write(encodeRecord(record));
					}
					await file.sync();
				} finally {
					await file.close();
				}
			},
			close: () => log.close()
		};
	}
}

/**
 * An append-only, crash-safe log of one document's Yjs updates. Each record is
 * `[length u32 LE][crc32 u32 LE][update bytes]`; {@link UpdateLog.append} resolves only after
 * the record was written and fsynced, so an acknowledged update survives `kill -9` and power
 * loss. A torn or corrupt tail (a crash mid-write) is cut off at the last complete record when
 * the log is opened, and its size reported. {@link UpdateLog.compact} replaces the whole log
 * by one record (the merged state) through a temp file, fsync and rename, so a crash leaves
 * either the old log or the new one.
 */
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

const HEADER_BYTES = 8;
/** Largest record accepted when reading (a length beyond it means a corrupt header). */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

const CRC_TABLE = (() => {
	const table = new Uint32Array(256);
	for (let n = 0; n < 256; n++) {
		let c = n;
		for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
		table[n] = c >>> 0;
	}
	return table;
})();

/** CRC-32 (IEEE) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
	let crc = 0xffffffff;
	for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
	return (crc ^ 0xffffffff) >>> 0;
}

/** One update as a log record. */
export function encodeRecord(update: Uint8Array): Uint8Array {
	const record = new Uint8Array(HEADER_BYTES + update.length);
	const view = new DataView(record.buffer);
	view.setUint32(0, update.length, true);
	view.setUint32(4, crc32(update), true);
	record.set(update, HEADER_BYTES);
	return record;
}

/** What a log file held. */
export interface LogContents {
	/** The updates of every complete, intact record, in order. */
	updates: Uint8Array[];
	/** Bytes of the complete records. */
	validBytes: number;
	/** Bytes after them that were dropped: a torn or corrupt tail. */
	droppedBytes: number;
}

/** Splits log bytes into records, stopping at the first incomplete or corrupt one. */
export function decodeLog(bytes: Uint8Array): LogContents {
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	const updates: Uint8Array[] = [];
	let at = 0;
	while (at + HEADER_BYTES <= bytes.length) {
		const length = view.getUint32(at, true);
		const end = at + HEADER_BYTES + length;
		if (length > MAX_RECORD_BYTES || end > bytes.length) break;
		const update = bytes.subarray(at + HEADER_BYTES, end);
		if (crc32(update) !== view.getUint32(at + 4, true)) break;
		updates.push(update.slice());
		at = end;
	}
	return { updates, validBytes: at, droppedBytes: bytes.length - at };
}

/** Fsyncs a directory so a rename or a new file in it is durable. */
export async function syncDir(path: string): Promise<void> {
	const dir = await open(path, 'r');
	try {
		await dir.sync();
	} finally {
		await dir.close();
	}
}

/** An open log file; appends and compactions run one at a time, in call order. */
export class UpdateLog {
	private queue: Promise<unknown> = Promise.resolve();

	private constructor(
		readonly path: string,
		private file: FileHandle,
		/** Records in the file now. */
		public records: number,
		/** Bytes in the file now. */
		public bytes: number
	) {}

	/**
	 * Opens (creating when missing) the log at `path`, reads its records and cuts off a torn
	 * or corrupt tail so later appends follow the last complete record.
	 */
	static async open(path: string): Promise<{ log: UpdateLog; contents: LogContents }> {
		const file = await open(path, 'a+', 0o600);
		try {
			const bytes = new Uint8Array(await file.readFile());
			const contents = decodeLog(bytes);
			if (contents.droppedBytes > 0) {
				await file.truncate(contents.validBytes);
				await file.sync();
			}
			if (bytes.length === 0) await syncDir(dirname(path)); // a new file: make its name durable
			return { log: new UpdateLog(path, file, contents.updates.length, contents.validBytes), contents };
		} catch (error) {
			await file.close();
			throw error;
		}
	}

	private enqueue<T>(task: () => Promise<T>): Promise<T> {
		const result = this.queue.then(task);
		this.queue = result.catch(() => undefined);
		return result;
	}

	/** Appends `update` as one record; resolves once it is on disk (fsynced). */
	append(update: Uint8Array): Promise<void> {
		return this.enqueue(async () => {
			const record = encodeRecord(update);
			await this.file.write(record, 0, record.length); // 'a' mode: always at the end
			await this.file.datasync();
			this.records++;
			this.bytes += record.length;
		});
	}

	/** Replaces the log by one record holding `state` (the merged state of every record so far). */
	compact(state: () => Uint8Array): Promise<void> {
		return this.enqueue(async () => {
			const record = encodeRecord(state());
			const temp = `${this.path}.tmp`;
			const out = await open(temp, 'w', 0o600);
			try {
				await out.write(record, 0, record.length);
				await out.sync();
			} finally {
				await out.close();
			}
			await rename(temp, this.path);
			await syncDir(dirname(this.path));
			await this.file.close();
			this.file = await open(this.path, 'a', 0o600);
			this.records = 1;
			this.bytes = record.length;
		});
	}

	/** Resolves when every append and compaction asked for so far has finished. */
	flushed(): Promise<void> {
		return this.queue.then(() => undefined);
	}

	/** Waits for pending writes, then closes the file. */
	async close(): Promise<void> {
		await this.flushed();
		await this.file.close();
	}
}

/** Removes a temp file a crash during compaction left behind. */
export async function removeStaleTemp(path: string): Promise<void> {
	await rm(`${path}.tmp`, { force: true });
}

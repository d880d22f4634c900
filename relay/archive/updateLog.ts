/**
 * An append-only, crash-safe log of one document's Yjs updates. Each record is
 * `[length u32 LE][crc32 u32 LE][update bytes]`; {@link UpdateLog.append} resolves only after
 * the record was written and fsynced, so an acknowledged update survives `kill -9` and power
 * loss. A torn tail (a crash mid-write) is cut off at the last complete record when the log is
 * opened, and its size reported. A damaged record in the middle (a flipped bit on disk) costs
 * only itself: reading resumes at the next intact record, the damaged bytes are kept aside
 * (`<log>.aside`) and the log is rewritten without them. {@link UpdateLog.compact} replaces the whole log
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
	/** Bytes up to the end of the last intact record. */
	validBytes: number;
	/** Bytes after them that were dropped: a torn or corrupt tail. */
	droppedBytes: number;
	/** Damaged spans before the last intact record (each skipped to the next intact one). */
	damaged: Uint8Array[];
}

/** How far past a damaged record the next intact one is looked for. */
const RESYNC_WINDOW = 16 * 1024 * 1024;

/** The intact record at `at`, as its end offset, or undefined. */
function recordAt(bytes: Uint8Array, view: DataView, at: number): number | undefined {
	if (at + HEADER_BYTES > bytes.length) return undefined;
	const length = view.getUint32(at, true);
	const end = at + HEADER_BYTES + length;
	if (length > MAX_RECORD_BYTES || end > bytes.length) return undefined;
	return crc32(bytes.subarray(at + HEADER_BYTES, end)) === view.getUint32(at + 4, true) ? end : undefined;
}

/**
 * Splits log bytes into records. At a record that is incomplete or corrupt, it looks for the
 * next intact record (first where the damaged one's length says it ends, then at every offset
 * up to {@link RESYNC_WINDOW} further) and goes on from there; the bytes in between are
 * `damaged`. When there is none, the rest is a torn tail.
 */
export function decodeLog(bytes: Uint8Array): LogContents {
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	const updates: Uint8Array[] = [];
	const damaged: Uint8Array[] = [];
	let at = 0;
	let validBytes = 0;
	while (at + HEADER_BYTES <= bytes.length) {
		const end = recordAt(bytes, view, at);
		if (end !== undefined) {
			updates.push(bytes.slice(at + HEADER_BYTES, end));
			at = validBytes = end;
			continue;
		}
		const next = resync(bytes, view, at);
		if (next === undefined) break;
		damaged.push(bytes.slice(at, next));
		at = next;
	}
	return { updates, validBytes, droppedBytes: bytes.length - validBytes, damaged };
}

/** The offset of the next intact record after a damaged one at `at`, or undefined. */
function resync(bytes: Uint8Array, view: DataView, at: number): number | undefined {
	const claimed = at + HEADER_BYTES + view.getUint32(at, true);
	if (claimed < bytes.length && recordAt(bytes, view, claimed) !== undefined) return claimed;
	const limit = Math.min(bytes.length - HEADER_BYTES, at + RESYNC_WINDOW);
	for (let p = at + 1; p <= limit; p++) if (recordAt(bytes, view, p) !== undefined) return p;
	return undefined;
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
	 * or corrupt tail so later appends follow the last complete record. Damaged records in
	 * the middle are appended to `<path>.aside` and the log is rewritten with the intact ones
	 * (through a temp file and a rename).
	 */
	static async open(path: string): Promise<{ log: UpdateLog; contents: LogContents }> {
		let file = await open(path, 'a+', 0o600);
		try {
			const bytes = new Uint8Array(await file.readFile());
			const contents = decodeLog(bytes);
			if (contents.damaged.length > 0) {
				await keepAside(`${path}.aside`, contents.damaged);
				await file.close();
				await writeWhole(path, contents.updates);
				file = await open(path, 'a+', 0o600);
				const size = contents.updates.reduce((n, u) => n + HEADER_BYTES + u.length, 0);
				return { log: new UpdateLog(path, file, contents.updates.length, size), contents };
			}
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

/** Appends damaged spans to `asidePath` as records (kept for whoever looks into it), fsynced. */
async function keepAside(asidePath: string, spans: Uint8Array[]): Promise<void> {
	const out = await open(asidePath, 'a', 0o600);
	try {
		for (const span of spans) await out.write(encodeRecord(span));
		await out.sync();
	} finally {
		await out.close();
	}
}

/** Replaces the log at `path` by `updates`, through a temp file, fsync and rename. */
async function writeWhole(path: string, updates: Uint8Array[]): Promise<void> {
	const temp = `${path}.tmp`;
	const out = await open(temp, 'w', 0o600);
	try {
		for (const update of updates) await out.write(encodeRecord(update));
		await out.sync();
	} finally {
		await out.close();
	}
	await rename(temp, path);
	await syncDir(dirname(path));
}

/** Removes a temp file a crash during compaction left behind. */
export async function removeStaleTemp(path: string): Promise<void> {
	await rm(`${path}.tmp`, { force: true });
}

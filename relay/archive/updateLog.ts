/**
 * The record format of the relay's document logs from before its database (relayDb.ts), read
 * once when they are moved in (migrateLogs.ts): each record is `[length u32 LE][crc32 u32 LE]
 * [update bytes]`. A torn tail (a crash mid-write) ends the records; a damaged record in the
 * middle (a flipped bit on disk) costs only itself: reading resumes at the next intact record
 * and the damaged span is returned apart. The CRC-32 also checks each row of the database.
 * Also {@link syncDir}, to make a rename durable.
 */
import { open } from 'node:fs/promises';
import * as zlib from 'node:zlib';

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

/** CRC-32 (IEEE) of `bytes`, in JavaScript (for Node before 20.15, which has no `zlib.crc32`). */
export function crc32Portable(bytes: Uint8Array): number {
	let crc = 0xffffffff;
	for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
	return (crc ^ 0xffffffff) >>> 0;
}

/** Node's own CRC-32 (zlib, 20.15 and later): about ten times faster than the table above. */
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** CRC-32 (IEEE) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
	return nativeCrc32 !== undefined ? nativeCrc32(bytes) >>> 0 : crc32Portable(bytes);
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

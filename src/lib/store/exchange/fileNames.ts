/**
 * Safe, unique file names from titles that can be anything (slashes, control characters,
 * Chinese, Windows device names, hundreds of characters): what every common file system
 * and zip tool accepts, keeping the title readable.
 */
import { isDeviceName, safeStem, shownFileName } from '../../doc/fileNames.js';

export { safeStem } from '../../doc/fileNames.js';

/** Hands out paths that are unique in one archive (case-insensitively, as on Windows and macOS). */
export class UniqueNames {
	private readonly taken = new Set<string>();

	/**
	 * A path without extension, `dir/stem`, for `title`, with ` (2)`, ` (3)`… added when the
	 * name is taken; the caller adds extensions (`.md`, `.json` share one stem).
	 */
	claim(dir: string, title: string, fallback: string): string {
		const stem = safeStem(title, fallback);
		for (let n = 1; ; n++) {
			const path = `${dir}/${n === 1 ? stem : `${stem} (${n})`}`;
			const key = path.toLowerCase();
			if (!this.taken.has(key)) {
				this.taken.add(key);
				return path;
			}
		}
	}
}

/** Most UTF-8 bytes of an attachment's file name in an export (file systems take 255). */
const MAX_FILE_NAME_BYTES = 200;
/** Path separators, characters some file system forbids, control characters, and invisible or line-breaking ones. */
const UNSAFE_IN_NAME = /[\u0000-\u001f\u007f<>:"/\\|?*\u200b-\u200d\u2028\u2029\ufeff]/g;
/** An extension kept whole when a long name is cut. */
const EXTENSION = /\.[A-Za-z0-9]{1,16}$/;

/** `text` cut to at most `max` bytes of UTF-8, whole characters only. */
function cutToBytes(text: string, max: number): string {
	const encoder = new TextEncoder();
	let out = '';
	let bytes = 0;
	for (const char of text) {
		bytes += encoder.encode(char).length;
		if (bytes > max) break;
		out += char;
	}
	return out;
}

/**
 * An attachment's file name as an export writes it (`files/<blob id>/<name>`): one name, never
 * a folder, `.` or `..`, nor a hidden file or a device name; without control, invisible or
 * bidirectional characters; at most {@link MAX_FILE_NAME_BYTES} bytes, its extension kept. What
 * every common file system and zip tool takes (found in review: a file a member named " .."
 * was written as its folder's `..`, and an import then refused the whole file).
 */
export function safeFileName(name: string): string {
	let clean = shownFileName(name.normalize('NFC')).replace(UNSAFE_IN_NAME, '_').replace(/\s+/g, ' ').trim();
	// Leading dots hide a file (and make `.` and `..`); trailing dots and spaces are dropped by Windows.
	clean = clean.replace(/^\.+/, '_').replace(/[.\s]+$/, '');
	if (isDeviceName(clean)) clean = `_${clean}`;
	if (new TextEncoder().encode(clean).length > MAX_FILE_NAME_BYTES) {
		const extension = EXTENSION.exec(clean)?.[0] ?? '';
		clean = cutToBytes(clean.slice(0, clean.length - extension.length), MAX_FILE_NAME_BYTES - extension.length).replace(/[.\s]+$/, '') + extension;
	}
	return clean || 'file';
}

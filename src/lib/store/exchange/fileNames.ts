/**
 * Safe, unique file names from titles that can be anything (slashes, control characters,
 * Chinese, Windows device names, hundreds of characters): what every common file system
 * and zip tool accepts, keeping the title readable.
 */
import { safeStem } from '../../doc/fileNames.js';

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

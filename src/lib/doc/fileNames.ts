/**
 * File names from titles that can be anything (slashes, control characters, Chinese,
 * Windows device names, hundreds of characters): what every common file system and zip tool
 * accepts, keeping the title readable.
 */

/** Longest file-name stem kept, in characters (well under 255 bytes of UTF-8 for CJK too). */
const MAX_STEM = 60;
/** Characters that are path separators or forbidden on some file system, and bidirectional controls. */
const FORBIDDEN = /[\u0000-\u001f\u007f<>:"/\\|?*\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\u061c\ufeff]/g;
/** Bidirectional controls, which make "invoice\u202Efdp.exe" read as "invoiceexe.pdf". */
const BIDI_CONTROLS = /[\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]/g;

/**
 * A file name as it is shown and offered for download: without bidirectional controls (found
 * in review: a member could name an .exe so that it reads as a .pdf).
 */
export function shownFileName(name: string): string {
	return name.replace(BIDI_CONTROLS, '');
}
/** Names Windows reserves for devices, with or without an extension. */
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/** Whether Windows takes `name` (a stem, or a whole file name) for a device: `con`, `lpt1.tar.gz`. */
export function isDeviceName(name: string): boolean {
	return RESERVED.test(name);
}

/** A file-name stem (no extension) for a title; `fallback` when nothing usable is left. */
export function safeStem(title: string, fallback: string): string {
	let stem = title.normalize('NFC').replace(FORBIDDEN, '-').replace(/\s+/g, ' ').trim();
	stem = [...stem].slice(0, MAX_STEM).join('');
	// Leading dots hide files; trailing dots and spaces are dropped by Windows.
	stem = stem.replace(/^[.\s-]+/, '').replace(/[.\s]+$/, '');
	if (!stem) stem = fallback;
	if (isDeviceName(stem)) stem = `_${stem}`;
	return stem;
}

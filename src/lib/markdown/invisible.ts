/**
 * Characters that change how text around them is shown without being seen themselves: bidi
 * overrides, embeddings and isolates (which can reverse "moc.knab" into "bank.com"), and
 * zero-width spaces, joiners-that-are-not-needed and byte-order marks (which make two names
 * look the same). Zero-width (non-)joiners U+200C/U+200D stay: Persian, Indic scripts and emoji
 * sequences need them. Other members choose names, link text and message text, so text shown
 * where it names a person, a place or a link target goes through {@link stripInvisible}.
 */

/** Bidi controls (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI, ALM, LRM, RLM) and invisible spaces. */
const INVISIBLE = /[\u061C\u180E\u200B\u200E\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;

/** C0 and C1 control characters other than tab and line feed. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;

/** `text` without bidi controls, invisible spaces and control characters. */
export function stripInvisible(text: string): string {
	return text.replace(INVISIBLE, '').replace(CONTROL, '');
}

/** Line and paragraph separators: line breaks to a browser, not to JSON.stringify. */
const SEPARATOR = /[\u2028\u2029]/g;

/**
 * `text` with every character {@link stripInvisible} removes (and U+2028/U+2029) written as a
 * visible `\uXXXX` escape: for text a person must judge exactly as it is, such as the
 * arguments of a tool call they are asked to approve. Tab, line feed and carriage return stay.
 */
export function revealInvisible(text: string): string {
	const escape = (c: string) => c === '\r' ? c : `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
	return text.replace(INVISIBLE, escape).replace(CONTROL, escape).replace(SEPARATOR, escape);
}

/**
 * A label for one line (a notification title, a name): invisible and control characters
 * removed, runs of white space (line breaks included) made one space, and cut to `max`
 * characters (code points) with an ellipsis.
 */
export function oneLineLabel(text: string, max: number): string {
	const line = stripInvisible(text).replace(/\s+/g, ' ').trim();
	const chars = [...line];
	return chars.length <= max ? line : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

/** Avatars drawn from a name and a peer id: initials on a colour the peer id picks. */
import { stripInvisible } from '../markdown/invisible.js';

/**
 * The avatar colours: each carries white text at a contrast of at least 4.5:1 (WCAG AA,
 * checked in tests/unit/ui/avatar.test.ts).
 */
export const AVATAR_COLOURS = [
	'#b03a2e', // red
	'#a04000', // rust
	'#7d6608', // olive
	'#1e7a46', // green
	'#0e6e6e', // teal
	'#1f5f99', // blue
	'#3c4fa8', // indigo
	'#6c3483', // purple
	'#a0306a', // magenta
	'#4d5656' // slate
] as const;

/** Scripts written without spaces between words, where the first character stands for the name. */
const CJK = /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

/**
 * A name's initials: the first letters of its first two words, upper-cased ("Ada Lovelace" →
 * "AL"); a name in Chinese, Japanese or Korean script gives its first character ("王小明" →
 * "王"); an empty name gives "?". Bidi controls and invisible characters do not count (found in
 * review: a name starting with one drew an empty avatar).
 */
export function initials(name: string): string {
	const words = stripInvisible(name).trim().split(/\s+/).filter(Boolean);
	if (words.length === 0) return '?';
	const first = Array.from(words[0])[0];
	if (CJK.test(first)) return first;
	return words
		.slice(0, 2)
		.map((w) => Array.from(w)[0])
		.join('')
		.toLocaleUpperCase();
}

/**
 * A workspace's mark in the rail: its name's first two characters, upper-cased ("Research
 * Vessel" → "RE"), or one when the name starts in Chinese, Japanese or Korean script (two such
 * characters do not fit the button on one line: "科考船" → "科"); "?" for an empty name.
 * Bidi controls and invisible characters do not count.
 */
export function workspaceInitials(name: string): string {
	const chars = Array.from(stripInvisible(name).trim());
	if (chars.length === 0) return '?';
	return CJK.test(chars[0]!) ? chars[0]! : chars.slice(0, 2).join('').toLocaleUpperCase();
}

/** The avatar colour of a peer id (or any key): the same key always gets the same colour. */
export function avatarColour(key: string): string {
	// FNV-1a, 32 bits: small, and it spreads the near-identical prefixes of peer ids.
	let hash = 0x811c9dc5;
	for (let i = 0; i < key.length; i++) {
		hash ^= key.charCodeAt(i);
		hash = Math.imul(hash, 0x01000193);
	}
	return AVATAR_COLOURS[(hash >>> 0) % AVATAR_COLOURS.length];
}

/**
 * `@name` mentions in message text. A mention is `@` followed by a name made of letters (any
 * script, CJK included), digits, combining marks, `_`, `.` and `-`, not ending in `.` or `-`
 * (so "@ana." at the end of a sentence mentions "ana"), and not preceded by a name character
 * (so "bob@example" is not a mention). With a list of known names, only those are mentions,
 * matched case-insensitively, and they may contain spaces ("@Ana Lima").
 */
import { escapeHtml } from './escape.js';

const NAME_CHAR = String.raw`\p{L}\p{N}\p{M}_`;
const BEFORE = String.raw`(^|[^${NAME_CHAR}.@\-])`;
const ANY_NAME = new RegExp(
	String.raw`${BEFORE}@([${NAME_CHAR}](?:[${NAME_CHAR}.\-]*[${NAME_CHAR}])?)`,
	'gu'
);

/**
 * Escapes a name for use outside a character class. Not `-`: with the `u` flag `\-` is an
 * invalid escape there (found in review: a member named "Jean-Luc" made every message's
 * rendering throw for the whole workspace).
 */
function escapeRegExp(value: string): string {
	return value.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Builds the pattern for a list of known names, or the generic one when there is no list. */
export function mentionPattern(names?: readonly string[]): RegExp | undefined {
	if (names === undefined) return ANY_NAME;
	const usable = [...new Set(names.map((n) => n.trim()).filter((n) => n.length > 0))];
	if (usable.length === 0) return undefined;
	// Longest first, so "@Ana Lima" wins over "@Ana".
	usable.sort((a, b) => b.length - a.length);
	const alternatives = usable.map(escapeRegExp).join('|');
	try {
		return new RegExp(`${BEFORE}@(${alternatives})(?![${NAME_CHAR}])`, 'giu');
	} catch {
		// Names are other members' to choose: one that still makes no pattern costs the highlighting, never the message.
		return ANY_NAME;
	}
}

/**
 * Escapes plain `text` for HTML, wrapping each mention in `<span class="mention">`.
 * `pattern` comes from {@link mentionPattern}; undefined means "no mentions".
 */
export function renderMentions(text: string, pattern: RegExp | undefined): string {
	if (pattern === undefined || !text.includes('@')) return escapeHtml(text);
	let out = '';
	let last = 0;
	pattern.lastIndex = 0;
	for (const match of text.matchAll(pattern)) {
		const at = match.index + match[1].length;
		out += escapeHtml(text.slice(last, at));
		out += `<span class="mention">@${escapeHtml(match[2])}</span>`;
		last = at + 1 + match[2].length;
	}
	return out + escapeHtml(text.slice(last));
}

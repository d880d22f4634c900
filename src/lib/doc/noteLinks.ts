/**
 * Links between notes: `[[Note title]]` in a note or a message names another note by its
 * title. Titles match case-insensitively, ignoring surrounding and repeated spaces.
 */

/** Longest title a link may carry. */
export const MAX_LINK_TITLE = 200;

/** `[[...]]` with no brackets or line breaks inside. */
export const NOTE_LINK_PATTERN = /\[\[([^[\]\n]{1,200})\]\]/g;

/** The titles linked from `text`, in order of first appearance, without duplicates. */
export function parseNoteLinks(text: string): string[] {
	const seen = new Set<string>();
	const out: string[] = [];
	for (const match of text.matchAll(NOTE_LINK_PATTERN)) {
		const title = match[1].trim();
		const key = titleKey(title);
		if (!key || seen.has(key)) continue;
		seen.add(key);
		out.push(title);
	}
	return out;
}

/** The form two titles are compared in. */
export function titleKey(title: string): string {
	return title.trim().replace(/\s+/g, ' ').toLowerCase();
}

/** Whether two titles name the same note. */
export function sameTitle(a: string, b: string): boolean {
	return titleKey(a) !== '' && titleKey(a) === titleKey(b);
}

/**
 * A note as a Markdown file, the same in a single-note export and in a workspace export:
 * YAML front matter with the title (and the tags, if any), then the body as written.
 */
import { safeStem } from './fileNames.js';

/** The file's text; see the module comment. */
export function noteToMarkdown(title: string, body: string, tags: readonly string[] = []): string {
	const front = [`title: ${JSON.stringify(title.trim())}`];
	if (tags.length > 0) front.push(`tags: [${tags.map((t) => JSON.stringify(t)).join(', ')}]`);
	// trimEnd, not /\s+$/: that regex takes time growing with the square of a long run of spaces
	// not at the end (found in review: a writer's note of spaces made exporting it hang the tab).
	return `---\n${front.join('\n')}\n---\n\n${body.trimEnd()}\n`;
}

/** A file name for the note: `<title>.md`, safe on every file system. */
export function noteFileName(title: string, fallback = 'note'): string {
	return `${safeStem(title, fallback)}.md`;
}

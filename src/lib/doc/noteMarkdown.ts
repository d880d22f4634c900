/** A note as a Markdown file: the title as a heading, then the body. */

/** The file's text: `# <title>`, a blank line, the body, a final newline. */
export function noteToMarkdown(title: string, body: string): string {
	const heading = title.trim() ? `# ${title.trim()}\n\n` : '';
	return `${heading}${body.replace(/\s+$/, '')}\n`;
}

/** A file name for the note: `<title>.md`, without characters file systems refuse. */
export function noteFileName(title: string, fallback = 'note'): string {
	const clean = title
		// eslint-disable-next-line no-control-regex -- control characters are refused by file systems
		.replace(/[\\/:*?"<>|\u0000-\u001f]+/g, ' ')
		.replace(/\s+/g, ' ')
		.trim()
		.replace(/^\.+/, '')
		.slice(0, 120)
		.trim();
	return `${clean || fallback}.md`;
}

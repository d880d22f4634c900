/** Tool arguments and results for people: JSON indented when it parses, other text as it is. */

/** `text` pretty-printed (two spaces) when it is JSON; otherwise `text` unchanged. */
export function prettyJson(text: string): string {
	const trimmed = text.trim();
	if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return text;
	try {
		return JSON.stringify(JSON.parse(trimmed), null, 2);
	} catch {
		return text;
	}
}

/** HTML escaping for text and attribute values built by the Markdown renderer. */

const ENTITIES: Record<string, string> = {
	'&': '&amp;',
	'<': '&lt;',
	'>': '&gt;',
	'"': '&quot;',
	"'": '&#39;'
};

/** Escapes every HTML-significant character, so `value` shows as literal text. */
export function escapeHtml(value: string): string {
	return value.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

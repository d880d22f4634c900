/**
 * `[[Note title]]` in rendered Markdown (notes and messages): a `marked` inline extension
 * that turns each link into an in-page anchor, `<a class="note-link" href="#note=<title>">`.
 * The page opens the note when one is clicked (ui/noteLinkContext.ts).
 */
import type { TokenizerAndRendererExtension, Tokens } from 'marked';
import { escapeHtml } from './escape.js';

/** The `href` prefix of a note link. */
export const NOTE_HREF_PREFIX = '#note=';

/** The title a note link's `href` names, or undefined for any other href. */
export function noteTitleFromHref(href: string | null): string | undefined {
	if (href === null || !href.startsWith(NOTE_HREF_PREFIX)) return undefined;
	try {
		const title = decodeURIComponent(href.slice(NOTE_HREF_PREFIX.length)).trim();
		return title || undefined;
	} catch {
		return undefined;
	}
}

interface NoteLinkToken extends Tokens.Generic {
	type: 'noteLink';
	title: string;
}

/** The `marked` extension. */
export const noteLinkExtension: TokenizerAndRendererExtension = {
	name: 'noteLink',
	level: 'inline',
	start(src: string) {
		const at = src.indexOf('[[');
		return at < 0 ? undefined : at;
	},
	tokenizer(src: string): NoteLinkToken | undefined {
		const match = /^\[\[([^[\]\n]{1,200})\]\]/.exec(src);
		const title = match?.[1].trim();
		if (!match || !title) return undefined;
		return { type: 'noteLink', raw: match[0], title };
	},
	renderer(token) {
		const title = (token as NoteLinkToken).title;
		return `<a class="note-link" href="${NOTE_HREF_PREFIX}${escapeHtml(encodeURIComponent(title))}">${escapeHtml(title)}</a>`;
	}
};

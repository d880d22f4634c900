/**
 * Markdown to safe HTML for messages and notes: `marked` (GFM, line breaks) renders, then
 * DOMPurify sanitises with a small allow-list. Message text comes from other peers, so:
 *
 * - raw HTML in the source is shown as text, never interpreted;
 * - only http(s), mailto and tel links (and relative ones) keep their `href`; anything else
 *   (`javascript:`, `data:`, `vbscript:`, entity or whitespace tricks) becomes inert text;
 * - every link opens in a new tab with `rel="noopener noreferrer nofollow"`, except in-page
 *   ones (`#...`), such as `[[Note title]]` links to notes (noteLinks.ts);
 * - images are shown as links, so opening a message never fetches anything;
 * - `@name` mentions become `<span class="mention">` (never inside code or links);
 * - link text loses bidi controls and invisible characters, and a link whose text names another
 *   site (or whose host is internationalised) shows its real host after the text (linkHost.ts);
 * - a link's title (`[x](https://a.example "title")`) is dropped: browsers show it as the
 *   link's tooltip, where the author could write any address or "verified" claim, reversed or
 *   padded with bidi controls and thousands of characters long (found in review), and the app
 *   says nothing there that the text and the host notice do not;
 * - a source that would make `marked` slow or overflow the stack (a long run without spaces
 *   in text parsed inline, a line opening over a hundred quotes or lists) is shown as escaped
 *   plain text instead, so no message freezes or breaks the page of whoever opens its channel.
 *
 * DOMPurify needs a DOM: {@link createRenderer} takes a window (jsdom in Node), and
 * {@link renderMarkdown} uses the page's window.
 */
import createDOMPurify, { type Config, type WindowLike } from 'dompurify';
import { Lexer, Marked, type MarkedOptions, type Token, type Tokens } from 'marked';
import { escapeHtml } from './escape.js';
import { stripInvisible } from './invisible.js';
import { misleadingLinkHost } from './linkHost.js';
import { mentionPattern, renderMentions } from './mentions.js';
import { noteLinkExtension } from './noteLinks.js';

/** Options for one rendering. */
export interface RenderOptions {
	/**
	 * Known member names. When given, only `@` followed by one of these (case-insensitive,
	 * spaces allowed) is a mention; when absent, any `@word` is.
	 */
	mentionNames?: readonly string[];
}

/** Renders Markdown source to sanitised HTML. */
export type MarkdownRenderer = (source: string, options?: RenderOptions) => string;

const SAFE_PROTOCOLS = new Set(['http:', 'https:', 'mailto:', 'tel:']);
const RELATIVE_BASE = 'https://outpost.invalid/';

/** True when a (decoded) link target may stay clickable. Relative targets are allowed. */
export function isSafeHref(href: string): boolean {
	try {
		return SAFE_PROTOCOLS.has(new URL(href, RELATIVE_BASE).protocol);
	} catch {
		return false;
	}
}

const PURIFY_CONFIG: Config = {
	ALLOWED_TAGS: [
		'a', 'blockquote', 'br', 'code', 'del', 'em', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr',
		'input', 'li', 'ol', 'p', 'pre', 'span', 'strong', 'table', 'tbody', 'td', 'th', 'thead',
		'tr', 'ul'
	],
	// No `title`: a link's tooltip would be its author's (see the module comment).
	ALLOWED_ATTR: ['href', 'class', 'start', 'align', 'type', 'checked', 'disabled'],
	ALLOWED_URI_REGEXP: /^(?:(?:https?|mailto|tel):|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i,
	ALLOW_DATA_ATTR: false
};

/** Raw HTML from the source, shown as text. */
function renderRawHtml({ text, block }: Tokens.HTML | Tokens.Tag): string {
	if (!block) return escapeHtml(text);
	return `<p>${escapeHtml(text.replace(/\n+$/, '')).replace(/\n/g, '<br>')}</p>\n`;
}

/** Marks every text token under a link, so mentions are not wrapped inside link text. */
function markLinkText(tokens: Token[] | undefined, into: WeakSet<object>): void {
	for (const t of tokens ?? []) {
		into.add(t);
		if ('tokens' in t) markLinkText(t.tokens, into);
	}
}

/**
 * Longest run of non-space characters in text that `marked` parses inline (paragraphs,
 * headings, list items, table cells: not code). Its GFM inline patterns (e-mail and URL
 * look-aheads) rescan such a run at every delimiter in it: 40,000 characters of "a_a_a_…" took
 * seconds (found in review). Longer runs do not occur in prose; a pasted key or minified JSON
 * in a code block is not parsed inline and keeps its formatting.
 */
export const MAX_MARKDOWN_RUN = 2_000;

/** Whether `text` has a run of more than {@link MAX_MARKDOWN_RUN} non-space characters (a linear scan). */
function hasLongRun(text: string): boolean {
	if (text.length <= MAX_MARKDOWN_RUN) return false;
	let run = 0;
	for (let i = 0; i < text.length; i++) {
		const c = text.charCodeAt(i);
		run = c === 32 || c === 10 || c === 9 || c === 13 ? 0 : run + 1;
		if (run > MAX_MARKDOWN_RUN) return true;
	}
	return false;
}

/**
 * Most quote and list levels one line may open (`> > - 1. x`, or lists nested by indenting).
 * `marked` parses each level recursively over the rest of the source: 20,000 of them took
 * seconds and then overflowed the stack (found in review). Real messages nest a handful.
 */
export const MAX_MARKDOWN_NESTING = 100;

/** Columns of leading indentation that count as too deep (four per level at most). */
const MAX_INDENT = 4 * MAX_MARKDOWN_NESTING;

/** Whether some line of `source` nests more than {@link MAX_MARKDOWN_NESTING} quotes or lists (a linear scan). */
function nestsTooDeep(source: string): boolean {
	let depth = 0;
	let indent = 0;
	let atStart = true;
	for (let i = 0; i < source.length; i++) {
		const c = source[i];
		if (c === '\n') {
			depth = 0;
			indent = 0;
			atStart = true;
		} else if (!atStart) {
			continue;
		} else if (c === ' ' || c === '\t') {
			indent += c === ' ' ? 1 : 4;
		} else if (c === '>') {
			depth++;
		} else if ((c === '-' || c === '*' || c === '+') && /[ \t]/.test(source[i + 1] ?? '')) {
			depth++;
		} else if (c >= '0' && c <= '9') {
			let j = i;
			while (j < source.length && j - i < 9 && source[j] >= '0' && source[j] <= '9') j++;
			if ((source[j] === '.' || source[j] === ')') && /[ \t]/.test(source[j + 1] ?? '')) {
				depth++;
				i = j;
			} else atStart = false;
		} else {
			atStart = false;
		}
		if (depth > MAX_MARKDOWN_NESTING || indent > MAX_INDENT) return true;
	}
	return false;
}

/**
 * Whether `marked` would parse a long run inline in `source`: its block lexer (linear, and the
 * same one `parse` uses) lists the text of every inline run before any is parsed.
 */
function inlineHasLongRun(source: string, options: MarkedOptions): boolean {
	if (!hasLongRun(source)) return false;
	const lexer = new Lexer({ ...options });
	lexer.blockTokens(source.replace(/\r\n?/g, '\n'));
	return lexer.inlineQueue.some((run) => hasLongRun(run.src));
}

/** Text nodes under `node`, with invisible characters removed (link text must read as it goes). */
function stripInvisibleText(node: Element): void {
	const walker = node.ownerDocument.createTreeWalker(node, 4 /* NodeFilter.SHOW_TEXT */);
	for (let t = walker.nextNode(); t !== null; t = walker.nextNode()) {
		const text = t.nodeValue ?? '';
		const clean = stripInvisible(text);
		if (clean !== text) t.nodeValue = clean;
	}
}

/** Fallback without a DOM (server rendering): the source as escaped plain text. */
function renderPlain(source: string): string {
	return `<p>${escapeHtml(source).replace(/\n/g, '<br>')}</p>`;
}

/**
 * Makes a renderer that sanitises with DOMPurify on `window` (the page's, or a jsdom one in
 * Node). Each renderer has its own `marked` and DOMPurify instances.
 */
export function createRenderer(window: WindowLike): MarkdownRenderer {
	const purify = createDOMPurify(window);
	purify.addHook('afterSanitizeAttributes', (node) => {
		if (node.nodeName !== 'A') return;
		const href = node.getAttribute('href');
		if (href !== null && !isSafeHref(href)) node.removeAttribute('href');
		if (href?.startsWith('#') && node.hasAttribute('href')) {
			node.removeAttribute('target');
			node.removeAttribute('rel');
		} else if (node.hasAttribute('href')) {
			node.setAttribute('target', '_blank');
			node.setAttribute('rel', 'noopener noreferrer nofollow');
			stripInvisibleText(node);
			const host = misleadingLinkHost(node.textContent ?? '', node.getAttribute('href') ?? '');
			if (host !== undefined) {
				const notice = node.ownerDocument.createElement('span');
				notice.className = 'link-host';
				notice.textContent = ` (${host})`;
				node.append(notice);
			}
		} else {
			node.removeAttribute('target');
			node.removeAttribute('rel');
		}
	});

	// Rendering is synchronous, so the per-call mention pattern can live in the closure.
	let mentions: RegExp | undefined;
	let inLinks = new WeakSet<object>();

	const marked = new Marked({
		gfm: true,
		breaks: true,
		walkTokens(token) {
			if (token.type === 'link' || token.type === 'image') markLinkText(token.tokens, inLinks);
		},
		renderer: {
			html: renderRawHtml,
			text(token) {
				if (token.type !== 'text' || token.tokens || token.escaped || inLinks.has(token)) return false;
				return renderMentions(token.text, mentions);
			},
			image({ raw, href, title, text, tokens }) {
				const label: Token[] = text ? tokens : [{ type: 'text', raw: href, text: href }];
				return this.link({ type: 'link', raw, href, title, text: text || href, tokens: label });
			}
		}
	});

	marked.use({ extensions: [noteLinkExtension] });

	return (source, options = {}) => {
		mentions = mentionPattern(options.mentionNames);
		inLinks = new WeakSet();
		try {
			if (nestsTooDeep(source) || inlineHasLongRun(source, marked.defaults)) return renderPlain(source);
			const html = marked.parse(source, { async: false }).trim();
			return purify.sanitize(html, PURIFY_CONFIG);
		} catch {
			// Whatever still makes `marked` or DOMPurify throw (found in review: deep nesting
			// overflowed the stack, and the message broke its channel for everyone) shows as text.
			return renderPlain(source);
		}
	};
}

let pageRenderer: MarkdownRenderer | undefined;

/**
 * Renders message Markdown to safe HTML using the page's window. Where there is no DOM
 * (server rendering), returns the source as escaped plain text instead.
 */
export function renderMarkdown(source: string, options?: RenderOptions): string {
	if (pageRenderer === undefined) {
		if (typeof window === 'undefined') return renderPlain(source);
		pageRenderer = createRenderer(window);
	}
	return pageRenderer(source, options);
}

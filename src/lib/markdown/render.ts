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
 * - `@name` mentions become `<span class="mention">` (never inside code or links).
 *
 * DOMPurify needs a DOM: {@link createRenderer} takes a window (jsdom in Node), and
 * {@link renderMarkdown} uses the page's window.
 */
import createDOMPurify, { type Config, type WindowLike } from 'dompurify';
import { Marked, type Token, type Tokens } from 'marked';
import { escapeHtml } from './escape.js';
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
	ALLOWED_ATTR: ['href', 'title', 'class', 'start', 'align', 'type', 'checked', 'disabled'],
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
		const html = marked.parse(source, { async: false }).trim();
		return purify.sanitize(html, PURIFY_CONFIG);
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

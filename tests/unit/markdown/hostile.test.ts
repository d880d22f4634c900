// @vitest-environment jsdom
/**
 * Hostile review of the Markdown renderer: messages and notes come from other members (and
 * from models and tool results), so what they write must not run, mislead about where a link
 * goes, or freeze or break the page.
 */
import { describe, expect, it } from 'vitest';
import { MAX_MARKDOWN_RUN, renderMarkdown } from '../../../src/lib/markdown/render.js';
import { misleadingLinkHost } from '../../../src/lib/markdown/linkHost.js';

function dom(source: string, options?: { mentionNames?: string[] }): HTMLDivElement {
	const div = document.createElement('div');
	div.innerHTML = renderMarkdown(source, options);
	return div;
}

/** Milliseconds one rendering takes. */
function timed(source: string): { ms: number; html: string } {
	const start = performance.now();
	const html = renderMarkdown(source);
	return { ms: performance.now() - start, html };
}

/** The longest message text a replica accepts (doc/validate.ts MAX_TEXT_LENGTH). */
const MAX_TEXT = 40_000;

describe('renderMarkdown: a message cannot break or freeze the page', () => {
	it.each([
		['nested quotes', '>'.repeat(MAX_TEXT)],
		['nested quotes with spaces', '> '.repeat(MAX_TEXT / 2) + 'x'],
		['nested lists', '- '.repeat(MAX_TEXT / 2) + 'x'],
		['nested numbered lists', '1. '.repeat(MAX_TEXT / 3) + 'x'],
		['nested quotes and lists', '> - '.repeat(MAX_TEXT / 4) + 'x']
	])('renders %s quickly as text instead of throwing (found in review: seconds, then a stack overflow in marked)', (_name, source) => {
		const start = performance.now();
		const root = dom(source);
		expect(performance.now() - start).toBeLessThan(400);
		expect(root.textContent).toContain(source.trim().slice(0, 50));
	});

	it('still renders quotes and lists nested a few levels deep (passes before the fix too)', () => {
		const root = dom('> quoted\n> > twice\n\n- one\n  - two\n    1. three');
		expect(root.querySelectorAll('blockquote blockquote').length).toBe(1);
		expect(root.querySelector('ul ul ol li')?.textContent).toBe('three');
	});

	it.each([
		['a_a_a_…', 'a_'.repeat(MAX_TEXT / 2)],
		['_a_a_a…', '_a'.repeat(MAX_TEXT / 2)],
		['a.a.a.…', 'a.'.repeat(MAX_TEXT / 2)]
	])('renders a long run like %s quickly (found in review: seconds in marked, quadratic; a.a.a. passes before the fix too)', (_name, source) => {
		const { ms, html } = timed(source);
		expect(html).toContain(source.slice(0, 100));
		// Seconds before the fix on the review machine; tens of milliseconds after.
		expect(ms).toBeLessThan(400);
	});

	it('still renders Markdown in a message whose words are long but not too long (passes before the fix too)', () => {
		const word = 'x'.repeat(MAX_MARKDOWN_RUN);
		const root = dom(`**bold** ${word}`);
		expect(root.querySelector('strong')?.textContent).toBe('bold');
	});

	it('keeps Markdown when the long run is in a code block, a pasted key (passes before the fix too)', () => {
		const key = 'A'.repeat(MAX_TEXT / 2);
		for (const source of [`**bold**\n\n\`\`\`\n${key}\n\`\`\`\n\n_after_`, `**bold**\n\n    ${key}\n\n_after_`]) {
			const root = dom(source);
			expect(root.querySelector('strong')?.textContent).toBe('bold');
			expect(root.querySelector('em')?.textContent).toBe('after');
			expect(root.querySelector('pre > code')?.textContent?.trim()).toBe(key);
		}
	});

	it.each([
		['a fence marked does not take (a backtick in its info string)', '```x`\n'],
		['a "fence" inside raw HTML', '<div>\n```\n\n'],
		['a quote', '> '],
		['a table cell', 'a|b\n-|-\nc|'],
		['a heading', '# '],
		['a list item', '- '],
		['a task in a numbered list', '1. [ ] ']
	])('still catches a long run after %s', (_name, prefix) => {
		const { ms } = timed(prefix + 'a_'.repeat(MAX_TEXT / 2));
		expect(ms).toBeLessThan(400);
	});

	it('shows a message with an overlong run as escaped plain text, never as HTML', () => {
		const root = dom(`<img src=x onerror=alert(1)> [x](javascript:alert(1)) ${'y'.repeat(MAX_MARKDOWN_RUN + 1)}`);
		expect(root.querySelector('img, a')).toBeNull();
		expect(root.textContent).toContain('<img src=x onerror=alert(1)>');
	});

	it.each([
		['many brackets', '['.repeat(MAX_TEXT)],
		['many note links', '[['.repeat(MAX_TEXT / 2)],
		['many <', '< '.repeat(MAX_TEXT / 2)],
		// Smaller: these make thousands of elements, which jsdom (not a browser) is slow to build.
		['many @', '@a '.repeat(MAX_TEXT / 30)],
		['many backticks', '`a`` '.repeat(MAX_TEXT / 50)],
		['many fences', '```\n'.repeat(MAX_TEXT / 40)]
	])('renders %s without throwing and without HTML from the source (passes before the fix too)', (_name, source) => {
		const root = dom(source);
		expect(root.querySelector('script, img, iframe, style')).toBeNull();
	});
});

describe('renderMarkdown: link text cannot lie about where a link goes', () => {
	function link(source: string): HTMLAnchorElement {
		const a = dom(source).querySelector('a');
		if (a === null) throw new Error(`no link in ${source}`);
		return a;
	}

	it('adds the real host to text that names another site (found in review)', () => {
		const a = link('[https://bank.example/login](https://evil.example/login)');
		expect(a.getAttribute('href')).toBe('https://evil.example/login');
		expect(a.textContent).toBe('https://bank.example/login (evil.example)');
		expect(a.querySelector('span.link-host')?.textContent).toBe(' (evil.example)');
	});

	it('catches a site named inside longer text', () => {
		expect(link('[Log in at bank.example now](https://evil.example)').textContent).toBe('Log in at bank.example now (evil.example)');
	});

	it('does not add the host when the text names the same site, a www. form or a parent domain', () => {
		for (const source of [
			'[example.com](https://example.com/x)',
			'[www.example.com/a](https://example.com/a)',
			'[example.com](https://docs.example.com/)',
			'https://example.org/path',
			'[the guide](https://example.com/guide)'
		]) {
			expect(link(source).querySelector('.link-host'), source).toBeNull();
		}
	});

	it('shows the host of a protocol-relative target, not of the page', () => {
		expect(link('[bank.example](//evil.example/x)').textContent).toBe('bank.example (evil.example)');
		expect(link('[bank.example](/c/general)').querySelector('.link-host')).toBeNull();
	});

	it('does not let a parent-looking host hide the real one', () => {
		expect(link('[bank.example](https://bank.example.evil.example)').textContent).toBe('bank.example (bank.example.evil.example)');
	});

	it('removes bidi overrides and invisible characters from link text (found in review: an RLO shows reversed text as an address)', () => {
		const a = link('[\u202Emoc.knab//:sptth](https://evil.example)');
		expect(a.textContent).not.toMatch(/[\u202A-\u202E\u2066-\u2069\u200B]/);
		expect(a.textContent?.startsWith('moc.knab//:sptth')).toBe(true);
		const zw = link('[ba\u200Bnk.example](https://bank.example)');
		expect(zw.textContent).toBe('bank.example');
	});

	it('shows the punycode host of an internationalised target (a Cyrillic "а" in bаnk)', () => {
		const a = link('https://b\u0430nk.example/');
		const notice = a.querySelector('.link-host')?.textContent ?? '';
		expect(notice).toMatch(/\(xn--/);
	});

	it('leaves mail, phone and in-page links alone', () => {
		expect(misleadingLinkHost('bank.example', 'mailto:a@evil.example')).toBeUndefined();
		expect(misleadingLinkHost('bank.example', '#note=x')).toBeUndefined();
		expect(dom('[[bank.example]]').querySelector('.link-host')).toBeNull();
	});

	it('keeps Persian zero-width non-joiners and emoji joiners in link text', () => {
		expect(link('[می\u200Cخواهم 👩\u200D💻](https://example.com)').textContent).toBe('می\u200Cخواهم 👩\u200D💻');
	});
});

// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { noteTitleFromHref } from '../../src/lib/markdown/noteLinks.js';
import { renderMarkdown } from '../../src/lib/markdown/render.js';

function dom(source: string): HTMLDivElement {
	const div = document.createElement('div');
	div.innerHTML = renderMarkdown(source);
	return div;
}

describe('[[Note title]] links in rendered Markdown', () => {
	it('become in-page links that name the note', () => {
		const links = dom('See [[Watch schedule]] and **[[数据主权]]**.').querySelectorAll('a.note-link');
		expect([...links].map((a) => a.textContent)).toEqual(['Watch schedule', '数据主权']);
		expect([...links].map((a) => noteTitleFromHref(a.getAttribute('href')))).toEqual(['Watch schedule', '数据主权']);
		for (const a of links) {
			expect(a.hasAttribute('target')).toBe(false);
			expect(a.hasAttribute('rel')).toBe(false);
		}
	});

	it('stay text inside code, and ordinary links still open in a new tab', () => {
		const root = dom('`[[Not a link]]` and [site](https://example.org)');
		expect(root.querySelector('a.note-link')).toBeNull();
		expect(root.querySelector('code')?.textContent).toBe('[[Not a link]]');
		expect(root.querySelector('a')?.getAttribute('target')).toBe('_blank');
	});

	it('carry hostile titles as inert text', () => {
		const root = dom('[[<img src=x onerror=alert(1)>]] [["><script>alert(1)</script>]]');
		expect(root.querySelector('img, script')).toBeNull();
		const titles = [...root.querySelectorAll('a.note-link')].map((a) => noteTitleFromHref(a.getAttribute('href')));
		expect(titles).toEqual(['<img src=x onerror=alert(1)>', '"><script>alert(1)</script>']);
		for (const a of root.querySelectorAll('a')) expect([...a.attributes].map((x) => x.name).sort()).toEqual(['class', 'href']);
	});

	it('reads only note hrefs back', () => {
		expect(noteTitleFromHref('https://example.org')).toBeUndefined();
		expect(noteTitleFromHref('#note=%E0%A4%A')).toBeUndefined();
		expect(noteTitleFromHref('#note=')).toBeUndefined();
		expect(noteTitleFromHref(null)).toBeUndefined();
	});
});

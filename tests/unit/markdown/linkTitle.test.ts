// @vitest-environment jsdom
/**
 * A link's Markdown title is its tooltip, and its author's to write: found in review,
 * `[Statement](https://evil.example "https://bank.example — verified by Outpost")` showed a
 * tooltip vouching for another site, and a title could hold bidi controls (reversing what it
 * says) and thousands of characters. The renderer drops link titles (render.ts).
 */
import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../../src/lib/markdown/render.js';

function links(source: string): HTMLAnchorElement[] {
	const div = document.createElement('div');
	div.innerHTML = renderMarkdown(source);
	return [...div.querySelectorAll('a')];
}

describe('a link\'s Markdown title', () => {
	it.each([
		['a title vouching for another site', '[Statement](https://evil.example "https://bank.example — verified by Outpost")'],
		['a title in single quotes', "[Statement](https://evil.example 'https://bank.example')"],
		['a title in parentheses', '[Statement](https://evil.example (https://bank.example))'],
		['a reference link\'s title', '[Statement][s]\n\n[s]: https://evil.example "https://bank.example"'],
		['an image (shown as a link) with a title', '![Statement](https://evil.example/x.png "https://bank.example")'],
		['a title with an RLO and a zero-width space', '[x](https://a.example "\u202Elpmaxe.knab\u200B")'],
		['a title of thousands of characters', `[x](https://a.example "${'word '.repeat(1_000)}")`]
	])('is not shown as a tooltip: %s', (_name, source) => {
		const [a] = links(source);
		expect(a?.getAttribute('href')).toMatch(/^https:\/\//);
		expect(a?.hasAttribute('title')).toBe(false);
	});

	it('the link itself and its text stay (passes before the fix too)', () => {
		const [a] = links('[the docs](https://docs.example/start "Start here")');
		expect(a?.getAttribute('href')).toBe('https://docs.example/start');
		expect(a?.textContent).toBe('the docs');
	});
});

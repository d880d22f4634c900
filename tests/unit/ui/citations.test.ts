// @vitest-environment jsdom
/** Citation markers of knowledge answers: `[n]` of a known source becomes a button, nothing else changes. */
import { describe, expect, it, vi } from 'vitest';
import type { SourceRef } from '../../../src/lib/doc/schema';
import { citationLinks, linkCitations, splitCitations } from '../../../src/lib/ui/ai/citations';
import { prettyJson } from '../../../src/lib/ui/ai/prettyJson';

const source = (n: number, title: string): SourceRef => ({ n, kind: 'note', docId: `note-${n}`, offset: 10 * n, title });
const sources = [source(1, 'Plans'), source(2, '<img src=x onerror=alert(1)>'), source(3, '计划')];
const label = (s: SourceRef) => `Open source ${s.n}: ${s.title}`;

describe('splitCitations', () => {
	const known = (n: number) => n >= 1 && n <= 3;

	it('splits at the markers of known sources, adjacent ones included', () => {
		expect(splitCitations('As noted [1], and again[2][3].', known)).toEqual([
			{ text: 'As noted ' },
			{ text: '[1]', cite: 1 },
			{ text: ', and again' },
			{ text: '[2]', cite: 2 },
			{ text: '[3]', cite: 3 },
			{ text: '.' }
		]);
	});

	it('leaves unknown numbers and other brackets as text', () => {
		expect(splitCitations('See [9], [a], [1 ] and [12345].', known)).toEqual([{ text: 'See [9], [a], [1 ] and [12345].' }]);
		expect(splitCitations('', known)).toEqual([]);
	});
});

describe('linkCitations', () => {
	function rendered(html: string): HTMLElement {
		const root = document.createElement('div');
		root.innerHTML = html;
		return root;
	}

	it('turns markers into labelled buttons, keeping the text around them', () => {
		const root = rendered('<p>Meet on Monday [1][3], <em>not</em> Friday [2].</p>');
		linkCitations(root, sources, label);
		const buttons = [...root.querySelectorAll('button')];
		expect(buttons.map((b) => b.textContent)).toEqual(['[1]', '[3]', '[2]']);
		expect(buttons.map((b) => b.getAttribute('aria-label'))).toEqual(['Open source 1: Plans', 'Open source 3: 计划', `Open source 2: ${sources[1]!.title}`]);
		expect(root.textContent).toBe('Meet on Monday [1][3], not Friday [2].');
		// A title is text, never markup.
		expect(root.querySelector('img')).toBeNull();
	});

	it('leaves markers in code, links and unknown numbers alone, and is idempotent', () => {
		const root = rendered('<p><code>a[1]</code> <a href="https://x.test">[2]</a> [7] [1]</p><pre>[3]</pre>');
		linkCitations(root, sources, label);
		linkCitations(root, sources, label);
		expect([...root.querySelectorAll('button')].map((b) => b.textContent)).toEqual(['[1]']);
		expect(root.textContent).toBe('a[1] [2] [7] [1][3]');
	});
});

describe('citationLinks', () => {
	it('opens the cited source on click, and links text rendered later (a streamed answer)', async () => {
		const root = document.createElement('div');
		root.innerHTML = '<p>First [1]</p>';
		const open = vi.fn();
		const cleanup = citationLinks(sources, label, open)(root);
		root.querySelector('button')!.click();
		expect(open).toHaveBeenCalledWith(sources[0]);
		root.innerHTML = '<p>First [1], then [3]</p>';
		await new Promise((resolve) => setTimeout(resolve, 0));
		const buttons = root.querySelectorAll('button');
		expect(buttons).toHaveLength(2);
		buttons[1]!.click();
		expect(open).toHaveBeenLastCalledWith(sources[2]);
		if (typeof cleanup === 'function') cleanup();
		root.innerHTML = '<p>After [2]</p>';
		await new Promise((resolve) => setTimeout(resolve, 0));
		expect(root.querySelector('button')).toBeNull();
	});

	it('does nothing without sources or without a way to open them', () => {
		const root = document.createElement('div');
		root.innerHTML = '<p>[1]</p>';
		citationLinks([], label, vi.fn())(root);
		citationLinks(sources, label, undefined)(root);
		expect(root.querySelector('button')).toBeNull();
	});
});

describe('prettyJson', () => {
	it('indents JSON and leaves other text as it is', () => {
		expect(prettyJson('{"query":"plans","limit":3}')).toBe('{\n  "query": "plans",\n  "limit": 3\n}');
		expect(prettyJson('[1,2]')).toBe('[\n  1,\n  2\n]');
		expect(prettyJson('{not json')).toBe('{not json');
		expect(prettyJson('plain text')).toBe('plain text');
	});
});

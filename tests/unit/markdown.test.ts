// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRenderer, isSafeHref, renderMarkdown } from '../../src/lib/markdown/render.js';

/** Renders and parses the result, so assertions look at the DOM a browser would build. */
function dom(source: string, options?: { mentionNames?: string[] }): HTMLDivElement {
	const div = document.createElement('div');
	div.innerHTML = renderMarkdown(source, options);
	return div;
}

/** Every element and attribute that could run script or load something. */
function dangerous(root: Element): string[] {
	const found: string[] = [];
	for (const el of root.querySelectorAll('*')) {
		const tag = el.tagName.toLowerCase();
		if (['script', 'img', 'iframe', 'svg', 'object', 'embed', 'style', 'form', 'math', 'video', 'audio'].includes(tag)) {
			found.push(tag);
		}
		for (const attr of el.attributes) {
			if (attr.name.startsWith('on') || attr.name === 'style' || attr.name === 'src' || attr.name === 'srcdoc') {
				found.push(`${tag}[${attr.name}]`);
			}
		}
		const href = el.getAttribute('href');
		if (href !== null && !/^(https?:|mailto:|\/|#)/i.test(href)) found.push(`${tag}[href=${href}]`);
	}
	return found;
}

describe('renderMarkdown: raw HTML is shown, not run', () => {
	it.each([
		['<script>alert(1)</script>', '<script>alert(1)</script>'],
		['hi <img src=x onerror=alert(1)> there', '<img src=x onerror=alert(1)>'],
		['<svg onload=alert(1)>', '<svg onload=alert(1)>'],
		['<iframe src="javascript:alert(1)"></iframe>', '<iframe src="javascript:alert(1)"></iframe>'],
		['<a href="javascript:alert(1)">click</a>', '<a href="javascript:alert(1)">click</a>'],
		['<div style="position:fixed">x</div>', '<div style="position:fixed">x</div>'],
		['text <b onmouseover=alert(1)>bold</b>', '<b onmouseover=alert(1)>']
	])('%s', (source, visible) => {
		const root = dom(source);
		expect(dangerous(root)).toEqual([]);
		expect(root.textContent).toContain(visible);
	});

	it('leaves no HTML elements from the source at all', () => {
		const root = dom('<details open ontoggle=alert(1)><summary>x</summary></details>');
		expect(root.querySelector('details, summary')).toBeNull();
		expect(root.textContent).toContain('<details open ontoggle=alert(1)>');
	});
});

describe('renderMarkdown: dangerous links become inert', () => {
	it.each([
		'[x](javascript:alert(1))',
		'[x](JaVaScRiPt:alert(1))',
		'[x](<javascript:alert(1)>)',
		'<javascript:alert(1)>',
		'[x](jav&#x09;ascript:alert(1))',
		'[x](&#106;avascript:alert(1))',
		'[x](javascript&colon;alert(1))',
		'[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
		'[x](data:text/html,<script>alert(1)</script>)',
		'[x](vbscript:msgbox(1))',
		'[x]( javascript:alert(1))',
		'[x][ref]\n\n[ref]: javascript:alert(1)',
		'![x](data:image/svg+xml,<svg onload=alert(1)>)',
		'![x](javascript:alert(1))'
	])('%s', (source) => {
		const root = dom(source);
		expect(dangerous(root)).toEqual([]);
		for (const a of root.querySelectorAll('a')) {
			expect(a.hasAttribute('href')).toBe(false);
			expect(a.hasAttribute('target')).toBe(false);
		}
		expect(root.textContent).toMatch(/x|javascript/);
	});

	it('keeps the link text of an inert link', () => {
		const root = dom('see [the docs](javascript:alert(1)) please');
		expect(root.textContent).toBe('see the docs please');
		expect(root.innerHTML).not.toContain('javascript');
	});

	it('cannot inject attributes through a link title', () => {
		const root = dom('[x](https://example.com "a\\" style=\\"color:red\\" onclick=\\"alert(1)")');
		const a = root.querySelector('a');
		expect(a).not.toBeNull();
		expect(a?.getAttribute('style')).toBeNull();
		expect(a?.getAttribute('onclick')).toBeNull();
		expect(a?.getAttribute('title')).toBeNull(); // titles are dropped (markdown/linkTitle.test.ts)
		expect(dangerous(root)).toEqual([]);
	});

	it('isSafeHref allows web, mail, phone and relative targets only', () => {
		for (const ok of ['https://a.example/x', 'http://a', 'mailto:a@b.c', 'tel:+351', '/c/abc', '#top', 'page']) {
			expect(isSafeHref(ok), ok).toBe(true);
		}
		for (const bad of ['javascript:alert(1)', 'jav\tascript:x', ' javascript:x', 'data:text/html,x', 'vbscript:x', 'file:///etc/passwd', 'blob:https://a/x']) {
			expect(isSafeHref(bad), bad).toBe(false);
		}
	});
});

describe('renderMarkdown: ordinary Markdown', () => {
	it('renders links that open in a new tab without an opener or referrer', () => {
		const root = dom('read [the guide](https://example.com/guide?a=1&b=2) and https://example.org');
		const links = [...root.querySelectorAll('a')];
		expect(links.map((a) => a.getAttribute('href'))).toEqual(['https://example.com/guide?a=1&b=2', 'https://example.org']);
		for (const a of links) {
			expect(a.getAttribute('target')).toBe('_blank');
			expect(a.getAttribute('rel')).toBe('noopener noreferrer nofollow');
		}
		expect(links[0].textContent).toBe('the guide');
	});

	it('shows images as links, so nothing is fetched', () => {
		const root = dom('![a cat](https://example.com/cat.png)');
		expect(root.querySelector('img')).toBeNull();
		const a = root.querySelector('a');
		expect(a?.getAttribute('href')).toBe('https://example.com/cat.png');
		expect(a?.textContent).toBe('a cat');
	});

	it('renders bullet and numbered lists', () => {
		const root = dom('- one\n- two\n\n3. three\n4. four');
		expect([...root.querySelectorAll('ul > li')].map((li) => li.textContent)).toEqual(['one', 'two']);
		expect([...root.querySelectorAll('ol > li')].map((li) => li.textContent)).toEqual(['three', 'four']);
		expect(root.querySelector('ol')?.getAttribute('start')).toBe('3');
	});

	it('renders emphasis, strike-through, blockquotes and line breaks', () => {
		const root = dom('*em* **strong** ~~gone~~\n> quoted\n\nline one\nline two');
		expect(root.querySelector('em')?.textContent).toBe('em');
		expect(root.querySelector('strong')?.textContent).toBe('strong');
		expect(root.querySelector('del')?.textContent).toBe('gone');
		expect(root.querySelector('blockquote')?.textContent).toContain('quoted');
		expect(root.querySelectorAll('br').length).toBeGreaterThanOrEqual(1);
	});

	it('keeps code blocks and inline code escaped, with their language', () => {
		const source = '```html\n<script>alert("x")</script>\n<b>not bold</b>\n```\n\nrun `<img src=x onerror=alert(1)>` now';
		const root = dom(source);
		const block = root.querySelector('pre > code');
		expect(block?.className).toBe('language-html');
		expect(block?.textContent).toBe('<script>alert("x")</script>\n<b>not bold</b>\n');
		expect(root.querySelector('p > code')?.textContent).toBe('<img src=x onerror=alert(1)>');
		expect(root.querySelector('b')).toBeNull();
		expect(dangerous(root)).toEqual([]);
	});
});

describe('renderMarkdown: mentions', () => {
	function mentions(root: Element): string[] {
		return [...root.querySelectorAll('span.mention')].map((s) => s.textContent ?? '');
	}

	it('wraps @names, including CJK names and . _ - inside names', () => {
		const root = dom('hi @alice, @山田太郎 and @j.doe_2-x. Thanks @bob.');
		expect(mentions(root)).toEqual(['@alice', '@山田太郎', '@j.doe_2-x', '@bob']);
		expect(root.textContent).toBe('hi @alice, @山田太郎 and @j.doe_2-x. Thanks @bob.');
	});

	it('does not treat e-mail addresses, code or link text as mentions', () => {
		const root = dom('mail bob@example.com or x@y, `@code`\n\n```\n@block\n```\n\n[@link](https://e.com)');
		expect(mentions(root)).toEqual([]);
		expect(root.querySelector('code')?.textContent).toBe('@code');
	});

	it('finds mentions inside emphasis and lists', () => {
		const root = dom('**@ana** wrote\n\n- ask @rui');
		expect(mentions(root)).toEqual(['@ana', '@rui']);
	});

	it('escapes text around mentions', () => {
		const root = dom('@ana <b>x</b>');
		expect(mentions(root)).toEqual(['@ana']);
		expect(root.querySelector('b')).toBeNull();
		expect(root.textContent).toBe('@ana <b>x</b>');
	});

	it('with known names, wraps only those, longest first and case-insensitively', () => {
		const root = dom('@Ana Lima, @ana and @stranger', { mentionNames: ['Ana', 'Ana Lima'] });
		expect(mentions(root)).toEqual(['@Ana Lima', '@ana']);
	});

	it('mentions a member whose name has a hyphen, and renders (found in review: "Jean-Luc" made every message throw)', () => {
		const root = dom('@Jean-Luc and @ana', { mentionNames: ['ana', 'Jean-Luc', 'x]-(y'] });
		expect(mentions(root)).toEqual(['@Jean-Luc', '@ana']);
	});

	it('does not match a known name that is only a prefix of a longer word', () => {
		const root = dom('@anabela', { mentionNames: ['ana'] });
		expect(mentions(root)).toEqual([]);
	});
});

describe('createRenderer', () => {
	it('works with an injected window', () => {
		const render = createRenderer(window);
		const html = render('**hi** <script>x</script> [a](javascript:1) @bob');
		expect(html).toContain('<strong>hi</strong>');
		expect(html).toContain('&lt;script&gt;');
		expect(html).not.toContain('<script');
		expect(html).not.toContain('javascript');
		expect(html).toContain('<span class="mention">@bob</span>');
	});

	it('does not let per-call mention names leak into the next call', () => {
		const render = createRenderer(window);
		expect(render('@x', { mentionNames: ['y'] })).not.toContain('mention');
		expect(render('@x')).toContain('<span class="mention">@x</span>');
	});
});

describe('renderMarkdown without a DOM (server rendering)', () => {
	afterEach(() => {
		vi.unstubAllGlobals();
		vi.resetModules();
	});

	it('falls back to escaped plain text', async () => {
		vi.resetModules();
		vi.stubGlobal('window', undefined);
		const fresh = await import('../../src/lib/markdown/render.js');
		expect(fresh.renderMarkdown('**hi** <script>x</script>\nnext')).toBe('<p>**hi** &lt;script&gt;x&lt;/script&gt;<br>next</p>');
	});
});

/**
 * Citation markers in a knowledge answer: `[n]` in the rendered answer becomes a button that
 * opens source n. The answer is rendered by Markdown.svelte (sanitised HTML); this walks its
 * text nodes afterwards and replaces markers with buttons built through the DOM (text only,
 * never HTML), so the source's title cannot inject anything.
 */
import type { Attachment } from 'svelte/attachments';
import type { SourceRef } from '$lib/doc/schema';

/** A piece of answer text: plain text, or the marker of a known source. */
export type CitationPart = { text: string } | { text: string; cite: number };

const MARKER = /\[(\d{1,3})\]/g;
/** Markers inside these stay text: code shows what was written, links and buttons are controls already. */
const SKIP = 'code, pre, a, button';
/** Class of the buttons made from markers. */
export const CITE_CLASS = 'cite';

/** Splits `text` at the markers `[n]` of the sources `known` has; others stay text. */
export function splitCitations(text: string, known: (n: number) => boolean): CitationPart[] {
	const parts: CitationPart[] = [];
	let last = 0;
	for (const match of text.matchAll(MARKER)) {
		const n = Number(match[1]);
		if (!known(n)) continue;
		if (match.index > last) parts.push({ text: text.slice(last, match.index) });
		parts.push({ text: match[0], cite: n });
		last = match.index + match[0].length;
	}
	if (last < text.length) parts.push({ text: text.slice(last) });
	return parts;
}

/** Replaces the markers of `sources` in `root`'s text with buttons labelled by `label`. */
export function linkCitations(root: HTMLElement, sources: readonly SourceRef[], label: (source: SourceRef) => string): void {
	const byNumber = new Map(sources.map((s) => [s.n, s]));
	const doc = root.ownerDocument;
	const walker = doc.createTreeWalker(root, NodeFilter.SHOW_TEXT);
	const found: Text[] = [];
	for (let node = walker.nextNode(); node !== null; node = walker.nextNode()) {
		const text = node as Text;
		if (text.parentElement?.closest(SKIP) || !text.data.includes('[')) continue;
		found.push(text);
	}
	for (const text of found) {
		const parts = splitCitations(text.data, (n) => byNumber.has(n));
		if (!parts.some((p) => 'cite' in p)) continue;
		const fragment = doc.createDocumentFragment();
		for (const part of parts) {
			if (!('cite' in part)) {
				fragment.append(part.text);
				continue;
			}
			const button = doc.createElement('button');
			button.type = 'button';
			button.className = CITE_CLASS;
			button.dataset.source = String(part.cite);
			button.textContent = part.text;
			button.setAttribute('aria-label', label(byNumber.get(part.cite)!));
			fragment.append(button);
		}
		text.replaceWith(fragment);
	}
}

/**
 * An attachment for the element around a rendered answer: its markers of `sources` become
 * buttons (again whenever the answer re-renders, as it does while streaming) that call `open`.
 */
export function citationLinks(
	sources: readonly SourceRef[],
	label: (source: SourceRef) => string,
	open: ((source: SourceRef) => void) | undefined
): Attachment<HTMLElement> {
	return (root) => {
		if (sources.length === 0 || open === undefined) return;
		const link = () => linkCitations(root, sources, label);
		const onclick = (event: MouseEvent) => {
			const button = event.target instanceof Element ? event.target.closest(`button.${CITE_CLASS}`) : null;
			const source = sources.find((s) => String(s.n) === (button as HTMLElement | null)?.dataset.source);
			if (source === undefined) return;
			event.preventDefault();
			open(source);
		};
		link();
		// The buttons made here change the tree too; the second pass finds no markers left.
		const observer = new MutationObserver(link);
		observer.observe(root, { childList: true, subtree: true, characterData: true });
		root.addEventListener('click', onclick);
		return () => {
			observer.disconnect();
			root.removeEventListener('click', onclick);
		};
	};
}

/**
 * Where a search matched, for highlighting: the ranges of a text whose terms are among the
 * matched ones, and a short excerpt around the first match cut into plain and marked parts.
 * Output is plain strings; the UI renders marked parts in `<mark>` as text (never as HTML).
 */
import { tokenSpans } from './tokenizer.js';

/** A half-open range [start, end) of UTF-16 offsets. */
export type Range = readonly [number, number];

/** One piece of an excerpt. */
export interface Segment {
	text: string;
	mark: boolean;
}

/** The ranges of `text` whose terms are in `terms`, sorted, overlapping ones merged. */
export function matchRanges(text: string, terms: ReadonlySet<string>): Range[] {
	const out: [number, number][] = [];
	if (terms.size === 0) return out;
	for (const span of tokenSpans(text, 'index')) {
		if (!terms.has(span.term)) continue;
		const last = out[out.length - 1];
		if (last && span.start <= last[1]) last[1] = Math.max(last[1], span.end);
		else out.push([span.start, span.end]);
	}
	return out;
}

/** Default characters of context kept before the first match. */
const BEFORE = 40;

/**
 * An excerpt of about `length` characters of `text` around its first range, as segments.
 * Whitespace runs become single spaces; an ellipsis marks what was cut.
 */
export function excerpt(text: string, ranges: readonly Range[], length = 160): Segment[] {
	const first = ranges[0]?.[0] ?? 0;
	let from = Math.max(0, first - BEFORE);
	// Start at a word boundary when one is near, and never inside a surrogate pair.
	const space = text.indexOf(' ', from);
	if (from > 0 && space >= 0 && space < first) from = space + 1;
	if (from > 0 && isLowSurrogate(text.charCodeAt(from))) from--;
	let to = Math.min(text.length, from + length);
	if (to < text.length && isLowSurrogate(text.charCodeAt(to))) to++;
	const segments: Segment[] = [];
	const push = (s: string, mark: boolean) => {
		const clean = s.replace(/\s+/g, ' ');
		if (clean) segments.push({ text: clean, mark });
	};
	if (from > 0) push('…', false);
	let at = from;
	for (const [start, end] of ranges) {
		if (end <= at) continue;
		if (start >= to) break;
		push(text.slice(at, Math.max(at, start)), false);
		push(text.slice(Math.max(at, start), Math.min(end, to)), true);
		at = Math.min(end, to);
	}
	push(text.slice(at, to), false);
	if (to < text.length) push('…', false);
	return segments;
}

function isLowSurrogate(code: number): boolean {
	return code >= 0xdc00 && code <= 0xdfff;
}

/**
 * Cuts the workspace's text into the pieces that retrieval indexes, embeds and cites.
 *
 * - A note (Markdown) is cut at its ATX headings (`#` … `######`, not inside fenced code);
 *   each section is one chunk titled by its heading path ("Note › Section › Subsection"),
 *   and a section longer than {@link MAX_CHUNK_TOKENS} is cut again at blank lines, then at
 *   sentence ends, then anywhere. Chunk ids are `note:<docId>#<n>`, in order.
 * - A channel message is one chunk `msg:<docId>#<messageId>` (a long one is cut the same way,
 *   its later parts `…#<messageId>~<k>`).
 *
 * Every chunk records where its text starts (`offset`, UTF-16, in the note's body or the
 * message's text: `source.slice(offset).startsWith(text)`), so a citation can open the note at
 * the cited place, and a hash of what is embedded (title and text), so an unchanged chunk is
 * never embedded again. Tokens are estimated, not counted (no tokenizer here): a CJK character
 * is about one token, other text about four characters per token.
 *
 * Any member writes any note, so a note's cost is bounded (found in review): its title and each
 * heading count at most {@link MAX_NOTE_TITLE} characters in a chunk's title, a note gives at
 * most {@link MAX_CHUNKS_PER_NOTE} chunks (the rest is not indexed), and headings are read
 * without a backtracking regex (one line of 60,000 spaces took seconds).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { MAX_NOTE_TITLE } from '../doc/NoteDoc.js';

/** Longest chunk, in estimated tokens (title included). */
export const MAX_CHUNK_TOKENS = 300;
/** Most chunks one note gives (600,000 estimated tokens, some 2.4 MB of prose). */
export const MAX_CHUNKS_PER_NOTE = 2000;

/** What a chunk was cut from. */
export const ChunkKind = { note: 'note', message: 'message' } as const;
export type ChunkKind = (typeof ChunkKind)[keyof typeof ChunkKind];

/** A piece of a note or a message; see the module comment. */
export interface Chunk {
	/** `note:<docId>#<n>` or `msg:<docId>#<messageId>` (`~<k>` for a long message's later parts). */
	id: string;
	/** The note or channel document. */
	docId: string;
	kind: ChunkKind;
	/** A note's heading path; a message's channel name (or ''). */
	title: string;
	text: string;
	/** Where `text` starts in the note's body or the message's text (UTF-16 offset). */
	offset: number;
	/** {@link chunkHash} of title and text. */
	hash: string;
	/** Messages: the message id (citations open it). */
	itemId?: string;
	/** Messages: the author (peer id). */
	author?: string;
	/** Messages: wall-clock milliseconds. */
	time?: number;
	/** Messages: clock of the text indexed (the message's or its newest edit's). */
	textHlc?: string;
	/** Thread replies: the parent message's id. */
	parent?: string;
}

/** A message to chunk (the fields of a search entry it needs). */
export interface MessageSource {
	itemId: string;
	text: string;
	author?: string;
	time?: number;
	textHlc?: string;
	parent?: string;
}

const CJK_CHAR = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu;
const HEADING_START = /^ {0,3}(#{1,6})(?=[ \t]|$)/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;
/** Separates the parts of a heading path. */
export const TITLE_SEPARATOR = ' › ';

/** Estimated tokens of `text`: CJK characters one each, the rest four characters a token. */
export function approxTokens(text: string): number {
	const cjk = text.match(CJK_CHAR)?.length ?? 0;
	return cjk + Math.ceil((text.length - cjk) / 4);
}

/** The hash that says whether a chunk must be embedded again (hex, 128 bits). */
export function chunkHash(title: string, text: string): string {
	return bytesToHex(sha256(utf8ToBytes(`${title}\u0000${text}`)).subarray(0, 16));
}

/** What an embedder reads for a chunk. */
export function embeddingText(chunk: Pick<Chunk, 'title' | 'text'>): string {
	return chunk.title ? `${chunk.title}\n${chunk.text}` : chunk.text;
}

/** A span of a source text. */
interface Span {
	start: number;
	end: number;
}

/** A section of a note: its heading path and where its content lies. */
interface Section extends Span {
	path: string[];
}

/** The chunks of a note; see the module comment. */
export function chunkNote(docId: string, title: string, body: string, maxTokens = MAX_CHUNK_TOKENS): Chunk[] {
	const noteTitle = title.trim().slice(0, MAX_NOTE_TITLE);
	const chunks: Chunk[] = [];
	for (const section of sections(body)) {
		const path = [noteTitle, ...section.path].filter((p) => p.length > 0).join(TITLE_SEPARATOR);
		const budget = Math.max(16, maxTokens - approxTokens(path));
		for (const piece of split(body, trimSpan(body, section), budget)) {
			if (chunks.length >= MAX_CHUNKS_PER_NOTE) return chunks;
			const text = body.slice(piece.start, piece.end);
			chunks.push({ id: `note:${docId}#${chunks.length}`, docId, kind: ChunkKind.note, title: path, text, offset: piece.start, hash: chunkHash(path, text) });
		}
	}
	if (chunks.length === 0 && noteTitle) {
		// A note with a title and no body is still findable by its title.
		chunks.push({ id: `note:${docId}#0`, docId, kind: ChunkKind.note, title: noteTitle, text: '', offset: 0, hash: chunkHash(noteTitle, '') });
	}
	return chunks;
}

/** The chunks of a channel message (one unless it is long); `title` is the channel's name. */
export function chunkMessage(docId: string, message: MessageSource, title = '', maxTokens = MAX_CHUNK_TOKENS): Chunk[] {
	const { itemId, text: source } = message;
	const meta = {
		itemId,
		...(message.author !== undefined ? { author: message.author } : {}),
		...(message.time !== undefined ? { time: message.time } : {}),
		...(message.textHlc !== undefined ? { textHlc: message.textHlc } : {}),
		...(message.parent !== undefined ? { parent: message.parent } : {})
	};
	// Chunk ids name a message's later parts `<id>~<k>`: a message whose own id has a `~` could take
	// another's part (found in review). Ids made here never have one; such a message is not indexed.
	if (itemId.includes('~')) return [];
	const budget = Math.max(16, maxTokens - approxTokens(title));
	return split(source, trimSpan(source, { start: 0, end: source.length }), budget).map((piece, k) => {
		const text = source.slice(piece.start, piece.end);
		return { id: messageChunkId(docId, itemId, k), docId, kind: ChunkKind.message, title, text, offset: piece.start, hash: chunkHash(title, text), ...meta };
	});
}

/** Id of part `k` (from 0) of a message's chunks. */
export function messageChunkId(docId: string, itemId: string, k = 0): string {
	return k === 0 ? `msg:${docId}#${itemId}` : `msg:${docId}#${itemId}~${k}`;
}

/** A note's sections: the text before the first heading, then one per heading. */
function sections(body: string): Section[] {
	const out: Section[] = [];
	const path: { level: number; text: string }[] = [];
	let current: Section = { path: [], start: 0, end: body.length };
	let fence: string | undefined;
	let at = 0;
	for (const line of body.split('\n')) {
		const lineStart = at;
		at += line.length + 1;
		const fenceMark = FENCE.exec(line)?.[1];
		if (fence !== undefined) {
			if (fenceMark !== undefined && fenceMark[0] === fence[0] && fenceMark.length >= fence.length) fence = undefined;
			continue;
		}
		if (fenceMark !== undefined) {
			fence = fenceMark;
			continue;
		}
		const heading = readHeading(line.replace(/\r$/, ''));
		if (!heading) continue;
		const { level } = heading;
		while (path.length > 0 && path[path.length - 1]!.level >= level) path.pop();
		path.push(heading);
		out.push({ ...current, end: lineStart });
		current = { path: path.map((p) => p.text).filter((t) => t.length > 0), start: Math.min(at, body.length), end: body.length };
	}
	out.push(current);
	return out;
}

/** An ATX heading's level and text (its closing `#`s dropped, at most {@link MAX_NOTE_TITLE} characters), or undefined. */
function readHeading(line: string): { level: number; text: string } | undefined {
	const start = HEADING_START.exec(line);
	if (!start) return undefined;
	let text = line.slice(start[0].length).trim();
	// A closing sequence: `#`s after a space or tab, or a heading of `#`s alone.
	let end = text.length;
	while (end > 0 && text[end - 1] === '#') end--;
	if (end === 0) text = '';
	else if (end < text.length && (text[end - 1] === ' ' || text[end - 1] === '\t')) text = text.slice(0, end).trimEnd();
	return { level: start[1]!.length, text: text.slice(0, MAX_NOTE_TITLE) };
}

/** The span without the whitespace at its ends (empty when only whitespace). */
function trimSpan(source: string, span: Span): Span {
	let { start, end } = span;
	while (start < end && /\s/.test(source[start]!)) start++;
	while (end > start && /\s/.test(source[end - 1]!)) end--;
	return { start, end };
}

/**
 * Cuts a span into pieces of at most `budget` tokens: at blank lines first, then at sentence
 * ends, then at whitespace or anywhere. Consecutive small parts are packed together.
 */
function split(source: string, span: Span, budget: number): Span[] {
	if (span.end <= span.start) return [];
	if (approxTokens(source.slice(span.start, span.end)) <= budget) return [span];
	const out: Span[] = [];
	for (const part of pack(source, cut(source, span, /\n[ \t]*\n\s*/g), budget)) {
		if (approxTokens(source.slice(part.start, part.end)) <= budget) out.push(part);
		else
			for (const sentence of pack(source, cut(source, part, /(?<=[.!?])\s+|(?<=[。！？；])\s*|\n+/g), budget)) {
				if (approxTokens(source.slice(sentence.start, sentence.end)) <= budget) out.push(sentence);
				else out.push(...hardCut(source, sentence, budget));
			}
	}
	return out;
}

/** The parts of a span between the matches of `separator` (trimmed, non-empty). */
function cut(source: string, span: Span, separator: RegExp): Span[] {
	const text = source.slice(span.start, span.end);
	const out: Span[] = [];
	let from = 0;
	separator.lastIndex = 0;
	for (let m = separator.exec(text); m !== null; m = separator.exec(text)) {
		if (m[0].length === 0) separator.lastIndex++;
		out.push({ start: span.start + from, end: span.start + m.index });
		from = m.index + m[0].length;
	}
	out.push({ start: span.start + from, end: span.end });
	return out.map((s) => trimSpan(source, s)).filter((s) => s.end > s.start);
}

/** Joins consecutive parts while they fit the budget together. */
function pack(source: string, parts: Span[], budget: number): Span[] {
	const out: Span[] = [];
	for (const part of parts) {
		const last = out[out.length - 1];
		if (last && approxTokens(source.slice(last.start, part.end)) <= budget) last.end = part.end;
		else out.push({ ...part });
	}
	return out;
}

/** Pieces of at most `budget` tokens, ending at whitespace where there is some. */
function hardCut(source: string, span: Span, budget: number): Span[] {
	const out: Span[] = [];
	let start = span.start;
	while (start < span.end) {
		let end = start;
		let tokens = 0;
		let lastSpace = -1;
		// Whole code points, so a cut never splits a surrogate pair.
		while (end < span.end) {
			const cp = source.codePointAt(end)!;
			const ch = String.fromCodePoint(cp);
			CJK_CHAR.lastIndex = 0;
			const cost = CJK_CHAR.test(ch) ? 1 : 0.25;
			if (tokens + cost > budget && end > start) break;
			tokens += cost;
			if (/\s/.test(ch)) lastSpace = end;
			end += ch.length;
		}
		if (end < span.end && lastSpace > start) end = lastSpace;
		const piece = trimSpan(source, { start, end });
		if (piece.end > piece.start) out.push(piece);
		start = end;
	}
	return out;
}

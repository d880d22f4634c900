/**
 * The search tokenizer, shared by indexing and querying so both see the same terms.
 *
 * - Words in alphabetic scripts (Latin, Cyrillic, Greek…) and numbers: NFKC (full-width
 *   letters become ASCII), lower case, accents stripped ("Café" → "cafe").
 * - Chinese, Japanese and Korean have no spaces between words, so a whitespace tokenizer
 *   finds nothing there. A run of CJK characters (Han, kana, hangul) becomes overlapping
 *   character bigrams: "数据主权" → 数据 据主 主权. A query is cut the same way, so a phrase
 *   matches wherever all its bigrams occur. When indexing, the last character of each run is
 *   also kept as a single-character term, so every character starts some term and a
 *   one-character query (searched as a prefix) finds it wherever it stands.
 * - Everything else (punctuation, emoji, symbols) separates terms and is not indexed.
 *
 * Every term carries its position in the original text, for highlighting.
 */

/** A term and the part of the original text it came from (UTF-16 offsets, end exclusive). */
export interface TokenSpan {
	term: string;
	start: number;
	end: number;
}

/** Indexing keeps each CJK run's last character as a term too; queries do not (see module comment). */
export type TokenizeMode = 'index' | 'query';

/** Terms longer than this (base64 blobs, long URLs' pieces) are not indexed. */
export const MAX_TERM_LENGTH = 64;

const CJK = '\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Hangul}\\u30fc\\uff70';
/** A CJK run, or a word of letters and digits from any other script (marks included). */
const CJK_MARKS = '[\\p{M}\\uff9e\\uff9f]*';
const RUN = new RegExp(`((?:[${CJK}]${CJK_MARKS})+)|((?:(?![${CJK}])[\\p{L}\\p{N}]\\p{M}*)+)`, 'gu');
/** One CJK character with the marks that follow it (a voiced-sound mark, also the half-width one). */
const CJK_UNIT = new RegExp(`[${CJK}]${CJK_MARKS}`, 'gu');
const MARKS = /\p{M}/gu;
const ASCII_WORD = /^[a-z0-9]+$/;

/** Normalises an alphabetic word: NFKC, lower case, no accents. */
export function normalizeWord(word: string): string {
	const lower = word.toLowerCase();
	if (ASCII_WORD.test(lower)) return lower;
	return lower.normalize('NFKC').toLowerCase().normalize('NFD').replace(MARKS, '').normalize('NFC');
}

/** Every term of `text` with its position (see the module comment). */
export function tokenSpans(text: string, mode: TokenizeMode = 'index'): TokenSpan[] {
	const out: TokenSpan[] = [];
	RUN.lastIndex = 0;
	for (let m = RUN.exec(text); m !== null; m = RUN.exec(text)) {
		const start = m.index;
		if (m[1] !== undefined) cjkSpans(m[1], start, mode, out);
		else {
			const term = normalizeWord(m[0]);
			if (term.length > 0 && term.length <= MAX_TERM_LENGTH) out.push({ term, start, end: start + m[0].length });
		}
	}
	return out;
}

/** Bigrams of one CJK run (plus, when indexing, its last character alone). */
function cjkSpans(run: string, offset: number, mode: TokenizeMode, out: TokenSpan[]): void {
	const units: { text: string; start: number; end: number }[] = [];
	CJK_UNIT.lastIndex = 0;
	for (let u = CJK_UNIT.exec(run); u !== null; u = CJK_UNIT.exec(run)) {
		const start = offset + u.index;
		units.push({ text: u[0].normalize('NFKC'), start, end: start + u[0].length });
	}
	for (let i = 0; i + 1 < units.length; i++) {
		out.push({ term: units[i].text + units[i + 1].text, start: units[i].start, end: units[i + 1].end });
	}
	const last = units[units.length - 1];
	if (last && (units.length === 1 || mode === 'index')) out.push({ term: last.text, start: last.start, end: last.end });
}

/** The terms of a document's text (MiniSearch's `tokenize`). */
export function tokenize(text: string): string[] {
	return tokenSpans(text, 'index').map((s) => s.term);
}

/** The terms of a query (MiniSearch's `searchOptions.tokenize`). */
export function tokenizeQuery(text: string): string[] {
	return tokenSpans(text, 'query').map((s) => s.term);
}

/**
 * The CJK phrases of a query (runs of two or more characters, normalised): bigrams match
 * wherever all of them occur, so results are checked for the whole phrase.
 */
export function cjkPhrases(query: string): string[] {
	const out: string[] = [];
	RUN.lastIndex = 0;
	for (let m = RUN.exec(query); m !== null; m = RUN.exec(query)) {
		if (m[1] === undefined) continue;
		const phrase = m[1].normalize('NFKC');
		if ([...phrase].length > 1) out.push(phrase);
	}
	return out;
}

/** Whether a term is CJK (one character or a bigram) rather than a word. */
export function isCjkTerm(term: string): boolean {
	CJK_UNIT.lastIndex = 0;
	return CJK_UNIT.test(term);
}

/** The search tokenizer: words, CJK bigrams, normalisation, positions. */
import { describe, expect, it } from 'vitest';
import { excerpt, matchRanges } from '../../../../src/lib/store/search/highlight';
import { isCjkTerm, tokenSpans, tokenize, tokenizeQuery } from '../../../../src/lib/store/search/tokenizer';

describe('tokenizer', () => {
	it('splits English into lower-cased words and drops punctuation', () => {
		expect(tokenize('The Boat leaves at 9:30, OK?')).toEqual(['the', 'boat', 'leaves', 'at', '9', '30', 'ok']);
	});

	it('normalises accents and full-width letters', () => {
		expect(tokenize('Café NAÏVE Ｆｕｌｌ１２')).toEqual(['cafe', 'naive', 'full12']);
		expect(tokenizeQuery('cafe')).toEqual(tokenize('Café'));
	});

	it('cuts Chinese into overlapping bigrams, keeping the last character when indexing', () => {
		expect(tokenize('数据主权')).toEqual(['数据', '据主', '主权', '权']);
		expect(tokenizeQuery('数据主权')).toEqual(['数据', '据主', '主权']);
		// every query bigram occurs in a text that contains the phrase
		const doc = new Set(tokenize('我们讨论了数据主权的问题'));
		for (const t of tokenizeQuery('数据主权')) expect(doc.has(t)).toBe(true);
	});

	it('keeps a single CJK character as one term', () => {
		expect(tokenize('好')).toEqual(['好']);
		expect(tokenizeQuery('好')).toEqual(['好']);
	});

	it('treats Japanese kanji and kana as one run, and joins voiced-sound marks', () => {
		expect(tokenizeQuery('東京タワー')).toEqual(['東京', '京タ', 'タワ', 'ワー']);
		// half-width katakana with a half-width voiced mark becomes the full-width letter
		expect(tokenizeQuery('ｶﾞｷﾞ')).toEqual(['ガギ']);
		// a combining voiced mark joins its letter
		expect(tokenizeQuery('か\u3099き')).toEqual(['がき']);
	});

	it('splits Korean words (space separated) into bigrams per word', () => {
		expect(tokenizeQuery('안녕하세요 세계')).toEqual(['안녕', '녕하', '하세', '세요', '세계']);
	});

	it('separates Latin and CJK in mixed text', () => {
		expect(tokenize('AI模型v2很好')).toEqual(['ai', '模型', '型', 'v2', '很好', '好']);
	});

	it('ignores emoji and symbols without splitting surrogate pairs into terms', () => {
		expect(tokenize('🚀launch 🎉 party👍🏽ok ❤️')).toEqual(['launch', 'party', 'ok']);
		expect(tokenize('🎉🎉')).toEqual([]);
		expect(tokenizeQuery('!!! ... ???')).toEqual([]);
	});

	it('reports each term with its position in the original text', () => {
		const text = 'I like 数据主权!';
		for (const s of tokenSpans(text)) {
			expect(text.slice(s.start, s.end).toLowerCase()).toBe(s.term);
		}
		expect(tokenSpans('🚀 Café')).toEqual([{ term: 'cafe', start: 3, end: 7 }]);
	});

	it('drops absurdly long terms', () => {
		expect(tokenize('a'.repeat(65) + ' short')).toEqual(['short']);
	});

	it('tells CJK terms from words', () => {
		expect(isCjkTerm('数据')).toBe(true);
		expect(isCjkTerm('한')).toBe(true);
		expect(isCjkTerm('data')).toBe(false);
	});
});

describe('highlight', () => {
	it('marks whole matched words and merges a CJK phrase into one range', () => {
		const text = 'Talk about 数据主权 and data';
		const ranges = matchRanges(text, new Set([...tokenizeQuery('数据主权'), 'data']));
		expect(ranges.map(([s, e]) => text.slice(s, e))).toEqual(['数据主权', 'data']);
	});

	it('cuts an excerpt around the first match into plain and marked segments', () => {
		const text = 'x '.repeat(100) + 'the <b>harbour</b> opens ' + 'y '.repeat(100);
		const ranges = matchRanges(text, new Set(['harbour']));
		const segments = excerpt(text, ranges, 60);
		expect(segments[0]).toEqual({ text: '…', mark: false });
		expect(segments.filter((s) => s.mark)).toEqual([{ text: 'harbour', mark: true }]);
		// markup in the text stays text: it is returned verbatim for the UI to escape
		expect(segments.map((s) => s.text).join('')).toContain('<b>harbour</b>');
		expect(segments[segments.length - 1]).toEqual({ text: '…', mark: false });
	});

	it('returns the start of the text when nothing matched', () => {
		expect(excerpt('short text', [])).toEqual([{ text: 'short text', mark: false }]);
	});
});

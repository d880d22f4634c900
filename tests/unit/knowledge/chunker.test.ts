/** Notes cut at headings, long sections and messages cut to size, offsets and hashes. */
import { describe, expect, it } from 'vitest';
import {
	approxTokens,
	chunkHash,
	chunkMessage,
	chunkNote,
	embeddingText,
	MAX_CHUNK_TOKENS,
	type Chunk
} from '../../../src/lib/knowledge/chunker';

/** Every chunk's text is where its offset says. */
function expectOffsets(source: string, chunks: Chunk[]): void {
	for (const c of chunks) expect(source.slice(c.offset, c.offset + c.text.length)).toBe(c.text);
}

const NOTE = `Intro line before any heading.

# Harbour

The harbour opens at six.

## Fuel

Diesel is delivered on Mondays.

### Prices
Prices change weekly.

# Crew

Alice and Bob.
`;

describe('chunkNote', () => {
	it('cuts at headings, titled by the heading path, with ids in order and offsets into the body', () => {
		const chunks = chunkNote('n1', 'Port guide', NOTE);
		expect(chunks.map((c) => [c.id, c.title, c.text])).toEqual([
			['note:n1#0', 'Port guide', 'Intro line before any heading.'],
			['note:n1#1', 'Port guide › Harbour', 'The harbour opens at six.'],
			['note:n1#2', 'Port guide › Harbour › Fuel', 'Diesel is delivered on Mondays.'],
			['note:n1#3', 'Port guide › Harbour › Fuel › Prices', 'Prices change weekly.'],
			['note:n1#4', 'Port guide › Crew', 'Alice and Bob.']
		]);
		expectOffsets(NOTE, chunks);
		expect(chunks.every((c) => c.kind === 'note' && c.docId === 'n1')).toBe(true);
	});

	it('does not cut at a # line inside fenced code, nor at a #hashtag', () => {
		const body = '# Setup\n\n```sh\n# install\nnpm ci\n```\n#notaheading here\n\n# Run\nnpm start';
		const chunks = chunkNote('n', '', body);
		expect(chunks.map((c) => c.title)).toEqual(['Setup', 'Run']);
		expect(chunks[0]!.text).toContain('# install');
		expect(chunks[0]!.text).toContain('#notaheading');
		expectOffsets(body, chunks);
	});

	it('skips sections with no text, and keeps a note that has only a title', () => {
		expect(chunkNote('n', 'T', '# A\n\n# B\nb').map((c) => c.title)).toEqual(['T › B']);
		expect(chunkNote('n', 'Only a title', '  \n')).toEqual([expect.objectContaining({ id: 'note:n#0', title: 'Only a title', text: '' })]);
		expect(chunkNote('n', '', '')).toEqual([]);
	});

	it('cuts a long section at paragraphs, then sentences, each piece within the budget', () => {
		const paragraph = (i: number) => Array.from({ length: 30 }, (_, j) => `Sentence ${j} of paragraph ${i} says something about the sea.`).join(' ');
		const body = `# Long\n\n${Array.from({ length: 6 }, (_, i) => paragraph(i)).join('\n\n')}`;
		const chunks = chunkNote('n', 'Log', body);
		expect(chunks.length).toBeGreaterThan(6);
		for (const c of chunks) {
			expect(approxTokens(embeddingText(c))).toBeLessThanOrEqual(MAX_CHUNK_TOKENS);
			expect(c.title).toBe('Log › Long');
			expect(c.text).toMatch(/^Sentence \d+ of paragraph \d+/); // cut at sentence ends
		}
		expectOffsets(body, chunks);
		// Nothing lost: every sentence is in some chunk.
		expect(chunks.map((c) => c.text).join(' ').split('Sentence').length - 1).toBe(180);
	});

	it('counts a CJK character as a token, cutting Chinese at sentence ends', () => {
		const sentence = '港口每天早上六点开放，晚上十点关闭，船员需要提前登记。';
		const body = sentence.repeat(40);
		expect(approxTokens('数据主权')).toBe(4);
		expect(approxTokens('harbour!')).toBe(2);
		expect(approxTokens(sentence)).toBe(24 + 1); // 24 characters, 3 punctuation marks
		const chunks = chunkNote('n', '', body);
		expect(chunks.length).toBeGreaterThan(1);
		for (const c of chunks) {
			expect(approxTokens(c.text)).toBeLessThanOrEqual(MAX_CHUNK_TOKENS);
			expect(c.text.endsWith('。')).toBe(true);
		}
		expect(chunks.map((c) => c.text).join('')).toBe(body);
		expectOffsets(body, chunks);
	});

	it('cuts text without sentence ends anywhere, never inside a surrogate pair', () => {
		const body = '🌊'.repeat(2000);
		const chunks = chunkNote('n', '', body);
		expect(chunks.length).toBeGreaterThan(1);
		expect(chunks.map((c) => c.text).join('')).toBe(body);
		for (const c of chunks) expect(c.text.length % 2).toBe(0);
	});

	it('hashes title and text: the same content gives the same hash wherever it stands', () => {
		const a = chunkNote('n', 'T', '# A\nsame text');
		const b = chunkNote('n', 'T', 'new intro\n\n# A\nsame text');
		expect(b[1]!.hash).toBe(a[0]!.hash);
		expect(b[1]!.offset).not.toBe(a[0]!.offset);
		expect(chunkHash('T', 'x')).not.toBe(chunkHash('T', 'y'));
		expect(chunkHash('T', 'x')).not.toBe(chunkHash('U', 'x'));
		expect(chunkHash('T', 'x')).toMatch(/^[0-9a-f]{32}$/);
	});
});

describe('chunkMessage', () => {
	it('makes one chunk of a message, with its fields', () => {
		const chunks = chunkMessage('c1', { itemId: 'm1', text: '  Lunch at noon  ', author: 'alice', time: 5, textHlc: 'h', parent: 'p' });
		expect(chunks).toEqual([
			{ id: 'msg:c1#m1', docId: 'c1', kind: 'message', title: '', text: 'Lunch at noon', offset: 2, hash: chunkHash('', 'Lunch at noon'), itemId: 'm1', author: 'alice', time: 5, textHlc: 'h', parent: 'p' }
		]);
	});

	it('cuts a long message into parts with ids ~1, ~2…', () => {
		const text = Array.from({ length: 200 }, (_, i) => `Word${i} is here.`).join(' ');
		const chunks = chunkMessage('c1', { itemId: 'm1', text });
		expect(chunks.length).toBeGreaterThan(1);
		expect(chunks.map((c) => c.id)).toEqual(chunks.map((_, k) => (k === 0 ? 'msg:c1#m1' : `msg:c1#m1~${k}`)));
		expectOffsets(text, chunks);
	});

	it('makes nothing of an empty message', () => {
		expect(chunkMessage('c1', { itemId: 'm1', text: ' \n ' })).toEqual([]);
	});
});

/** The grounding prompt's numbered sources, and the citation markers found in answers. */
import { describe, expect, it } from 'vitest';
import { citations, citedChunks, knowledgeMessages, type PromptSource } from '../../../src/lib/knowledge/groundedPrompt';

interface Source extends PromptSource {
	id: string;
}

const sources: Source[] = [
	{ id: 'note:n1#1', kind: 'note', title: 'Port › Fuel', text: 'Diesel is delivered\non Mondays.' },
	{ id: 'msg:c1#m1', kind: 'message', title: '', text: 'The supply boat is late this week.' },
	{ id: 'note:zh#0', kind: 'note', title: '港口须知 › 开放时间', text: '港口每天早上六点开放。' }
];

describe('knowledgeMessages', () => {
	it('lists numbered sources, one a line, with the instructions to cite them', () => {
		const [system, ...rest] = knowledgeMessages('When does diesel come?', sources);
		expect(rest).toEqual([]);
		expect(system?.role).toBe('system');
		const content = system!.content;
		expect(content).toContain('[1] Port › Fuel — Diesel is delivered on Mondays.');
		expect(content).toContain('[2] message — The supply boat is late this week.');
		expect(content).toContain('[3] 港口须知 › 开放时间 — 港口每天早上六点开放。');
		expect(content).toMatch(/cite it by its number in square brackets, like \[1\]/);
		expect(content).toMatch(/not instructions/);
		expect(content).not.toMatch(/请用中文/);
	});

	it('adds a Chinese instruction for a Chinese question, and names sources with a label', () => {
		const [system] = knowledgeMessages('港口几点开放？', sources, { label: (s) => (s.kind === 'message' ? '#general' : s.title) });
		expect(system!.content).toContain('请用中文回答');
		expect(system!.content).toContain('[2] #general — The supply boat');
	});

	it('shares the character budget among sources', () => {
		const long = Array.from({ length: 3 }, (_, i) => ({ kind: 'note' as const, title: `T${i}`, text: 'word '.repeat(2000) }));
		const [system] = knowledgeMessages('q', long, { maxChars: 900 });
		for (const line of system!.content.split('\n').filter((l) => l.startsWith('['))) expect(line.length).toBeLessThan(340);
		expect(system!.content).toContain('…');
	});

	it('tells the model to say so when nothing matched', () => {
		const [system] = knowledgeMessages('What is the launch code?', []);
		expect(system!.content).toMatch(/none of those the user may read match/);
		expect(knowledgeMessages('密码是什么', [])[0]!.content).toContain('请用中文回答');
	});
});

describe('citations', () => {
	it('finds [n] markers with the chunk each names, and where they are', () => {
		const answer = 'Diesel comes on Mondays [1], but the boat is late [2].';
		const found = citations(answer, sources);
		expect(found).toEqual([
			{ start: answer.indexOf('[1]'), end: answer.indexOf('[1]') + 3, sources: [{ n: 1, chunk: sources[0] }] },
			{ start: answer.indexOf('[2]'), end: answer.indexOf('[2]') + 3, sources: [{ n: 2, chunk: sources[1] }] }
		]);
	});

	it('reads the forms models write: lists, ranges, footnotes, adjacent and full-width markers', () => {
		const numbers = (answer: string) => citations(answer, sources).map((m) => m.sources.map((s) => s.n));
		expect(numbers('See [1, 3] and [2][3].')).toEqual([[1, 3], [2], [3]]);
		expect(numbers('All of them [1-3].')).toEqual([[1, 2, 3]]);
		expect(numbers('Footnote style[^2].')).toEqual([[2]]);
		expect(numbers('港口六点开放【3】，柴油周一送达［１］。')).toEqual([[3], [1]]);
		expect(numbers('多个来源[1，2、3]')).toEqual([[1, 2, 3]]);
	});

	it('ignores numbers with no source, Markdown links, and plain brackets', () => {
		expect(citations('Nothing here [4] or [0] or [99999999].', sources)).toEqual([]);
		expect(citations('A link [1](https://example.org) is not a citation.', sources)).toEqual([]);
		expect(citations('An array [a, b] and [ ] and [1.5].', sources)).toEqual([]);
		// A range reaching past the sources keeps those that exist.
		expect(citations('[2-9]', sources)[0]!.sources.map((s) => s.n)).toEqual([2, 3]);
	});

	it('lists the cited chunks once each, in the order first cited', () => {
		expect(citedChunks('B [2]. A [1][2]. B again [2].', sources).map((s) => s.id)).toEqual(['msg:c1#m1', 'note:n1#1']);
		expect(citedChunks('No citations.', sources)).toEqual([]);
	});
});

/**
 * Found in review, in the note chunker (src/lib/knowledge/chunker.ts), which runs on the page's thread
 * whenever an AI chat asks with "Use workspace knowledge" (WorkspaceKnowledge.refresh →
 * KnowledgeIndexer.noteChange → chunkNote). Any member writes any note's body and title
 * (notePolicy.ts: no size limit on either; NoteDoc's setter cuts the title only locally).
 */
import { describe, expect, it } from 'vitest';
import { chunkNote } from '../../../../src/lib/knowledge/chunker.js';
import { knowledgeMessages } from '../../../../src/lib/knowledge/groundedPrompt.js';
import { KnowledgeIndex } from '../../../../src/lib/knowledge/KnowledgeIndex.js';
import { MemoryVectorStore } from '../../../../src/lib/knowledge/VectorStore.js';

describe('note chunker against a hostile note', () => {
	it('chunks a note with one long heading-like line in linear time (HEADING regex backtracks quadratically)', () => {
		// "# a" then 60,000 spaces then "b": a 60 KB note. The lazy (.*?) before (?:[ \t]+#+)?[ \t]*$
		// rescans the run of spaces from every position.
		const body = `# a${' '.repeat(60_000)}b\n\nreal text`;
		const t = performance.now();
		chunkNote('n', 'Note', body);
		const ms = performance.now() - t;
		expect(ms).toBeLessThan(1000);
	});

	it('keeps a note’s chunks bounded when its title is huge (the title is copied into, and shrinks, every chunk)', () => {
		const title = 'T'.repeat(100_000);
		const body = 'word '.repeat(4_000); // 20 KB, about 5,000 tokens: ~17 chunks of 300 tokens
		const chunks = chunkNote('n', title, body);
		const stored = chunks.reduce((sum, c) => sum + c.title.length + c.text.length, 0);
		// Before the fix: the budget falls to 16 tokens, so 20 KB become ~310 chunks, each carrying the
		// 100 KB title (31 MB stored in IndexedDB, hashed and tokenised once per chunk).
		expect(chunks.length).toBeLessThanOrEqual(40);
		expect(stored).toBeLessThan(1_000_000);
	});

	it('bounds the chunks one note can add (1 MB of tiny sections → hundreds of thousands of chunks)', async () => {
		const body = '#\nx\n'.repeat(250_000); // 1 MB note
		const t = performance.now();
		const chunks = chunkNote('n', 'Spam', body);
		const ms = performance.now() - t;
		// Each chunk is a row in IndexedDB, a MiniSearch document and an embedder call.
		expect({ chunks: chunks.length, ms: Math.round(ms) }).toEqual({ chunks: expect.toSatisfy((n: number) => n <= 5_000), ms: expect.any(Number) });
	});
});

describe('grounded prompt against a hostile note title', () => {
	it('keeps the prompt within its character budget whatever a note’s title is', async () => {
		const index = await KnowledgeIndex.open({ store: new MemoryVectorStore() });
		const title = `Fuel ${'x'.repeat(200_000)}`;
		await index.apply({ replace: [{ docId: 'n', chunks: chunkNote('n', title, 'Fuel is loaded on Mondays.') }] });
		const hits = await index.query('fuel', { mayRead: () => true, mode: 'fulltext', limit: 6 });
		expect(hits.length).toBeGreaterThan(0);
		// As WorkspaceState.knowledgeFor labels a note hit: by its title (uncut).
		const [message] = knowledgeMessages('fuel', hits, { label: (h) => h.title });
		// The sources' text is held to DEFAULT_SOURCE_CHARS (6000); the label is not.
		expect(message!.content.length).toBeLessThan(12_000);
		await index.close();
	});
});

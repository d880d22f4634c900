/**
 * The retrieval index with the deterministic stand-in embedder: read rights, incremental
 * embedding (counted), the Chinese full-text side, fusion, and failures.
 */
import { describe, expect, it } from 'vitest';
import { chunkMessage, chunkNote, type Chunk } from '../../../src/lib/knowledge/chunker';
import { EmbedderError } from '../../../src/lib/knowledge/Embedder';
import { KnowledgeIndex, type KnowledgeChange } from '../../../src/lib/knowledge/KnowledgeIndex';
import { MemoryVectorStore } from '../../../src/lib/knowledge/VectorStore';
import { HashEmbedder } from './hashEmbedder';

const everyone = { mayRead: () => true };

const HARBOUR = `# Opening hours
The harbour opens at six in the morning and closes at ten at night.

# Fuel
Diesel is delivered on Mondays by the supply boat.

# Crew
Alice leads the morning watch; Bob cooks.`;

const note = (docId: string, title: string, body: string): KnowledgeChange => ({ replace: [{ docId, chunks: chunkNote(docId, title, body) }] });
const message = (docId: string, itemId: string, text: string): Chunk[] => chunkMessage(docId, { itemId, text, author: 'alice', time: 1 });

async function openIndex(embedder: HashEmbedder | null = new HashEmbedder(), store = new MemoryVectorStore()) {
	const index = await KnowledgeIndex.open({ store, ...(embedder ? { embedder } : {}), batchSize: 4 });
	return { index, store, embedder };
}

describe('KnowledgeIndex', () => {
	it('ranks identical text first, by vectors and by full text', async () => {
		const { index } = await openIndex();
		await index.update(note('n1', 'Port', HARBOUR));
		await index.update({ put: [...message('c1', 'm1', 'Lunch is noodles today'), ...message('c1', 'm2', 'The radar needs a new fuse')] });
		const query = 'Diesel is delivered on Mondays by the supply boat.';
		for (const mode of ['hybrid', 'vector', 'fulltext'] as const) {
			const [hit] = await index.query(query, { ...everyone, mode });
			expect(hit, mode).toMatchObject({ id: 'note:n1#1', docId: 'n1', kind: 'note', title: 'Port › Fuel', text: query });
			expect(HARBOUR.slice(hit!.offset).startsWith(query)).toBe(true);
		}
		const [hybrid] = await index.query(query, everyone);
		expect(hybrid).toMatchObject({ fullTextRank: 1, vectorRank: 1 });
		// The chunk is embedded with its heading path, the question without.
		expect(hybrid!.similarity).toBeGreaterThan(0.85);
		const [bare] = await index.query('The radar needs a new fuse', { ...everyone, mode: 'vector' });
		expect(bare).toMatchObject({ id: 'msg:c1#m2', vectorRank: 1 });
		expect(bare!.similarity).toBeCloseTo(1, 5);
	});

	it('never returns a chunk of a document the asker may not read, and still fills the limit', async () => {
		const { index } = await openIndex();
		const secret = 'The launch code for the private project is swordfish';
		await index.update({ put: [...message('private', 'p1', secret), ...message('private', 'p2', `${secret} again`)] });
		for (let i = 0; i < 6; i++) await index.update({ put: message('public', `m${i}`, `Public note ${i} about the project launch`) });
		const asked: string[] = [];
		const mayRead = (docId: string) => {
			asked.push(docId);
			return docId !== 'private';
		};
		for (const mode of ['hybrid', 'vector', 'fulltext'] as const) {
			const hits = await index.query(secret, { mayRead, limit: 5, mode });
			expect(hits, mode).toHaveLength(5);
			expect(hits.every((h) => h.docId === 'public')).toBe(true);
		}
		// Without the filter the private chunks are the best matches.
		expect((await index.query(secret, { ...everyone, limit: 2 })).map((h) => h.docId)).toEqual(['private', 'private']);
		expect(new Set(asked)).toEqual(new Set(['private', 'public']));
		// A predicate is asked once per document per query, not once per chunk.
		asked.length = 0;
		await index.query(secret, { mayRead, mode: 'hybrid' });
		expect(asked.filter((d) => d === 'public')).toHaveLength(1);
	});

	it('embeds only new and changed chunks, in batches', async () => {
		const { index, embedder } = await openIndex();
		await index.update({ replace: [...note('n1', 'Port', HARBOUR).replace!, ...note('n2', 'Galley', '# Menu\nNoodles on Monday, fish on Friday.').replace!] });
		expect(embedder!.texts).toHaveLength(4);
		expect(embedder!.calls).toBe(1); // 4 texts, batches of 4

		// The same notes again: nothing to embed.
		embedder!.texts.length = 0;
		await index.update(note('n1', 'Port', HARBOUR));
		expect(embedder!.texts).toEqual([]);

		// One section of one note changes: that chunk alone.
		const changed = HARBOUR.replace('on Mondays', 'on Tuesdays');
		const result = await index.update(note('n1', 'Port', changed));
		// Written: the changed chunk and the next one, whose offset moved (its text did not).
		expect(result).toMatchObject({ put: 2, removed: 0 });
		expect(embedder!.texts).toEqual(['Port › Fuel\nDiesel is delivered on Tuesdays by the supply boat.']);
		expect((await index.query('Tuesdays', everyone))[0]?.id).toBe('note:n1#1');

		// A section inserted at the top renumbers the others: their vectors move with them.
		embedder!.texts.length = 0;
		const inserted = await index.update(note('n1', 'Port', `# Weather\nWindy all week.\n\n${changed}`));
		expect(inserted).toMatchObject({ put: 4, reused: 3 });
		expect(embedder!.texts).toEqual(['Port › Weather\nWindy all week.']);
		expect(index.chunkIds('n1').sort()).toEqual(['note:n1#0', 'note:n1#1', 'note:n1#2', 'note:n1#3']);

		// A removed section and a removed note go, with nothing embedded.
		embedder!.texts.length = 0;
		await index.update(note('n1', 'Port', '# Weather\nWindy all week.'));
		await index.update({ removeDocs: ['n2'] });
		expect(embedder!.texts).toEqual([]);
		expect(index.size).toBe(1);
		expect((await index.query('Noodles', everyone)).filter((h) => h.docId === 'n2')).toEqual([]);
		expect(index.chunkIds('n2')).toEqual([]);
	});

	it('reports embedding progress', async () => {
		const progress: { done: number; total: number }[] = [];
		const embedder = new HashEmbedder();
		const index = await KnowledgeIndex.open({ store: new MemoryVectorStore(), embedder, batchSize: 2, onProgress: (p) => progress.push(p) });
		await index.update({ put: [1, 2, 3, 4, 5].flatMap((i) => message('c', `m${i}`, `message ${i}`)) });
		expect(progress).toEqual([
			{ done: 2, total: 5 },
			{ done: 4, total: 5 },
			{ done: 5, total: 5 }
		]);
	});

	it('finds a Chinese note from a Chinese question through the full-text side', async () => {
		const { index } = await openIndex();
		await index.update(note('zh', '港口须知', '# 开放时间\n港口每天早上六点开放，晚上十点关闭。\n\n# 燃料\n柴油每周一由补给船送达。'));
		await index.update(note('n1', 'Port', HARBOUR));
		const hits = await index.query('港口几点开放？', { ...everyone, mode: 'fulltext' });
		expect(hits[0]).toMatchObject({ docId: 'zh', title: '港口须知 › 开放时间', fullTextRank: 1 });
		expect(hits.every((h) => h.docId === 'zh')).toBe(true);
		const [hybrid] = await index.query('柴油什么时候送达', everyone);
		expect(hybrid).toMatchObject({ docId: 'zh', title: '港口须知 › 燃料', fullTextRank: 1 });
	});

	it('works without an embedder, and embeds what waits once one is set', async () => {
		const { index } = await openIndex(null);
		await index.update(note('n1', 'Port', HARBOUR));
		expect(index.pendingCount).toBe(0);
		const [hit] = await index.query('diesel delivery', everyone);
		expect(hit).toMatchObject({ id: 'note:n1#1', fullTextRank: 1 });
		expect(hit?.vectorRank).toBeUndefined();

		const embedder = new HashEmbedder();
		await index.setEmbedder(embedder);
		expect(index.pendingCount).toBe(3);
		await index.embedPending();
		expect(embedder.texts).toHaveLength(3);
		expect((await index.query('diesel', { ...everyone, mode: 'vector' }))[0]?.id).toBe('note:n1#1');

		// Another model's space: its vectors are computed apart, the first space's kept.
		const other = new HashEmbedder(32, 'other');
		await index.setEmbedder(other);
		await index.embedPending();
		expect(other.texts).toHaveLength(3);
		await index.setEmbedder(embedder);
		expect(index.pendingCount).toBe(0);
	});

	it('keeps chunks searchable when the embedder fails, and embeds them on a later update', async () => {
		const errors: Error[] = [];
		const embedder = new HashEmbedder();
		const index = await KnowledgeIndex.open({ store: new MemoryVectorStore(), embedder, onError: (e) => errors.push(e) });
		await index.update({ put: message('c', 'm0', 'an earlier message') });
		embedder.failWith = new EmbedderError('model crashed');
		await expect(index.update(note('n1', 'Port', HARBOUR))).rejects.toThrow('model crashed');
		expect(index.pendingCount).toBe(3);
		const hits = await index.query('diesel', everyone);
		expect(hits[0]?.id).toBe('note:n1#1'); // full text answered alone
		expect(errors.map((e) => e.message)).toEqual(['model crashed']);

		embedder.failWith = undefined;
		await index.update({ put: message('c', 'm1', 'hello') });
		expect(index.pendingCount).toBe(0);
	});

	it('drops a vector computed for text that changed meanwhile, and embeds the new text', async () => {
		const embedder = new HashEmbedder();
		const { index } = await openIndex(embedder);
		let open!: () => void;
		embedder.gate = new Promise((resolve) => (open = resolve));
		const first = index.update({ put: message('c', 'm1', 'old text') });
		await new Promise((r) => setTimeout(r, 10));
		await index.apply({ put: message('c', 'm1', 'new text') });
		embedder.gate = undefined;
		open();
		await first;
		expect(embedder.texts).toEqual(['old text', 'new text']);
		expect(index.pendingCount).toBe(0);
		const [hit] = await index.query('new text', { ...everyone, mode: 'vector' });
		expect(hit?.similarity).toBeCloseTo(1, 5);
	});

	it('stops waiting on abort, and refuses updates once closed', async () => {
		const embedder = new HashEmbedder();
		const { index } = await openIndex(embedder);
		embedder.gate = new Promise(() => undefined);
		const controller = new AbortController();
		const waiting = index.update({ put: message('c', 'm1', 'text') }, { signal: controller.signal });
		controller.abort();
		await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
		expect(index.size).toBe(1); // the change itself was applied
		await index.close();
		await expect(index.apply({ put: message('c', 'm2', 'more') })).rejects.toMatchObject({ name: 'AbortError' });
	});

	it('returns nothing for an empty question or a zero limit', async () => {
		const { index } = await openIndex();
		await index.update(note('n1', 'Port', HARBOUR));
		expect(await index.query('   ', everyone)).toEqual([]);
		expect(await index.query('diesel', { ...everyone, limit: 0 })).toEqual([]);
		expect(await index.query('!!!', { ...everyone, mode: 'fulltext' })).toEqual([]);
	});
});

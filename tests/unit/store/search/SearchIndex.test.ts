/**
 * The search index over Dexie (fake-indexeddb): add, update, remove, ranking, highlight
 * positions, loading from the snapshot, and rebuilding when the snapshot is stale or damaged.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { newId } from '../../../../src/lib/doc/ids';
import { OutpostDb } from '../../../../src/lib/store/db';
import { SearchIndex } from '../../../../src/lib/store/search/SearchIndex';
import { SearchKind, type SearchEntry } from '../../../../src/lib/store/search/rows';

const open: { db: OutpostDb; index?: SearchIndex }[] = [];

function newDb(name = `search-${newId()}`): OutpostDb {
	const db = new OutpostDb(name);
	open.push({ db });
	return db;
}

async function openIndex(db: OutpostDb, workspaceId: string, snapshotDelayMs = 10_000): Promise<SearchIndex> {
	const index = await SearchIndex.open({ db, workspaceId, snapshotDelayMs });
	open.push({ db, index });
	return index;
}

afterEach(async () => {
	for (const o of open.splice(0)) {
		await o.index?.close();
		o.db.close();
	}
});

const channel = 'c'.repeat(26);
function message(itemId: string, text: string, time = 1, parent?: string): SearchEntry {
	return { docId: channel, itemId, kind: SearchKind.message, text, time, ...(parent ? { parent } : {}) };
}

const marked = (text: string, ranges: readonly (readonly [number, number])[]) => ranges.map(([s, e]) => text.slice(s, e));

describe('SearchIndex', () => {
	it('finds English words and Chinese phrases, with highlight ranges', async () => {
		const index = await openIndex(newDb(), newId());
		await index.apply({
			put: [
				message('m1', 'The harbour opens at dawn'),
				message('m2', '我们需要讨论数据主权的问题'),
				message('m3', '数据安全和主权不是一回事'),
				message('m4', 'Nothing to see')
			]
		});
		const en = await index.search('harbour');
		expect(en.map((h) => h.itemId)).toEqual(['m1']);
		expect(marked(en[0].text, en[0].ranges)).toEqual(['harbour']);
		expect(en[0].offset).toBe(4);

		const zh = await index.search('数据主权');
		// m3 has 数据 and 主权 but not the phrase: its bigram 据主 is missing
		expect(zh.map((h) => h.itemId)).toEqual(['m2']);
		expect(marked(zh[0].text, zh[0].ranges)).toEqual(['数据主权']);
		expect(zh[0].offset).toBe('我们需要讨论'.length);
	});

	it('matches the last word as a prefix, and a single CJK character anywhere in a run', async () => {
		const index = await openIndex(newDb(), newId());
		await index.apply({ put: [message('m1', 'Data sovereignty matters'), message('m2', '数据主权')] });
		expect((await index.search('sover')).map((h) => h.itemId)).toEqual(['m1']);
		expect(marked('Data sovereignty matters', (await index.search('sover'))[0].ranges)).toEqual(['sovereignty']);
		expect((await index.search('权')).map((h) => h.itemId)).toEqual(['m2']);
		expect((await index.search('据')).map((h) => h.itemId)).toEqual(['m2']);
		expect(await index.search('')).toEqual([]);
		expect(await index.search('?! 🎉')).toEqual([]);
	});

	it('requires a CJK phrase to occur whole, not just its bigrams apart', async () => {
		const index = await openIndex(newDb(), newId());
		// 数据主持 has 数据 and 据主; 主权 comes later: every bigram of 数据主权, but not the phrase.
		await index.apply({ put: [message('apart', '数据主持人谈主权'), message('whole', '关于数据主权')] });
		expect((await index.search('数据主权')).map((h) => h.itemId)).toEqual(['whole']);
		expect((await index.search('数据 主权')).map((h) => h.itemId).sort()).toEqual(['apart', 'whole']);
	});

	it('expands the last word as a prefix only when whole words give too few results', async () => {
		const index = await openIndex(newDb(), newId());
		await index.apply({ put: [message('exact', 'one replica'), message('longer', 'two replicas')] });
		expect((await index.search('replica', 1)).map((h) => h.itemId)).toEqual(['exact']);
		const both = await index.search('replica');
		expect(both.map((h) => h.itemId)).toEqual(['exact', 'longer']);
		expect(marked('two replicas', both[1].ranges)).toEqual(['replicas']);
	});

	it('ranks closer matches first, ties newest first', async () => {
		const index = await openIndex(newDb(), newId());
		await index.apply({
			put: [
				message('long', 'radio ' + 'filler words about many other things '.repeat(10), 5),
				message('short', 'radio check', 1),
				message('old', 'the radio check', 1),
				message('new', 'the radio check', 9)
			]
		});
		const ids = (await index.search('radio')).map((h) => h.itemId);
		expect(ids[0]).toBe('short');
		expect(ids.indexOf('new')).toBeLessThan(ids.indexOf('old'));
		expect(ids[ids.length - 1]).toBe('long');
	});

	it('finds notes by title and body and reports where in the body a note matched', async () => {
		const index = await openIndex(newDb(), newId());
		const body = '# Plan\n\nThe engine room needs a new pump.';
		await index.apply({
			put: [
				{ docId: 'n'.repeat(26), itemId: 'n'.repeat(26), kind: SearchKind.note, title: 'Pump maintenance', text: 'Checklist', time: 1 },
				{ docId: 'o'.repeat(26), itemId: 'o'.repeat(26), kind: SearchKind.note, title: 'Plan', text: body, time: 1 }
			]
		});
		const hits = await index.search('pump');
		expect(hits.map((h) => h.title)).toEqual(['Pump maintenance', 'Plan']);
		expect(marked('Pump maintenance', hits[0].titleRanges)).toEqual(['Pump']);
		expect(hits[0].offset).toBe(0);
		expect(hits[1].offset).toBe(body.indexOf('pump'));
	});

	it('updates and removes entries', async () => {
		const index = await openIndex(newDb(), newId());
		await index.apply({ put: [message('m1', 'first draft'), message('m2', 'draft two')] });
		await index.apply({ put: [message('m1', 'final version')] });
		expect((await index.search('draft')).map((h) => h.itemId)).toEqual(['m2']);
		expect((await index.search('final')).map((h) => h.itemId)).toEqual(['m1']);
		await index.apply({ remove: [{ docId: channel, itemId: 'm2' }] });
		expect(await index.search('draft')).toEqual([]);
		expect(index.size).toBe(1);
	});

	it('keeps workspaces apart', async () => {
		const db = newDb();
		const a = await openIndex(db, newId());
		const b = await openIndex(db, newId());
		await a.apply({ put: [message('m1', 'only in alpha')] });
		expect(await b.search('alpha')).toEqual([]);
		expect((await a.search('alpha')).length).toBe(1);
	});

	it('loads from its snapshot after a close, without rebuilding', async () => {
		const name = `search-${newId()}`;
		const ws = newId();
		const first = await openIndex(newDb(name), ws);
		expect(first.rebuilt).toBe(true);
		await first.apply({ put: [message('m1', 'persisted harbour notes'), message('m2', '数据主权')] });
		await first.close();
		const again = await openIndex(newDb(name), ws);
		expect(again.rebuilt).toBe(false);
		expect((await again.search('harbour')).map((h) => h.itemId)).toEqual(['m1']);
		expect((await again.search('数据主权')).map((h) => h.itemId)).toEqual(['m2']);
	});

	it('rebuilds from the stored entries when the snapshot is older than them', async () => {
		const name = `search-${newId()}`;
		const ws = newId();
		const first = await openIndex(newDb(name), ws);
		await first.apply({ put: [message('m1', 'saved before')] });
		await first.saveSnapshot();
		// This change never makes it into a snapshot (the tab closes before the delay).
		await first.apply({ put: [message('m2', 'written after the snapshot')] });
		const progress: number[] = [];
		const db = new OutpostDb(name);
		const again = await SearchIndex.open({ db, workspaceId: ws, onProgress: (done) => progress.push(done) });
		open.push({ db, index: again });
		expect(again.rebuilt).toBe(true);
		expect(progress[progress.length - 1]).toBe(2);
		expect((await again.search('written')).map((h) => h.itemId)).toEqual(['m2']);
		expect((await again.search('saved')).map((h) => h.itemId)).toEqual(['m1']);
	});

	it('rebuilds without crashing when the stored snapshot is malformed, skipping malformed entries', async () => {
		const name = `search-${newId()}`;
		const ws = newId();
		const db = newDb(name);
		const first = await openIndex(db, ws);
		await first.apply({ put: [message('m1', 'survives corruption')] });
		await first.close();
		const snap = await db.searchSnapshots.get(ws);
		expect(snap).toBeDefined();
		await db.searchSnapshots.put({ ...snap!, json: '{"documentCount": 1, "index": [[' });
		await db.searchEntries.put({ id: `${ws}|x|y`, workspaceId: ws, text: 42 } as never);
		const again = await openIndex(newDb(name), ws);
		expect(again.rebuilt).toBe(true);
		expect((await again.search('corruption')).map((h) => h.itemId)).toEqual(['m1']);
		expect(again.size).toBe(1);
		// the rebuilt index was saved: the next open loads it
		await again.close();
		expect((await openIndex(newDb(name), ws)).rebuilt).toBe(false);
	});

	it('starts empty and forgets stale entries when its state row is missing', async () => {
		const name = `search-${newId()}`;
		const ws = newId();
		const db = newDb(name);
		const first = await openIndex(db, ws);
		await first.apply({ put: [message('m1', 'orphan')], doc: { docId: channel, sv: new Uint8Array([0]) } });
		await first.close();
		await db.searchState.delete(ws);
		const again = await openIndex(newDb(name), ws);
		expect(again.size).toBe(0);
		expect(await again.search('orphan')).toEqual([]);
		expect(await again.docState(channel)).toBeUndefined();
	});
});

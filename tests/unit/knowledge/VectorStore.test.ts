/** The VectorStore contract, in memory and over Dexie (fake-indexeddb), and an index reopened over each. */
import 'fake-indexeddb/auto';
import Dexie from 'dexie';
import { describe, expect, it } from 'vitest';
import { newId } from '../../../src/lib/doc/ids';
import { chunkMessage, chunkNote } from '../../../src/lib/knowledge/chunker';
import { IdbVectorStore } from '../../../src/lib/knowledge/IdbVectorStore';
import { KnowledgeIndex } from '../../../src/lib/knowledge/KnowledgeIndex';
import { VectorFormat } from '../../../src/lib/knowledge/vectorCodec';
import { MemoryVectorStore, type VectorStore } from '../../../src/lib/knowledge/VectorStore';
import { OutpostDb } from '../../../src/lib/store/db';
import { HashEmbedder } from './hashEmbedder';

interface Opened {
	store: VectorStore;
	/** The same data through a new store object (a new session). */
	reopen: () => VectorStore;
}

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

function contract(name: string, open: () => Opened, tolerance: number): void {
	describe(name, () => {
		const embedder = new HashEmbedder();
		const [a, b] = chunkNote('n1', 'Guide', '# A\nalpha text\n\n# B\nbeta text');
		const [m] = chunkMessage('c1', { itemId: 'm1', text: 'a message', author: 'alice', time: 3, textHlc: 'h' });

		it('keeps chunks and per-embedder vectors, and reads them back in a new session', async () => {
			const { store, reopen } = open();
			await store.write({ put: [a!, b!, m!] });
			await store.write({ vectors: { embedderId: 'e1', put: [{ id: a!.id, hash: a!.hash, vector: embedder.vector('alpha') }] } });
			await store.write({ vectors: { embedderId: 'e2', put: [{ id: a!.id, hash: a!.hash, vector: embedder.vector('other') }] } });
			const again = reopen();
			expect((await again.chunks()).sort((x, y) => x.id.localeCompare(y.id))).toEqual([m, a, b].sort((x, y) => x!.id.localeCompare(y!.id)));
			const [v] = await again.vectors('e1');
			expect(v).toMatchObject({ id: a!.id, hash: a!.hash });
			expect(dot(v!.vector, embedder.vector('alpha'))).toBeGreaterThan(1 - tolerance);
			expect(await again.vectors('e3')).toEqual([]);
		});

		it('removing a chunk removes its vectors in every space', async () => {
			const { store } = open();
			await store.write({ put: [a!, b!] });
			for (const embedderId of ['e1', 'e2'])
				await store.write({ vectors: { embedderId, put: [a!, b!].map((c) => ({ id: c.id, hash: c.hash, vector: embedder.vector(c.text) })) } });
			await store.write({ remove: [a!.id] });
			expect((await store.chunks()).map((c) => c.id)).toEqual([b!.id]);
			for (const embedderId of ['e1', 'e2']) expect((await store.vectors(embedderId)).map((v) => v.id)).toEqual([b!.id]);
		});

		it('an index reopened over it embeds nothing again', async () => {
			const { store, reopen } = open();
			const first = await KnowledgeIndex.open({ store, embedder });
			await first.update({ replace: [{ docId: 'n1', chunks: [a!, b!] }], put: [m!] });
			const before = embedder.texts.length;
			const second = await KnowledgeIndex.open({ store: reopen(), embedder });
			expect(second.size).toBe(3);
			expect(second.pendingCount).toBe(0);
			await second.embedPending();
			expect(embedder.texts.length).toBe(before);
			const [hit] = await second.query('beta', { mayRead: () => true });
			expect(hit?.id).toBe(b!.id);
		});
	});
}

contract(
	'MemoryVectorStore',
	() => {
		const store = new MemoryVectorStore();
		return { store, reopen: () => store };
	},
	1e-6
);

for (const format of [VectorFormat.int8, VectorFormat.float32]) {
	contract(
		`IdbVectorStore (${format === VectorFormat.int8 ? 'int8' : 'float32'})`,
		() => {
			const name = `knowledge-${newId()}`;
			const workspaceId = newId();
			return { store: new IdbVectorStore(new OutpostDb(name), workspaceId, format), reopen: () => new IdbVectorStore(new OutpostDb(name), workspaceId, format) };
		},
		format === VectorFormat.int8 ? 1e-3 : 1e-6
	);
}

describe('IdbVectorStore', () => {
	it('keeps workspaces apart and leaves damaged rows out', async () => {
		const db = new OutpostDb(`knowledge-${newId()}`);
		const one = new IdbVectorStore(db, 'w1');
		const two = new IdbVectorStore(db, 'w2');
		const [c] = chunkNote('n', '', 'text');
		await one.write({ put: [c!], vectors: { embedderId: 'e', put: [{ id: c!.id, hash: c!.hash, vector: Float32Array.of(1, 0) }] } });
		expect(await two.chunks()).toEqual([]);
		expect(await two.vectors('e')).toEqual([]);
		await db.knowledgeVectors.update(['w1', 'e', c!.id], { bytes: new Uint8Array([7, 7]) });
		await db.knowledgeChunks.update(['w1', c!.id], { text: 5 as unknown as string });
		expect(await one.vectors('e')).toEqual([]);
		expect(await one.chunks()).toEqual([]);
		db.close();
	});
});

describe('OutpostDb version 5', () => {
	it('adds the knowledge tables to a version 4 database, keeping its data', async () => {
		const name = `upgrade-${newId()}`;
		const old = new Dexie(name);
		old.version(4).stores({
			identity: 'id',
			settings: 'key',
			workspaces: 'id, lastOpenedAt',
			channelState: '[workspaceId+channelId], workspaceId',
			lateArrivals: '[channelId+msgId], channelId',
			digests: 'docId',
			searchEntries: 'id, workspaceId, [workspaceId+docId]',
			searchDocs: 'id, workspaceId',
			searchState: 'workspaceId',
			searchSnapshots: 'workspaceId',
			notifyLevels: '[workspaceId+channelId], workspaceId',
			blobManifests: '[workspaceId+id]',
			blobChunks: '[workspaceId+id+index], [workspaceId+id]'
		});
		await old.table('settings').put({ key: 'language', value: 'zh' });
		old.close();
		const db = new OutpostDb(name);
		expect(await db.settings.get('language')).toEqual({ key: 'language', value: 'zh' });
		const store = new IdbVectorStore(db, 'w');
		const [c] = chunkNote('n', '', 'text');
		await store.write({ put: [c!] });
		expect(await store.chunks()).toEqual([c]);
		expect(db.verno).toBe(5);
		db.close();
	});
});

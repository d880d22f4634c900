/**
 * The core's persistence policy over the in-memory storage adapter: what loads, what is
 * stored and when, damaged records set aside (kept, not lost), compaction after a burst.
 * The IndexedDB adapter (tests/unit/store/DocStore.test.ts) and the relay's files
 * (relay/archive/ArchiveDocs.test.ts) run the same policy.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { MemoryDocStorage } from '../../../src/lib/core/memoryStorage';
import { persistDoc } from '../../../src/lib/core/persistence';
import { PIECE_BYTES } from '../../../src/lib/mesh/updatePieces';

const ID = 'doc';

function stateOf(records: Uint8Array[]): Y.Doc {
	const doc = new Y.Doc();
	for (const record of records) Y.applyUpdate(doc, record);
	return doc;
}

describe('persistDoc', () => {
	it('stores every update and loads them again, without storing the load itself', async () => {
		const storage = new MemoryDocStorage();
		const doc = new Y.Doc();
		const persisted = persistDoc(doc, () => storage.open(ID));
		expect(await persisted.loaded).toEqual({ setAside: 0, droppedBytes: 0 });
		doc.getArray('a').push(['one']);
		await persisted.written();
		expect(storage.logs.get(ID)).toHaveLength(1);
		// one burst (no microtask between), one record
		doc.getArray('a').push(['two']);
		doc.getArray('a').push(['three']);
		expect(storage.logs.get(ID)).toHaveLength(1);
		await persisted.written();
		await persisted.stop();
		expect(storage.logs.get(ID)).toHaveLength(2);
		doc.getArray('a').push(['after stop']);
		expect(storage.logs.get(ID)).toHaveLength(2);

		const again = new Y.Doc();
		const reopened = persistDoc(again, () => storage.open(ID));
		await reopened.loaded;
		expect(again.getArray('a').toArray()).toEqual(['one', 'two', 'three']);
		expect(storage.logs.get(ID)).toHaveLength(2); // loading wrote nothing
		await reopened.stop();
	});

	it('stores edits made before loading finished', async () => {
		const storage = new MemoryDocStorage();
		const stored = new Y.Doc();
		stored.getMap('m').set('stored', 1);
		storage.logs.set(ID, [Y.encodeStateAsUpdate(stored)]);
		const doc = new Y.Doc();
		const persisted = persistDoc(doc, () => storage.open(ID));
		doc.getMap('m').set('early', 2); // before the log opened
		await persisted.loaded;
		await persisted.stop();
		expect(stateOf(storage.logs.get(ID)!).getMap('m').toJSON()).toEqual({ stored: 1, early: 2 });
	});

	it('sets damaged records aside, loads the rest and rewrites the log with what loaded', async () => {
		const storage = new MemoryDocStorage();
		const source = new Y.Doc();
		const updates: Uint8Array[] = [];
		source.on('update', (u: Uint8Array) => updates.push(u));
		source.getArray('a').push(['first']);
		source.getArray('a').push(['second']);
		const damaged = new Uint8Array([255, 255, 255, 255, 255, 255, 255, 255, 255, 255]);
		storage.logs.set(ID, [updates[0]!, damaged, updates[1]!, new Uint8Array(0)]);
		const doc = new Y.Doc();
		const persisted = persistDoc(doc, () => storage.open(ID));
		expect(await persisted.loaded).toEqual({ setAside: 2, droppedBytes: 0 });
		expect(doc.getArray('a').toArray()).toEqual(['first', 'second']);
		expect(storage.aside.get(ID)).toEqual([damaged, new Uint8Array(0)]);
		expect(storage.logs.get(ID)).toHaveLength(1);
		expect(stateOf(storage.logs.get(ID)!).getArray('a').toArray()).toEqual(['first', 'second']);
		await persisted.stop();
	});

	it('compacts a log that reached the limit once, after the delay', async () => {
		const storage = new MemoryDocStorage();
		const doc = new Y.Doc();
		const persisted = persistDoc(doc, () => storage.open(ID), { compactAfterRecords: 10, compactDelayMs: 20 });
		await persisted.loaded;
		for (let i = 0; i < 25; i++) {
			doc.getMap('m').set(`k${i % 5}`, i);
			await persisted.written(); // one burst each
		}
		expect(storage.logs.get(ID)).toHaveLength(25); // not yet: a burst of bursts compacts once, later
		await new Promise((resolve) => setTimeout(resolve, 60));
		expect(storage.logs.get(ID)).toHaveLength(1);
		expect(stateOf(storage.logs.get(ID)!).getMap('m').toJSON()).toEqual(doc.getMap('m').toJSON());
		await persisted.stop();
	});

	it('stores a synchronous burst that reached the limit as one record, the state, without waiting for a timer', async () => {
		const storage = new MemoryDocStorage();
		const doc = new Y.Doc();
		const persisted = persistDoc(doc, () => storage.open(ID), { compactAfterRecords: 10, compactDelayMs: 60_000 });
		await persisted.loaded;
		doc.getMap('m').set('before', 0);
		await persisted.written();
		for (let i = 0; i < 25; i++) doc.getText('t').insert(0, `${i} `);
		await persisted.written();
		expect(storage.logs.get(ID)).toHaveLength(1);
		expect(stateOf(storage.logs.get(ID)!).getText('t').toString()).toBe(doc.getText('t').toString());
		expect(stateOf(storage.logs.get(ID)!).getMap('m').toJSON()).toEqual({ before: 0 });
		// a short burst after it is appended, merged
		doc.getText('t').insert(0, 'a');
		doc.getText('t').insert(0, 'b');
		await persisted.written();
		expect(storage.logs.get(ID)).toHaveLength(2);
		expect(stateOf(storage.logs.get(ID)!).getText('t').toString()).toBe(doc.getText('t').toString());
		await persisted.stop();
	});

	it('stores the pending burst when stopped', async () => {
		const storage = new MemoryDocStorage();
		const doc = new Y.Doc();
		const persisted = persistDoc(doc, () => storage.open(ID));
		await persisted.loaded;
		doc.getMap('m').set('last', 1);
		await persisted.stop();
		expect(stateOf(storage.logs.get(ID)!).getMap('m').toJSON()).toEqual({ last: 1 });
	});

	it('rejects written, and reports once, when the write of the burst fails', async () => {
		for (const burst of [2, 20]) {
			const storage = new MemoryDocStorage();
			const fail = async () => {
				throw new Error('disk full');
			};
			const open = async () => ({ ...(await storage.open(ID)), append: fail, compact: fail, count: 0 });
			const errors: Error[] = [];
			const doc = new Y.Doc();
			const persisted = persistDoc(doc, open, { compactAfterRecords: 10, onError: (e) => errors.push(e) });
			await persisted.loaded;
			for (let i = 0; i < burst; i++) doc.getMap('m').set(`k${i}`, i);
			await expect(persisted.written()).rejects.toThrow('disk full');
			await persisted.stop();
			expect(errors.map((e) => e.message)).toEqual(['disk full']);
		}
	});

	it('rejects loaded when the storage cannot be opened', async () => {
		const persisted = persistDoc(new Y.Doc(), () => Promise.reject(new Error('disk gone')));
		await expect(persisted.loaded).rejects.toThrow('disk gone');
		await persisted.stop();
	});

	describe('a large document (records over PIECE_BYTES)', () => {
		/** Records of ~600 kB: a state of 4,000 map entries and two later updates. */
		function largeLog(): { records: Uint8Array[]; expected: Record<string, unknown> } {
			const source = new Y.Doc();
			source.transact(() => {
				for (let i = 0; i < 4000; i++) source.getMap('m').set(`k${i}`, { text: 'x'.repeat(120), i });
			});
			const records = [Y.encodeStateAsUpdate(source)];
			const later: Uint8Array[] = [];
			source.on('update', (u: Uint8Array) => later.push(u));
			source.getMap('m').set('later', 1);
			source.getMap('m').delete('k0');
			records.push(...later);
			expect(records.reduce((n, r) => n + r.byteLength, 0)).toBeGreaterThan(PIECE_BYTES);
			return { records, expected: source.getMap('m').toJSON() };
		}

		it('loads in pieces, giving the event loop back, and stores edits made meanwhile', async () => {
			const storage = new MemoryDocStorage();
			const { records, expected } = largeLog();
			storage.logs.set(ID, [...records]);
			const doc = new Y.Doc();
			let applies = 0;
			doc.on('update', () => applies++);
			let ticks = 0;
			const ticker = setInterval(() => {
				ticks++;
				if (ticks === 1) doc.getMap('m').set('while loading', true); // an edit between pieces
			}, 0);
			const persisted = persistDoc(doc, () => storage.open(ID), { compactAfterRecords: 2, compactDelayMs: 0 });
			expect(await persisted.loaded).toEqual({ setAside: 0, droppedBytes: 0 });
			clearInterval(ticker);
			// Right after the load the log still holds every record (no compaction of a half-loaded document).
			expect(stateOf(storage.logs.get(ID)!).getMap('m').toJSON()).toMatchObject(expected);
			expect(applies).toBeGreaterThan(3); // pieces, not one transaction
			expect(ticks).toBeGreaterThan(0); // timers ran while it loaded
			expect(doc.getMap('m').toJSON()).toEqual({ ...expected, 'while loading': true });
			await persisted.written();
			await new Promise((resolve) => setTimeout(resolve, 20)); // a compaction may run now
			await persisted.stop();
			// The log holds everything: nothing was compacted from a half-loaded document.
			expect(stateOf(storage.logs.get(ID)!).getMap('m').toJSON()).toEqual({ ...expected, 'while loading': true });
		});

		it('sets a damaged record aside and loads the rest', async () => {
			const storage = new MemoryDocStorage();
			const { records, expected } = largeLog();
			const damaged = records[0]!.slice(0, 300_000); // cut inside a struct
			storage.logs.set(ID, [damaged, ...records]);
			const doc = new Y.Doc();
			const persisted = persistDoc(doc, () => storage.open(ID));
			expect(await persisted.loaded).toEqual({ setAside: 1, droppedBytes: 0 });
			expect(doc.getMap('m').toJSON()).toEqual(expected);
			expect(storage.aside.get(ID)).toEqual([damaged]);
			await persisted.stop();
		});
	});
});


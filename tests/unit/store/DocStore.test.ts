/**
 * DocStore over IndexedDB in y-indexeddb's layout (fake-indexeddb in Node): documents persist, a damaged stored
 * update is set aside with a clear error while the rest loads, and unreadable remote
 * updates are refused without throwing.
 */
import 'fake-indexeddb/auto';
import * as idb from 'lib0/indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { newId } from '../../../src/lib/doc/ids';
import { DocStore, QUARANTINE_PREFIX } from '../../../src/lib/store/DocStore';
import { DocCorruptError, UpdateRejectedError } from '../../../src/lib/store/errors';

const stores: DocStore[] = [];
function newStore(): DocStore {
	const store = new DocStore();
	store.onError = () => undefined;
	stores.push(store);
	return store;
}

afterEach(() => {
	for (const s of stores.splice(0)) s.closeAll();
});

async function addRaw(docId: string, values: unknown[]): Promise<void> {
	const db = await idb.openDB(DocStore.dbName(docId), (d) =>
		idb.createStores(d, [['updates', { autoIncrement: true }], ['custom']])
	);
	const [updates] = idb.transact(db, ['updates']);
	for (const v of values) await idb.addAutoKey(updates, v as ArrayBuffer);
	db.close();
}

async function customKeys(docId: string): Promise<string[]> {
	const db = await idb.openDB(DocStore.dbName(docId), () => undefined);
	const [custom] = idb.transact(db, ['custom'], 'readonly');
	const keys = (await idb.getAllKeys(custom)).map(String);
	db.close();
	return keys;
}

/** Waits until IndexedDB has written pending updates. */
const settle = () => new Promise((r) => setTimeout(r, 50));

describe('DocStore', () => {
	it('persists a document and loads it again', async () => {
		const id = newId();
		const a = newStore();
		const h = a.open(id);
		await h.ready;
		h.doc.getArray('messages').push(['one', 'two']);
		await settle();
		a.release(h);

		const b = newStore();
		const again = b.open(id);
		await again.ready;
		expect(again.doc.getArray('messages').toArray()).toEqual(['one', 'two']);
		expect(again.error).toBeUndefined();
	});

	it('shares one loaded document between opens and frees it after the last release', async () => {
		const store = newStore();
		const id = newId();
		const a = store.open(id);
		const b = store.open(id);
		expect(b).toBe(a);
		store.release(a);
		expect(store.isOpen(id)).toBe(true);
		store.release(b);
		expect(store.isOpen(id)).toBe(false);
		expect(a.doc.isDestroyed).toBe(true);
	});

	it('sets damaged stored updates aside, loads the rest and reports the document', async () => {
		const id = newId();
		const good = new Y.Doc();
		good.getArray('messages').push(['survivor']);
		await addRaw(id, [Y.encodeStateAsUpdate(good), new Uint8Array([255, 255, 255, 255, 255, 255, 255, 255, 255, 255]), 'text']);

		const errors: Error[] = [];
		const store = newStore();
		store.onError = (e) => errors.push(e);
		const h = store.open(id);
		await h.ready;
		expect(h.doc.getArray('messages').toArray()).toEqual(['survivor']);
		expect(h.error).toBeInstanceOf(DocCorruptError);
		expect(h.error?.quarantined).toBe(2);
		expect(errors.map((e) => e.name)).toContain('DocCorruptError');
		// Nothing is lost: the damaged entries are kept under quarantine keys.
		expect((await customKeys(id)).filter((k) => k.startsWith(QUARANTINE_PREFIX))).toHaveLength(2);
		// The document keeps working and persisting.
		h.doc.getArray('messages').push(['after']);
		await settle();
		store.release(h);
		const again = newStore().open(id);
		await again.ready;
		expect(again.doc.getArray('messages').toArray()).toEqual(['survivor', 'after']);
		expect(again.error).toBeUndefined();
	});

	it('keeps reporting damage found earlier in the session', async () => {
		const id = newId();
		await addRaw(id, [new Uint8Array([1, 2, 3])]);
		const store = newStore();
		const first = store.open(id);
		await first.ready;
		store.release(first);
		const second = store.open(id);
		await second.ready;
		expect(second.error?.quarantined).toBe(1);
	});

	it('refuses an unreadable update without throwing and keeps the document intact', async () => {
		const store = newStore();
		const errors: Error[] = [];
		store.onError = (e) => errors.push(e);
		const h = store.open(newId());
		await h.ready;
		h.doc.getArray('messages').push(['kept']);
		expect(store.applyUpdate(h, new Uint8Array([7, 200, 1, 9, 9]), 'peer')).toBe(false);
		expect(errors[0]).toBeInstanceOf(UpdateRejectedError);
		expect(h.doc.getArray('messages').toArray()).toEqual(['kept']);
		const other = new Y.Doc();
		other.getArray('messages').push(['from a peer']);
		expect(store.applyUpdate(h, Y.encodeStateAsUpdate(other), 'peer')).toBe(true);
		expect(h.doc.getArray('messages').length).toBe(2);
	});

	it('reports every change of every open document after loading, with its origin, until unsubscribed', async () => {
		const id = newId();
		const first = newStore();
		const h = first.open(id);
		await h.ready;
		h.doc.getArray('messages').push(['stored']);
		await settle();
		first.release(h);

		const store = newStore();
		const seen: [string, unknown, number][] = [];
		const stop = store.onUpdate((docId, update, origin) => seen.push([docId, origin, update.length]));
		const again = store.open(id);
		await again.ready;
		expect(seen).toEqual([]); // loading the stored state is not a change
		again.doc.transact(() => again.doc.getArray('messages').push(['local']), 'outpost:local');
		const other = new Y.Doc();
		other.getMap('m').set('k', 1);
		const second = store.open(newId());
		await second.ready;
		store.applyUpdate(second, Y.encodeStateAsUpdate(other), 'peer');
		expect(seen.map(([docId, origin]) => [docId, origin])).toEqual([
			[id, 'outpost:local'],
			[second.id, 'peer']
		]);
		expect(seen.every(([, , size]) => size > 0)).toBe(true);
		stop();
		again.doc.getArray('messages').push(['unseen']);
		expect(seen).toHaveLength(2);
	});

	it('keeps documents of stores with different prefixes apart', async () => {
		const id = newId();
		const a = newStore();
		const h = a.open(id);
		await h.ready;
		h.doc.getArray('messages').push(['only in a']);
		await settle();
		const b = new DocStore('outpost-test-b:');
		stores.push(b);
		const other = b.open(id);
		await other.ready;
		expect(other.doc.getArray('messages').length).toBe(0);
		expect(await b.lastStoredKey(id)).toBeUndefined();
		expect(await a.lastStoredKey(id)).toBeTypeOf('number');
	});

	it('tells from the newest stored key whether a document changed, open or not', async () => {
		const store = newStore();
		const id = newId();
		expect(await store.lastStoredKey(id)).toBeUndefined();
		const h = store.open(id);
		await h.ready;
		h.doc.getArray('messages').push(['one']);
		await settle();
		const first = await store.lastStoredKey(id);
		expect(first).toBeTypeOf('number');
		h.doc.getArray('messages').push(['two']);
		await settle();
		const second = await store.lastStoredKey(id);
		expect(second).toBeGreaterThan(first!);
		store.release(h);
		await settle();
		expect(await store.lastStoredKey(id)).toBe(second);
	});
});

/**
 * One stored record that IndexedDB cannot read back (Chromium keeps values over ~64 KiB, such
 * as a compacted document's state, in blob files: one lost or damaged file makes reading it
 * fail with "NotReadableError: Failed to read large IndexedDB value"). Found in review: the
 * whole store was read with one getAll(), so that one record failed the whole load, the
 * document showed empty with no error, and every later edit was silently never stored. Now the
 * records are read one by one when getAll fails, the unreadable one is set aside with a clear
 * error, and later edits are stored.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { newId } from '../../../../src/lib/doc/ids';
import { DocStore } from '../../../../src/lib/store/DocStore';

const store = IDBObjectStore.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
const realGetAll = store.getAll!;
const realGet = store.get!;
const realOpenCursor = store.openCursor!;
afterEach(() => {
	store.getAll = realGetAll;
	store.get = realGet;
	store.openCursor = realOpenCursor;
});

/** Makes the value under `badKey` of database `dbName` unreadable, as a lost blob file does in Chromium. */
function poison(dbName: string, badKey: number): void {
	const unreadable = () => new DOMException('Failed to read large IndexedDB value', 'NotReadableError');
	const inDb = (s: IDBObjectStore) => s.transaction.db.name === dbName && s.name === 'updates';
	store.getAll = function (this: IDBObjectStore, ...args: unknown[]) {
		if (inDb(this)) throw unreadable();
		return realGetAll.apply(this, args);
	};
	store.get = function (this: IDBObjectStore, ...args: unknown[]) {
		if (inDb(this) && args[0] === badKey) throw unreadable();
		return realGet.apply(this, args);
	};
}

describe('a stored record that cannot be read back', () => {
	it('gives a clear error; the rest loads, later edits are stored, and the record stays for when it reads again', async () => {
		const prefix = `unread-${newId()}:`;
		const id = newId();
		let docs = new DocStore(prefix);
		docs.onError = () => undefined;
		let handle = docs.open(id);
		await handle.ready;
		for (const [k, v] of [['first', 1], ['second', 2], ['third', 3]] as const) {
			handle.doc.getMap('m').set(k, v);
			await new Promise((r) => setTimeout(r, 10)); // one record each
		}
		docs.release(handle);
		await new Promise((r) => setTimeout(r, 50));

		// Record 2 ('second') becomes unreadable.
		poison(prefix + id, 2);
		docs = new DocStore(prefix);
		const errors: Error[] = [];
		docs.onError = (e) => errors.push(e);
		handle = docs.open(id);
		await handle.ready;
		const loaded = handle.doc.getMap('m').toJSON();
		handle.doc.getMap('m').set('after', 'an edit made after loading');
		await new Promise((r) => setTimeout(r, 50));
		docs.release(handle);
		await new Promise((r) => setTimeout(r, 50));
		store.getAll = realGetAll;
		store.get = realGet;

		// Reopened once the storage reads again: the edit made meanwhile must have been stored.
		const again = new DocStore(prefix);
		again.onError = () => undefined;
		const h2 = again.open(id);
		await h2.ready;
		const afterReload = h2.doc.getMap('m').toJSON();
		again.closeAll();

		expect({ loaded, handleError: handle.error?.name, afterReload }).toEqual({
			loaded: { first: 1 }, // 'third' waits for the unreadable record (one client's updates apply in order)
			handleError: 'DocCorruptError',
			// The unreadable record was kept (found in review: it was set aside as nothing, its bytes lost),
			// so once it reads again everything is back, and the edit made meanwhile too.
			afterReload: { first: 1, second: 2, third: 3, after: 'an edit made after loading' }
		});
	});
});

/**
 * The contract every {@link SyncDocs} implementation must meet, as a shared suite: run it
 * against each one (MemoryDocs here; the store layer's DocStore-backed one when it exists),
 * as automerge-repo runs one storage suite against every adapter.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { newId } from '../../../src/lib/doc/ids';
import { docDigest, type SyncDocs } from '../../../src/lib/mesh/syncDocs';

/** A fresh implementation under test, and a way to make a local edit through it. */
export interface SyncDocsFixture {
	docs: SyncDocs;
	/** Edits document `docId` locally (creating it when missing), as the app would. */
	edit(docId: string, change: (doc: Y.Doc) => void): Promise<void> | void;
}

/** Registers the SyncDocs contract tests for `name`. */
export function describeSyncDocs(name: string, make: () => Promise<SyncDocsFixture> | SyncDocsFixture): void {
	describe(`SyncDocs contract: ${name}`, () => {
		it('knows nothing of a document it does not hold', async () => {
			const { docs } = await make();
			const id = newId();
			expect(await docs.list()).not.toContain(id);
			expect(await docs.digest(id)).toBeUndefined();
			expect(await docs.stateVector(id)).toBeUndefined();
			expect(await docs.diff(id, Y.encodeStateVector(new Y.Doc()))).toBeUndefined();
		});

		it('lists, digests, and diffs a document edited locally', async () => {
			const { docs, edit } = await make();
			const id = newId();
			await edit(id, (doc) => doc.getText('t').insert(0, 'hello'));
			expect(await docs.list()).toContain(id);
			const mirror = new Y.Doc();
			Y.applyUpdate(mirror, (await docs.diff(id, Y.encodeStateVector(mirror)))!);
			expect(mirror.getText('t').toString()).toBe('hello');
			expect(await docs.digest(id)).toBe(await docDigest(mirror));
			expect(await docs.stateVector(id)).toEqual(Y.encodeStateVector(mirror));
			// a diff against the full state vector carries no structs
			expect(Y.decodeUpdate((await docs.diff(id, Y.encodeStateVector(mirror)))!).structs).toHaveLength(0);
		});

		it('reads each client\'s clock as its state vector says (what the update check reads), nothing for a document it does not hold', async () => {
			const { docs, edit } = await make();
			const id = newId();
			// A channel's messages (an array that only grows: every store's write policy lets it).
			await edit(id, (doc) => doc.getArray('messages').push([{ id: 'local' }]));
			// Two more writers (two sessions elsewhere), their updates applied as remote ones.
			for (const key of ['first', 'second session']) {
				const other = new Y.Doc();
				Y.applyUpdate(other, (await docs.diff(id, Y.encodeStateVector(other)))!);
				const before = Y.encodeStateVector(other);
				other.getArray('messages').push([{ id: key }]);
				await docs.apply(id, Y.encodeStateAsUpdate(other, before), 'remote');
			}
			// Every implementation here offers the lookup (the check falls back to the state vector only without one).
			expect(docs.clocks).toBeDefined();
			const clocks = (await docs.clocks!(id))!;
			const vector = Y.decodeStateVector((await docs.stateVector(id))!);
			expect(vector.size).toBe(3);
			for (const [client, clock] of vector) expect(clocks(client)).toBe(clock);
			const stranger = Math.max(...vector.keys()) + 1;
			expect(clocks(stranger)).toBe(0);
			expect(await docs.clocks!(newId())).toBeUndefined();
		});

		it('changes the digest on a deletion, which leaves the state vector as it was', async () => {
			const { docs, edit } = await make();
			const id = newId();
			await edit(id, (doc) => doc.getText('t').insert(0, 'hello'));
			const [digest, vector] = [await docs.digest(id), await docs.stateVector(id)];
			await edit(id, (doc) => doc.getText('t').delete(0, 1));
			expect(await docs.stateVector(id)).toEqual(vector);
			expect(await docs.digest(id)).not.toBe(digest);
		});

		it('applies remote updates with their origin, creating documents, and reports every update', async () => {
			const { docs, edit } = await make();
			const seen: [string, unknown][] = [];
			const stop = docs.onLocalUpdate((docId, update, origin) => {
				expect(update).toBeInstanceOf(Uint8Array);
				seen.push([docId, origin]);
			});
			const id = newId();
			const remote = new Y.Doc();
			remote.getMap('m').set('k', 1);
			const origin = { peer: 'b' };
			await docs.apply(id, Y.encodeStateAsUpdate(remote), origin);
			expect(await docs.list()).toContain(id);
			expect(await docs.digest(id)).toBe(await docDigest(remote));
			await edit(id, (doc) => doc.getMap('m').set('j', 2));
			expect(seen.map(([docId]) => docId)).toEqual([id, id]);
			expect(seen[0]![1]).toBe(origin);
			expect(seen[1]![1]).not.toBe(origin); // a local edit: not the remote origin
			stop();
			await edit(id, (doc) => doc.getMap('m').set('z', 3));
			expect(seen).toHaveLength(2);
		});
	});
}

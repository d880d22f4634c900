/**
 * Found in review: the browser's store counted documents its root does not list per origin,
 * that is per sync session, so a member got a fresh allowance with every session it opened.
 * It counts them per peer now (the session's peer, gossip's signed publisher). Real
 * WorkspaceSyncDocs over DocStore and Dexie (fake-indexeddb).
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { newId } from '../../../src/lib/doc/ids';
import { OutpostDb } from '../../../src/lib/store/db';
import { DocStore } from '../../../src/lib/store/DocStore';
import { WorkspaceSyncDocs } from '../../../src/lib/store/WorkspaceSyncDocs';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
	for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function update(n: number): Uint8Array {
	const doc = new Y.Doc();
	doc.getMap('m').set('n', n);
	return Y.encodeStateAsUpdate(doc);
}

describe('unlisted documents in the browser’s store', () => {
	it('count against the peer that sent them, whichever session brought them', async () => {
		const docs = new DocStore(`dev-${newId()}:`);
		docs.onError = () => undefined;
		const db = new OutpostDb(`outpost-test-${newId()}`);
		const sync = await WorkspaceSyncDocs.open({ workspaceId: newId(), docs, db, digestDelayMs: 10, idleReleaseMs: 30, maxUnknownPerOrigin: 3, maxUnknownDocs: 100 });
		cleanups.push(() => db.close(), () => docs.closeAll(), () => sync.close());
		let taken = 0;
		// Five sessions, one after another, of one peer: each a new origin.
		for (let session = 0; session < 5; session++) {
			const origin = { session };
			for (let i = 0; i < 3; i++) {
				await sync.apply(newId(), update(i), origin, 'mallory').then(
					() => taken++,
					(error: unknown) => expect((error as Error).name).toBe('UnknownDocLimitError')
				);
			}
		}
		expect(taken).toBe(3);
		// Another peer has its own.
		await sync.apply(newId(), update(9), { session: 9 }, 'bob');
	});
});

/**
 * Found in review. A hostile member's sync session sends updates for document ids the workspace root does not
 * list. Each is counted against the session's allowance (MAX_UNKNOWN_PER_ORIGIN) only while it
 * is accepted: a refused update frees its slot again, but WorkspaceSyncDocs.apply has already
 * opened the document through the DocStore, and IdbDocStorage.open created an IndexedDB
 * database for it that nothing ever deletes. So one peer leaves any number of databases on the
 * device (and across restarts, up to MAX_UNKNOWN_DOCS accepted ones per session, forever).
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { newId } from '../../../../src/lib/doc/ids';
import { OutpostDb } from '../../../../src/lib/store/db';
import { DocStore } from '../../../../src/lib/store/DocStore';
import { WorkspaceSyncDocs } from '../../../../src/lib/store/WorkspaceSyncDocs';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
	for (const c of cleanups.splice(0).reverse()) await c();
});

describe('documents the root does not list', () => {
	it('a refused update for an unlisted id leaves no database behind (bounded by the allowance)', async () => {
		const prefix = `unk-${newId()}:`;
		const docs = new DocStore(prefix);
		docs.onError = () => undefined;
		const db = new OutpostDb(`outpost-unk-${newId()}`);
		const workspaceId = newId();
		const sync = await WorkspaceSyncDocs.open({ workspaceId, docs, db, idleReleaseMs: 5, digestDelayMs: 5, maxUnknownPerOrigin: 2, maxUnknownDocs: 3 });
		cleanups.push(() => sync.close(), () => docs.closeAll(), () => db.close());
		const hostile = {}; // one sync session

		let refused = 0;
		for (let i = 0; i < 20; i++) {
			await sync.apply(newId(), Uint8Array.of(0xff, 0xff, 0xff), hostile, 'hostile-peer').catch(() => refused++);
		}
		expect(refused).toBe(20);
		await new Promise((r) => setTimeout(r, 50)); // idle release
		const left = (await indexedDB.databases()).filter((d) => d.name?.startsWith(prefix) && d.name !== prefix + workspaceId);
		// At most the allowance of unlisted documents may ever be created by one origin.
		expect(left.length).toBeLessThanOrEqual(2);
	});

	it('two refused updates of one unlisted id at once leave no database either (found in review of the fix)', async () => {
		const prefix = `unk2-${newId()}:`;
		const docs = new DocStore(prefix);
		docs.onError = () => undefined;
		const db = new OutpostDb(`outpost-unk2-${newId()}`);
		const workspaceId = newId();
		const sync = await WorkspaceSyncDocs.open({ workspaceId, docs, db, idleReleaseMs: 5, digestDelayMs: 5, maxUnknownPerOrigin: 2, maxUnknownDocs: 8 });
		cleanups.push(() => sync.close(), () => docs.closeAll(), () => db.close());
		for (let i = 0; i < 5; i++) {
			const id = newId();
			const results = await Promise.allSettled([
				sync.apply(id, Uint8Array.of(0xff, 0xff, 0xff), {}, 'peer-a'),
				sync.apply(id, Uint8Array.of(0xfe, 0xff, 0xff), {}, 'peer-b')
			]);
			expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
		}
		await new Promise((r) => setTimeout(r, 50));
		const left = (await indexedDB.databases()).filter((d) => d.name?.startsWith(prefix) && d.name !== prefix + workspaceId);
		expect(left).toEqual([]);
	});
});

/**
 * WorkspaceSyncDocs over DocStore and Dexie (fake-indexeddb): the shared SyncDocs contract;
 * digests that survive a restart without loading documents; a joiner that receives a whole
 * workspace through two SyncSessions and finds it in IndexedDB afterwards; unreadable and
 * unlisted documents refused; local edits reported to sync listeners.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { deleteOnly } from '../../fixtures/deleteOnly';
import * as Y from 'yjs';
import { newId } from '../../../src/lib/doc/ids';
import { teamSpaceId } from '../../../src/lib/doc/team/teamId';
import { creatorsChannels, WorkspaceDoc } from '../../../src/lib/doc/WorkspaceDoc';
import { SyncSession } from '../../../src/lib/mesh/SyncSession';
import { docDigest } from '../../../src/lib/mesh/syncDocs';
import { newSecret } from '../../../src/lib/mesh/secret';
import { deriveWorkspaceKeys } from '../../../src/lib/mesh/workspaceKeys';
import { LOCAL_ORIGIN } from '../../../src/lib/state/ChannelState.svelte';
import { OutpostDb } from '../../../src/lib/store/db';
import { DocStore } from '../../../src/lib/store/DocStore';
import { WorkspaceSyncDocs, type WorkspaceSyncDocsInit } from '../../../src/lib/store/WorkspaceSyncDocs';
import { describeSyncDocs } from '../mesh/syncDocsSuite';

/** One simulated device: its own document databases (by prefix) and its own Dexie database. */
interface Device {
	prefix: string;
	dbName: string;
	docs: DocStore;
	db: OutpostDb;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
	for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function device(prefix = `dev-${newId()}:`, dbName = `outpost-test-${newId()}`): Device {
	const docs = new DocStore(prefix);
	docs.onError = () => undefined;
	const db = new OutpostDb(dbName);
	cleanups.push(() => {
		docs.closeAll();
		db.close();
	});
	return { prefix, dbName, docs, db };
}

/** The same device after a restart: a fresh DocStore and Dexie over the same databases. */
function restart(d: Device): Device {
	return device(d.prefix, d.dbName);
}

async function syncDocs(d: Device, workspaceId: string, extra: Partial<WorkspaceSyncDocsInit> = {}): Promise<WorkspaceSyncDocs> {
	const sync = await WorkspaceSyncDocs.open({ workspaceId, docs: d.docs, db: d.db, digestDelayMs: 10, idleReleaseMs: 30, ...extra });
	cleanups.push(() => sync.close());
	return sync;
}

/** Edits a document as the app does: open (or share), wait, change with LOCAL_ORIGIN, release. */
async function editDoc(docs: DocStore, id: string, change: (doc: Y.Doc) => void): Promise<void> {
	const handle = docs.open(id);
	await handle.ready;
	handle.doc.transact(() => change(handle.doc), LOCAL_ORIGIN);
	docs.release(handle);
}

function channelInfo(id: string, name: string) {
	return { id, name, topic: '', private: false, readOnly: false, archived: false, createdAt: Date.now(), createdBy: 'peer-a' };
}

/** A workspace with a roster and two channels, written as the app would. */
async function seedWorkspace(d: Device): Promise<{ workspaceId: string; rosterId: string; channels: string[] }> {
	const workspaceId = newId();
	const rosterId = newId();
	const channels = [newId(), newId()];
	await editDoc(d.docs, workspaceId, (doc) => {
		const root = new WorkspaceDoc(doc);
		root.init({ name: 'Crew', color: '#1f6f5c', createdBy: 'peer-a', createdAt: 1, rosterId });
		channels.forEach((id, i) => root.createChannel(channelInfo(id, `channel-${i}`)));
	});
	await editDoc(d.docs, rosterId, (doc) => doc.getMap('members').set('peer-a', 'Ada'));
	for (const id of channels) await editDoc(d.docs, id, (doc) => doc.getArray('messages').push([`hello from ${id}`]));
	return { workspaceId, rosterId, channels };
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `condition` holds (polling), failing after two seconds. */
async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
	for (let waited = 0; !(await condition()); waited += 5) {
		if (waited > 2000) throw new Error('condition not met in time');
		await wait(5);
	}
}

describeSyncDocs('WorkspaceSyncDocs', async () => {
	const d = device();
	const workspaceId = newId();
	const docs = await syncDocs(d, workspaceId);
	return {
		docs,
		// A document the workspace does not know yet is added to the root's channel index first.
		edit: async (docId: string, change: (doc: Y.Doc) => void) => {
			if (!docs.list().includes(docId)) {
				await editDoc(d.docs, workspaceId, (doc) => new WorkspaceDoc(doc).createChannel(channelInfo(docId, 'new')));
			}
			await editDoc(d.docs, docId, change);
		}
	};
});

describe('WorkspaceSyncDocs', () => {
	it('lists the root, the roster and every indexed document (none under a space-form id); only the root (and a known roster) for a joiner', async () => {
		const a = device();
		const { workspaceId, rosterId, channels } = await seedWorkspace(a);
		const noteId = newId();
		const threadId = newId();
		await editDoc(a.docs, workspaceId, (doc) => {
			const root = new WorkspaceDoc(doc);
			root.createNote({ id: noteId, title: 'n', createdAt: 1, updatedAt: 1 });
			root.createAiThread({ id: threadId, title: 't', createdAt: 1 });
			root.channels.set('not-an-id', new Y.Map());
			// Written locally past the root's policy: an id of a space's form lists nothing (rootPolicy.ts).
			root.channels.set(teamSpaceId(workspaceId, 'someone', 'n'), new Y.Map());
		});
		const sync = await syncDocs(a, workspaceId);
		expect(sync.list().sort()).toEqual([workspaceId, rosterId, ...channels, noteId, threadId].sort());

		const joiner = device();
		const empty = await syncDocs(joiner, newId());
		expect(empty.list()).toHaveLength(1);
		expect(await empty.digest(empty.list()[0])).toBeUndefined();
		const hinted = await syncDocs(joiner, newId(), { rosterId });
		expect(hinted.list()[1]).toBe(rosterId);
	});

	it("keeps the roster it was opened with when a peer rewrites the root's roster id", async () => {
		const a = device();
		const { workspaceId, rosterId } = await seedWorkspace(a);
		const sync = await syncDocs(a, workspaceId, { rosterId });
		const root = await sync.hold(workspaceId);
		const copy = new Y.Doc();
		Y.applyUpdate(copy, Y.encodeStateAsUpdate(root));
		const before = Y.encodeStateVector(copy);
		copy.getMap('meta').set('rosterId', newId());
		// The root's meta is set once (rootPolicy.ts): the rewrite is refused, and the roster kept either way.
		await expect(sync.apply(workspaceId, Y.encodeStateAsUpdate(copy, before), 'peer')).rejects.toThrow(/cannot be overwritten/);
		expect(new WorkspaceDoc(root).rosterId).toBe(rosterId);
		expect(sync.rosterId).toBe(rosterId);
		expect(sync.list()).toContain(rosterId);
		expect(sync.isListed(rosterId)).toBe(true);
	});

	it('keeps no deletion waiting for records not held: the writer\'s next channel still arrives (found in review)', async () => {
		const a = device();
		const { workspaceId, rosterId } = await seedWorkspace(a);
		const writer = a.docs.open(workspaceId);
		await writer.ready;
		cleanups.push(() => a.docs.release(writer));
		const b = device();
		const sync = await syncDocs(b, workspaceId, { rosterId });
		await sync.apply(workspaceId, Y.encodeStateAsUpdate(writer.doc), 'peer');
		// A modified client's delete set naming the writer's next clocks: it deletes nothing held, so it passes.
		const future = deleteOnly(writer.doc.clientID, Y.getState(writer.doc.store, writer.doc.clientID), 1_000_000);
		await sync.apply(workspaceId, future, 'attacker');
		// The writer then makes a channel; its update reaches this store.
		const before = Y.encodeStateVector(writer.doc);
		const next = newId();
		writer.doc.transact(() => new WorkspaceDoc(writer.doc).createChannel(channelInfo(next, 'after')), LOCAL_ORIGIN);
		await sync.apply(workspaceId, Y.encodeStateAsUpdate(writer.doc, before), 'peer');
		const root = await sync.hold(workspaceId);
		expect(new WorkspaceDoc(root).channels.has(next)).toBe(true);
	});

	it('keeps digests in Dexie: after a restart, digest() loads no document', async () => {
		const a = device();
		const { workspaceId, rosterId, channels } = await seedWorkspace(a);
		const first = await syncDocs(a, workspaceId);
		const expected: Record<string, string | undefined> = {};
		for (const id of first.list()) expected[id] = await first.digest(id);
		expect(Object.values(expected).every((v) => typeof v === 'string')).toBe(true);
		await first.close();
		a.docs.closeAll();

		const again = restart(a);
		const opened: string[] = [];
		const open = again.docs.open.bind(again.docs);
		again.docs.open = (id) => (opened.push(id), open(id));
		const second = await syncDocs(again, workspaceId);
		for (const id of [rosterId, ...channels]) {
			expect(await second.digest(id)).toBe(expected[id]);
			expect(again.docs.isOpen(id)).toBe(false);
		}
		expect(await second.digest(workspaceId)).toBe(expected[workspaceId]);
		expect(opened).toEqual([workspaceId]); // the root, which it keeps open to list the workspace
	});

	it('computes a missing digest once for concurrent asks, then answers from memory', async () => {
		const a = device();
		const { workspaceId, channels } = await seedWorkspace(a);
		await a.db.digests.clear();
		a.docs.closeAll();
		const again = restart(a);
		const opened: string[] = [];
		const open = again.docs.open.bind(again.docs);
		again.docs.open = (id) => (opened.push(id), open(id));
		const sync = await syncDocs(again, workspaceId);
		const digests = await Promise.all([sync.digest(channels[0]), sync.digest(channels[0]), sync.digest(channels[0])]);
		expect(new Set(digests).size).toBe(1);
		expect(await sync.digest(channels[0])).toBe(digests[0]);
		expect(opened.filter((id) => id === channels[0])).toHaveLength(1);
		expect((await again.db.digests.get(channels[0]))?.svHash).toBe(digests[0]);
	});

	it('recomputes a stored digest whose document changed while no one watched', async () => {
		const a = device();
		const { workspaceId, channels } = await seedWorkspace(a);
		const first = await syncDocs(a, workspaceId);
		const before = await first.digest(channels[0]);
		await first.close();
		await editDoc(a.docs, channels[0], (doc) => doc.getArray('messages').push(['written while sync was off']));
		await wait(20);
		a.docs.closeAll();

		const again = restart(a);
		const second = await syncDocs(again, workspaceId);
		const after = await second.digest(channels[0]);
		expect(after).not.toBe(before);
		const check = again.docs.open(channels[0]);
		await check.ready;
		expect(after).toBe(await docDigest(check.doc));
	});

	it('stores the digest of a remotely applied update (debounced) and releases the document when idle', async () => {
		const a = device();
		const { workspaceId, channels } = await seedWorkspace(a);
		const sync = await syncDocs(a, workspaceId);
		const remote = new Y.Doc();
		remote.getArray('messages').push(['from a peer']);
		await sync.apply(channels[1], Y.encodeStateAsUpdate(remote), { peer: 'b' });
		expect(a.docs.isOpen(channels[1])).toBe(true);
		const handle = a.docs.open(channels[1]);
		await handle.ready;
		const expected = await docDigest(handle.doc);
		a.docs.release(handle);
		await until(async () => (await a.db.digests.get(channels[1]))?.svHash === expected);
		await until(() => !a.docs.isOpen(channels[1]));
	});

	it('brings a joiner with an empty store the whole workspace through two SyncSessions, persisted', async () => {
		const a = device();
		const { workspaceId, rosterId, channels } = await seedWorkspace(a);
		const b = device();
		const sender = await syncDocs(a, workspaceId);
		const joiner = await syncDocs(b, workspaceId);
		const keys = await deriveWorkspaceKeys(workspaceId, newSecret());
		const sessions: SyncSession[] = [];
		const chains = [Promise.resolve(), Promise.resolve()];
		for (const [i, role, docs] of [[0, 'opener', joiner], [1, 'responder', sender]] as const) {
			sessions.push(
				new SyncSession({
					role,
					workspace: { id: workspaceId, keys },
					localPeerId: `peer-${i}`,
					remotePeerId: `peer-${1 - i}`,
					docs,
					send: (bytes) => {
						const copy = bytes.slice();
						chains[i] = chains[i].then(() => sessions[1 - i].receive(copy));
					}
				})
			);
		}
		const errors: Error[] = [];
		const synced = sessions.map(
			(s) =>
				new Promise<void>((resolve, reject) => {
					s.on('synced', resolve);
					s.on('error', (e) => (errors.push(e), reject(e)));
				})
		);
		sessions[1].start();
		sessions[0].start();
		await Promise.all(synced);
		expect(errors).toEqual([]);
		expect(joiner.list().sort()).toEqual([workspaceId, rosterId, ...channels].sort());
		for (const id of sender.list()) expect(await joiner.digest(id)).toBe(await sender.digest(id));

		// A live edit on the sender reaches the joiner.
		await editDoc(a.docs, channels[0], (doc) => doc.getArray('messages').push(['live']));
		await until(async () => (await joiner.digest(channels[0])) === (await sender.digest(channels[0])));
		sessions.forEach((s) => s.close());
		await joiner.close();
		await wait(20);
		b.docs.closeAll();

		const reopened = restart(b);
		const root = reopened.docs.open(workspaceId);
		const roster = reopened.docs.open(rosterId);
		await Promise.all([root.ready, roster.ready]);
		const ws = new WorkspaceDoc(root.doc);
		expect(ws.name).toBe('Crew');
		expect(ws.rosterId).toBe(rosterId);
		expect(ws.listChannels(creatorsChannels).map((c) => c.id).sort()).toEqual([...channels].sort());
		expect(roster.doc.getMap('members').get('peer-a')).toBe('Ada');
		for (const id of channels) {
			const channel = reopened.docs.open(id);
			await channel.ready;
			const expected = id === channels[0] ? [`hello from ${id}`, 'live'] : [`hello from ${id}`];
			expect(channel.doc.getArray('messages').toArray()).toEqual(expected);
		}
	});

	it('refuses an unreadable update with a named error and stores nothing', async () => {
		const a = device();
		const { workspaceId, channels } = await seedWorkspace(a);
		const sync = await syncDocs(a, workspaceId);
		const stranger = newId();
		const garbage = new Uint8Array([7, 200, 1, 9, 9]);
		await expect(sync.apply(stranger, garbage, { peer: 'b' })).rejects.toMatchObject({ name: 'UpdateRejectedError' });
		expect(sync.list()).not.toContain(stranger);
		expect(await sync.digest(stranger)).toBeUndefined();
		expect(await a.docs.lastStoredKey(stranger)).toBeUndefined();

		const before = await a.docs.lastStoredKey(channels[0]);
		await expect(sync.apply(channels[0], garbage, { peer: 'b' })).rejects.toMatchObject({ name: 'UpdateRejectedError' });
		await wait(20);
		expect(await a.docs.lastStoredKey(channels[0])).toBe(before);
		await expect(sync.apply('../not-an-id', Y.encodeStateAsUpdate(new Y.Doc()), {})).rejects.toMatchObject({
			name: 'UpdateRejectedError'
		});
	});

	it('accepts documents the root does not list, up to a limit per origin and in all, until the root lists them', async () => {
		const a = device();
		const workspaceId = newId();
		const sync = await syncDocs(a, workspaceId, { maxUnknownPerOrigin: 2, maxUnknownDocs: 3 });
		const update = (n: number) => {
			const doc = new Y.Doc();
			doc.getMap('m').set('n', n);
			return Y.encodeStateAsUpdate(doc);
		};
		const [peerB, peerC] = [{ peer: 'b' }, { peer: 'c' }];
		const ids = [newId(), newId(), newId(), newId()];
		await sync.apply(ids[0], update(0), peerB);
		await sync.apply(ids[1], update(1), peerB);
		await expect(sync.apply(ids[2], update(2), peerB)).rejects.toMatchObject({ name: 'UnknownDocLimitError' });
		await sync.apply(ids[0], update(9), peerB); // already accepted: not counted again
		await sync.apply(ids[2], update(2), peerC);
		await expect(sync.apply(ids[3], update(3), peerC)).rejects.toMatchObject({ name: 'UnknownDocLimitError', limit: 3 });
		expect(sync.list()).toEqual(expect.arrayContaining(ids.slice(0, 3)));
		expect(sync.list()).not.toContain(ids[3]);
		// Once the root lists a document, it no longer counts against its creator.
		await editDoc(a.docs, workspaceId, (doc) => new WorkspaceDoc(doc).createChannel(channelInfo(ids[0], 'late')));
		await sync.apply(ids[3], update(3), peerB);
		expect(sync.list()).toEqual(expect.arrayContaining(ids));
	});

	it('reports local edits to open documents of the workspace, and nothing of other documents', async () => {
		const a = device();
		const { workspaceId, channels } = await seedWorkspace(a);
		const sync = await syncDocs(a, workspaceId);
		const seen: { docId: string; update: Uint8Array; origin: unknown }[] = [];
		const stop = sync.onLocalUpdate((docId, update, origin) => seen.push({ docId, update, origin }));
		const channel = a.docs.open(channels[0]); // as ChannelState keeps the channel on screen open
		await channel.ready;
		const mirror = new Y.Doc();
		Y.applyUpdate(mirror, Y.encodeStateAsUpdate(channel.doc));
		channel.doc.transact(() => channel.doc.getArray('messages').push(['typed here']), LOCAL_ORIGIN);
		await editDoc(a.docs, newId(), (doc) => doc.getArray('messages').push(['another workspace']));
		expect(seen.map((s) => [s.docId, s.origin])).toEqual([[channels[0], LOCAL_ORIGIN]]);
		Y.applyUpdate(mirror, seen[0].update);
		expect(mirror.getArray('messages').toArray()).toEqual([`hello from ${channels[0]}`, 'typed here']);
		stop();
		channel.doc.transact(() => channel.doc.getArray('messages').push(['after stop']), LOCAL_ORIGIN);
		expect(seen).toHaveLength(1);
		a.docs.release(channel);
	});
});

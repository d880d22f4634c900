/**
 * The indexer over real documents (DocStore on fake-indexeddb): channel messages, replies,
 * edits, deletions and restores; notes; AI chats; remote updates; and the background pass that
 * only reads what is new.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { AiRole, AiThreadDoc } from '../../../../src/lib/doc/AiThreadDoc';
import { AiRecordKind, AiStatus } from '../../../../src/lib/doc/schema';
import { signAiRecord } from '../../../../src/lib/doc/signature';
import { ChannelDoc } from '../../../../src/lib/doc/ChannelDoc';
import { newId, newIdFor } from '../../../../src/lib/doc/ids';
import { NoteDoc } from '../../../../src/lib/doc/NoteDoc';
import { WorkspaceDoc } from '../../../../src/lib/doc/WorkspaceDoc';
import { OutpostDb } from '../../../../src/lib/store/db';
import { DocStore, type DocHandle } from '../../../../src/lib/store/DocStore';
import { SearchIndex, type IndexChange } from '../../../../src/lib/store/search/SearchIndex';
import { SearchIndexer } from '../../../../src/lib/store/search/SearchIndexer';
import { at, identity, msg, signedDeletion, signedEdit, signedMsg } from '../../doc/helpers';

/** The devices writing in these tests: messages count in search only when their signatures check out. */
const alice = identity();
const bob = identity();
const mallory = identity();
const peer = identity();

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
	for (const c of cleanups.splice(0).reverse()) await c();
});

/** Waits until IndexedDB has written pending updates. */
const settle = () => new Promise((r) => setTimeout(r, 50));

interface World {
	db: OutpostDb;
	docs: DocStore;
	wsId: string;
	root: WorkspaceDoc;
	rootHandle: DocHandle;
}

async function world(dbName = `search-${newId()}`, wsId = newId()): Promise<World> {
	const db = new OutpostDb(dbName);
	const docs = new DocStore();
	docs.onError = () => undefined;
	const rootHandle = docs.open(wsId);
	await rootHandle.ready;
	cleanups.push(() => {
		docs.closeAll();
		db.close();
	});
	return { db, docs, wsId, root: new WorkspaceDoc(rootHandle.doc), rootHandle };
}

/** Starts an index and indexer; `applied` records every change batch. */
async function startIndexer(w: World) {
	const index = await SearchIndex.open({ db: w.db, workspaceId: w.wsId, snapshotDelayMs: 50 });
	const applied: IndexChange[] = [];
	const apply = index.apply.bind(index);
	index.apply = (change) => {
		applied.push(change);
		return apply(change);
	};
	const errors: Error[] = [];
	let indexed = 0;
	const indexer = new SearchIndexer({
		docs: w.docs,
		root: w.root,
		index,
		delayMs: 10,
		onError: (e) => errors.push(e),
		onIndexed: () => indexed++
	});
	cleanups.push(async () => {
		await indexer.stop();
		await index.close();
		expect(errors).toEqual([]);
	});
	await indexer.start();
	return { index, indexer, applied, indexedCount: () => indexed };
}

function addChannel(w: World): string {
	const id = newId();
	w.root.createChannel({ id, name: 'general', topic: '', private: false, readOnly: false, archived: false, createdAt: 1, createdBy: 'a' });
	return id;
}

const ids = (hits: { itemId: string }[]) => hits.map((h) => h.itemId).sort();

describe('SearchIndexer', () => {
	it('indexes channel messages and replies as they are posted, edited, deleted and restored', async () => {
		const w = await world();
		const channelId = addChannel(w);
		const handle = w.docs.open(channelId);
		await handle.ready;
		const channel = new ChannelDoc(handle.doc);
		const { index, indexer } = await startIndexer(w);

		channel.post(await signedMsg(channelId, 'm1', alice, at(1), 'The harbour opens at dawn'));
		channel.post(await signedMsg(channelId, 'm2', alice, at(2), '我们讨论数据主权'));
		channel.post(await signedMsg(channelId, 'r1', bob, at(3), 'reply about the lighthouse', 'm1'));
		// A forged copy of m1 (another member's, unsigned) changes nothing in search.
		channel.post({ id: 'm1', author: alice.id, hlc: at(1), text: 'forged dawn copy', sig: 'forged' });
		await indexer.flush();
		expect(ids(await index.search('harbour'))).toEqual(['m1']);
		expect(await index.search('forged')).toEqual([]);
		expect(ids(await index.search('数据主权'))).toEqual(['m2']);
		const [reply] = await index.search('lighthouse');
		expect(reply).toMatchObject({ itemId: 'r1', parent: 'm1', docId: channelId, kind: 'message' });

		// An edit by the author replaces the text; one by someone else, or one in the author's name unsigned, is ignored.
		channel.edit(await signedEdit('m1', alice, at(4), 'The marina opens at noon'));
		channel.edit(await signedEdit('m1', mallory, at(5), 'forged harbour text'));
		channel.edit({ msg: 'm1', author: alice.id, hlc: at(6), text: 'forged lagoon text', sig: 'forged' });
		await indexer.flush();
		expect(await index.search('harbour')).toEqual([]);
		expect(await index.search('lagoon')).toEqual([]);
		expect(ids(await index.search('marina'))).toEqual(['m1']);

		// Deletion by the author drops it; by someone else does not; undoing restores it.
		channel.markDeletion(await signedDeletion('m2', alice, at(6)));
		channel.markDeletion(await signedDeletion('r1', alice, at(6)));
		await indexer.flush();
		expect(await index.search('数据主权')).toEqual([]);
		expect(ids(await index.search('lighthouse'))).toEqual(['r1']);
		// A forged "show again" in the author's name (unsigned) does not bring it back (found in review).
		channel.markDeletion({ msg: 'm2', by: alice.id, hlc: at(7), deleted: false, sig: 'forged' });
		await indexer.flush();
		expect(await index.search('数据主权')).toEqual([]);
		channel.markDeletion(await signedDeletion('m2', alice, at(8), false));
		await indexer.flush();
		expect(ids(await index.search('数据主权'))).toEqual(['m2']);
		w.docs.release(handle);
	});

	it('reads only what is new in a channel since the last pass', async () => {
		const w = await world();
		const channelId = addChannel(w);
		const handle = w.docs.open(channelId);
		await handle.ready;
		const channel = new ChannelDoc(handle.doc);
		channel.postMany(await Promise.all(Array.from({ length: 4500 }, (_, i) => signedMsg(channelId, `old${i}`, alice, at(i), `old message number ${i}`))));
		const { index, indexer, applied, indexedCount } = await startIndexer(w);
		// A long channel goes in steps; its progress is recorded with the last one.
		expect(applied.map((c) => [c.put?.length, c.doc !== undefined])).toEqual([
			[2000, false],
			[2000, false],
			[500, true]
		]);
		applied.length = 0;
		channel.post(await signedMsg(channelId, 'new1', bob, at(100), 'fresh news'));
		// Indexed by itself shortly after the change (no explicit flush), and announced.
		for (const until = Date.now() + 2_000; indexedCount() === 0 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 20));
		expect(indexedCount()).toBe(1);
		expect(applied.map((c) => c.put?.map((e) => e.itemId))).toEqual([['new1']]);
		expect(index.size).toBe(4501);
		w.docs.release(handle);
	}, 60_000); // signs and checks 4,500 messages: 13–17 s on a busy 2-core machine

	it('indexes updates synced from a peer into a document this device is not showing', async () => {
		const w = await world();
		const channelId = addChannel(w);
		const { index, indexer } = await startIndexer(w);
		const remote = new Y.Doc();
		new ChannelDoc(remote).post(await signedMsg(channelId, 'p1', peer, at(1), 'remote 数据主权 report'));
		const handle = w.docs.open(channelId); // as the sync layer opens it to apply an update
		await handle.ready;
		expect(w.docs.applyUpdate(handle, Y.encodeStateAsUpdate(remote), 'peer-session')).toBe(true);
		w.docs.release(handle);
		await indexer.flush();
		expect(ids(await index.search('数据主权'))).toEqual(['p1']);
	});

	it('indexes notes (title and body, at the match offset) and AI chats', async () => {
		const w = await world();
		const noteId = newId();
		const threadId = newId();
		w.root.createNote({ id: noteId, title: 'Engine log', createdAt: 1, updatedAt: 2 });
		w.root.createAiThread({ id: threadId, title: 'Chat', createdAt: 1 });
		const noteHandle = w.docs.open(noteId);
		const threadHandle = w.docs.open(threadId);
		await Promise.all([noteHandle.ready, threadHandle.ready]);
		const note = new NoteDoc(noteHandle.doc);
		const { index, indexer } = await startIndexer(w);

		note.title = 'Engine log';
		note.body.insert(0, '# Week 1\n\nThe 数据主权 policy applies to the pump logs.');
		const thread = new AiThreadDoc(threadHandle.doc);
		thread.addRecord(await signAiRecord(alice.key, { kind: AiRecordKind.user, id: 'q1', author: alice.id, hlc: at(1), text: 'What is a bilge pump?' }, threadId));
		// An answer still being written is indexed once its signed record arrives.
		const answer = thread.append({ id: 'a1', role: AiRole.assistant, hlc: at(2), author: peer.id, text: 'A bilge', askedBy: alice.id, status: AiStatus.streaming });
		(answer.get('text') as Y.Text).insert(7, ' pump removes water.');
		await indexer.flush();
		expect(ids(await index.search('water'))).toEqual([]);
		thread.addRecord(await signAiRecord(peer.key, { kind: AiRecordKind.answer, id: 'a1', author: peer.id, hlc: at(2), text: 'A bilge pump removes water.', askedBy: alice.id, status: AiStatus.done }, threadId));
		await indexer.flush();

		const noteHit = (await index.search('数据主权'))[0];
		expect(noteHit).toMatchObject({ kind: 'note', docId: noteId, title: 'Engine log', time: 2 });
		expect(noteHit.offset).toBe(note.body.toString().indexOf('数据主权'));
		expect(ids(await index.search('engine'))).toEqual([noteId]);
		const pump = await index.search('pump');
		expect(pump.map((h) => `${h.kind}:${h.itemId}`).sort()).toEqual(['ai:a1', 'ai:q1', `note:${noteId}`]);

		// Editing the note body replaces its entry; removing an AI message drops it.
		note.body.delete(0, note.body.length);
		note.body.insert(0, 'Nothing left');
		// Alice regenerates her answer: the cut drops it.
		thread.addRecord(await signAiRecord(alice.key, { kind: AiRecordKind.cut, id: 'c1', author: alice.id, hlc: at(3), text: '', from: 'a1' }, threadId));
		await indexer.flush();
		expect(await index.search('数据主权')).toEqual([]);
		expect(ids(await index.search('pump'))).toEqual(['q1']);
		w.docs.release(noteHandle);
		w.docs.release(threadHandle);
	});

	it('keeps the genuine message when a member’s signed copy of its id arrives later, or sits before it (found in review)', async () => {
		const w = await world();
		const channelId = addChannel(w);
		const handle = w.docs.open(channelId);
		await handle.ready;
		const channel = new ChannelDoc(handle.doc);
		const { index, indexer } = await startIndexer(w);
		const id = newIdFor(alice.id);
		channel.post(await signedMsg(channelId, id, alice, at(5), 'the vote is no'));
		await indexer.flush();
		// Mallory signs her own record under Alice's id and puts it first.
		channel.messages.insert(0, [await signedMsg(channelId, id, mallory, at(4), 'the vote is yes')]);
		await indexer.flush();
		expect(ids(await index.search('no'))).toEqual([id]);
		expect(await index.search('yes')).toEqual([]);
		const [hit] = await index.search('vote');
		expect(hit?.author).toBe(alice.id);
		w.docs.release(handle);
	});

	it('indexes documents that are not open in a background pass, then skips them while unchanged', async () => {
		const dbName = `search-${newId()}`;
		const w = await world(dbName);
		const channelId = addChannel(w);
		const h = w.docs.open(channelId);
		await h.ready;
		new ChannelDoc(h.doc).post(await signedMsg(channelId, 'm1', alice, at(1), 'stored while nobody searched'));
		await settle();
		w.docs.release(h);
		const first = await startIndexer(w);
		expect(ids(await first.index.search('nobody'))).toEqual(['m1']);
		expect(w.docs.isOpen(channelId)).toBe(false);
		await first.indexer.stop();
		await first.index.close();

		// A second run (a reload) opens nothing: the stored update key has not changed.
		const opened: string[] = [];
		const realOpen = w.docs.open.bind(w.docs);
		w.docs.open = (id: string) => {
			opened.push(id);
			return realOpen(id);
		};
		const second = await startIndexer(w);
		expect(second.index.rebuilt).toBe(false);
		expect(opened).toEqual([]);
		expect(ids(await second.index.search('nobody'))).toEqual(['m1']);
	});

	it('indexes a channel whole again when its progress row is damaged, dropping what it no longer has', async () => {
		const w = await world();
		const channelId = addChannel(w);
		const handle = w.docs.open(channelId);
		await handle.ready;
		const channel = new ChannelDoc(handle.doc);
		channel.post(await signedMsg(channelId, 'm1', alice, at(1), 'kept anchor'));
		const { index, indexer } = await startIndexer(w);
		await indexer.flush();
		// A stale entry the document does not have, and a progress row that cannot be read.
		await index.apply({
			put: [{ docId: channelId, itemId: 'ghost', kind: 'message', text: 'ghost anchor', time: 0 }],
			doc: { docId: channelId, sv: new Uint8Array([255, 255, 255]) }
		});
		expect(ids(await index.search('anchor'))).toEqual(['ghost', 'm1']);
		channel.post(await signedMsg(channelId, 'm2', alice, at(2), 'new anchor'));
		await indexer.flush();
		expect(ids(await index.search('anchor'))).toEqual(['m1', 'm2']);
		w.docs.release(handle);
	});

	it('indexes a document whose content arrived before the root listed it, once it is listed', async () => {
		const w = await world();
		const { index, indexer } = await startIndexer(w);
		const early = newId();
		const handle = w.docs.open(early);
		await handle.ready;
		new ChannelDoc(handle.doc).post(await signedMsg(early, 'e1', peer, at(1), 'overtook the root'));
		await settle();
		await indexer.flush();
		expect(await index.search('overtook')).toEqual([]);
		w.rootHandle.doc.transact(() =>
			w.root.createChannel({ id: early, name: 'late', topic: '', private: false, readOnly: false, archived: false, createdAt: 1, createdBy: 'a' })
		);
		await indexer.flush();
		expect(ids(await index.search('overtook'))).toEqual(['e1']);
		w.docs.release(handle);
	});

	it('ignores documents the workspace does not list', async () => {
		const w = await world();
		const { index, indexer } = await startIndexer(w);
		const stray = w.docs.open(newId());
		await stray.ready;
		new ChannelDoc(stray.doc).post(msg('s1', 'eve', at(1), 'stray secret'));
		await indexer.flush();
		expect(await index.search('secret')).toEqual([]);
		w.docs.release(stray);
	});
});

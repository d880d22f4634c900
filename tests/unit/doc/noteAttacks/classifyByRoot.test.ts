/**
 * Listing a note's id under the root's `channels` or `aiThreads` index is refused: one id is
 * listed under one index (found in review: a guest did it, and every replica holding that
 * entry then checked the note as a channel or an AI chat, refusing its writers' edits).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { NoteDoc } from '../../../../src/lib/doc/NoteDoc.js';
import { WorkspaceDoc } from '../../../../src/lib/doc/WorkspaceDoc.js';
import { annsNote, makeDevice, NOTE, replicaOf, send, teamOf, WS, type Device } from './helpers.js';

let ann: Device, gus: Device;
beforeAll(async () => {
	[ann, gus] = await Promise.all([makeDevice(), makeDevice()]);
});

describe.each([
	['channels', (w: WorkspaceDoc) => w.channels.set(NOTE, new Y.Map())],
	['aiThreads', (w: WorkspaceDoc) => w.createAiThread({ id: NOTE, title: 'x', createdAt: 1 })]
])('a guest names a note in the root index %s', (index, relist) => {
	it("the note stays a note: Ann's edit passes, the guest's title rewrite does not", () => {
		const team = teamOf([gus.peerId]);
		const root = new Y.Doc({ guid: WS });
		new WorkspaceDoc(root).createNote({ id: NOTE, title: 'Dosage', createdAt: 1, updatedAt: 1 });
		const ann1 = annsNote(ann);
		const replica = replicaOf(ann1.doc);

		// The guest's root change (no note bytes at all), checked as the root's policy checks it.
		const guestRoot = replicaOf(root);
		relist(new WorkspaceDoc(guestRoot));
		const rootRefused = send(guestRoot, root, WS, undefined, team, gus.peerId);
		void rootRefused; // when fixed it may be refused here; the asserts below must hold either way

		ann1.doc.transact(() => ann1.note.body.insert(ann1.note.body.length, '. Take with food.'));
		expect.soft(send(ann1.doc, replica, NOTE, root, team, ann.peerId), `${index}: Ann's bound edit`).toBeUndefined();

		const g = replicaOf(replica);
		new NoteDoc(g).title = 'Gus was here';
		expect.soft(send(g, replica, NOTE, root, team, gus.peerId), `${index}: guest title rewrite`).toBeDefined();
		expect.soft(new NoteDoc(replica).title).toBe('Dosage');
	});
});

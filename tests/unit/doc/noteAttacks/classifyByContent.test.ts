/**
 * A member cannot turn a note into an "AI chat" or a "channel" for the write policy by writing
 * one top-level name of theirs into it (found in review: the note policy let unknown names
 * through and the store decided by content first, so writers' edits were then refused as an AI
 * chat's or a channel's, and a guest could rewrite the title). A note's policy now refuses
 * names a note does not have, and the root's listing decides before content does.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { NoteDoc } from '../../../../src/lib/doc/NoteDoc.js';
import { WorkspaceDoc } from '../../../../src/lib/doc/WorkspaceDoc.js';
import { annsNote, makeDevice, NOTE, replicaOf, send, teamOf, writerCopy, WS, type Device } from './helpers.js';

let ann: Device, mallory: Device, gus: Device;
beforeAll(async () => {
	[ann, mallory, gus] = await Promise.all([makeDevice(), makeDevice(), makeDevice()]);
});

function listedRoot(): Y.Doc {
	const root = new Y.Doc({ guid: WS });
	new WorkspaceDoc(root).createNote({ id: NOTE, title: 'Dosage', createdAt: 1, updatedAt: 1 });
	return root;
}

describe.each([
	['records', (d: Y.Doc) => d.getArray('records').push([{ poison: 1 }])],
	['reactions', (d: Y.Doc) => d.getMap('reactions').set('x', { poison: 1 })],
	['answers', (d: Y.Doc) => d.getMap('answers').set('x', 'poison')]
])('a member writes a top-level %s into a bound note', (name, poison) => {
	it('the note keeps its own write policy afterwards', () => {
		const team = teamOf([gus.peerId]);
		const root = listedRoot();
		const ann1 = annsNote(ann);
		const replica = replicaOf(ann1.doc); // an honest replica (the relay, another member)

		// Mallory, a member with a bound client, sends the poison: passes the note policy now.
		const mal = writerCopy(replica, mallory);
		mal.doc.transact(() => poison(mal.doc));
		const poisoned = send(mal.doc, replica, NOTE, root, team, mallory.peerId);
		// (When fixed this may be refused; either way the checks below must hold.)
		void poisoned;

		// Ann keeps editing her note: must still be taken from her.
		ann1.doc.transact(() => ann1.note.body.insert(ann1.note.body.length, '. Take with food.'));
		expect.soft(send(ann1.doc, replica, NOTE, root, team, ann.peerId), `${name}: Ann's bound edit`).toBeUndefined();

		// Gus, a guest (no carrier), rewrites the note's title: must be refused.
		const g = new Y.Doc();
		Y.applyUpdate(g, Y.encodeStateAsUpdate(replica));
		new NoteDoc(g).title = 'Gus was here';
		const guest = send(g, replica, NOTE, root, team, gus.peerId);
		expect.soft(guest, `${name}: guest title rewrite`).toBeDefined();
		expect.soft(new NoteDoc(replica).title).toBe('Dosage');
	});
});

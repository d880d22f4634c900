/**
 * Checks of the note policy a review tried and found holding: a binding set twice in one
 * update, a nested binding, deleting a binding, a guest's own signed binding, and a removed
 * member sending directly are all refused.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { signBindingNow } from '../../../../src/lib/doc/signature.js';
import { WorkspaceDoc } from '../../../../src/lib/doc/WorkspaceDoc.js';
import { annsNote, makeDevice, NOTE, replicaOf, send, teamOf, writerCopy, WS, type Device } from './helpers.js';

let ann: Device, mallory: Device, gus: Device;
beforeAll(async () => {
	[ann, mallory, gus] = await Promise.all([makeDevice(), makeDevice(), makeDevice()]);
});

function setup() {
	const root = new Y.Doc({ guid: WS });
	new WorkspaceDoc(root).createNote({ id: NOTE, title: 'Dosage', createdAt: 1, updatedAt: 1 });
	const ann1 = annsNote(ann);
	return { root, team: teamOf([gus.peerId]), ann1, replica: replicaOf(ann1.doc) };
}

describe('bindings that hold', () => {
	it('a binding set twice in one update, a nested binding, an array entry, a deleted binding are refused', () => {
		const { root, team, replica } = setup();
		const annClient = Number([...replica.getMap('bindings').keys()][0]);
		const twice = writerCopy(replica, mallory);
		twice.doc.transact(() => twice.note.body.insert(0, 'a'));
		const k = String(twice.doc.clientID);
		twice.doc.transact(() => twice.doc.getMap('bindings').set(k, signBindingNow(mallory.key, { doc: NOTE, client: twice.doc.clientID, device: mallory.peerId })));
		expect(send(twice.doc, replicaOf(replica), NOTE, root, team, mallory.peerId)).toBeDefined();

		const nested = writerCopy(replica, mallory);
		nested.doc.transact(() => {
			nested.note.body.insert(0, 'a');
			nested.doc.getMap('bindings').set('999', new Y.Map());
		});
		expect(send(nested.doc, replicaOf(replica), NOTE, root, team, mallory.peerId)).toBeDefined();

		const del = writerCopy(replica, mallory);
		del.doc.transact(() => {
			del.note.body.insert(0, 'a');
			del.doc.getMap('bindings').delete(String(annClient));
		});
		expect(send(del.doc, replicaOf(replica), NOTE, root, team, mallory.peerId)).toBe('a record cannot be deleted');
	});

	it("a guest's own valid binding, and a removed member sending directly, are refused", () => {
		const { root, team, replica } = setup();
		const g = writerCopy(replica, gus);
		g.doc.transact(() => g.note.body.insert(0, 'guest '));
		expect(send(g.doc, replicaOf(replica), NOTE, root, team, mallory.peerId)).toBe('an edit from a device that may not write notes');
		const removed = teamOf([mallory.peerId]); // Mallory removed: no carrier any more
		const m = writerCopy(replica, mallory);
		m.doc.transact(() => m.note.body.insert(0, 'after removal '));
		expect(send(m.doc, replicaOf(replica), NOTE, root, removed, mallory.peerId)).toBeDefined();
	});
});

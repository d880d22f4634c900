/**
 * A note's snapshots are appended, never deleted (found in review: any member erased the
 * others' snapshots). Who saved one is signed and checked: snapshotSaver.test.ts.
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

function setup() {
	const team = teamOf([gus.peerId]);
	const root = new Y.Doc({ guid: WS });
	new WorkspaceDoc(root).createNote({ id: NOTE, title: 'Dosage', createdAt: 1, updatedAt: 1 });
	const ann1 = annsNote(ann);
	ann1.doc.transact(() => ann1.note.saveSnapshot({ id: 's1', name: 'Approved', at: 10, by: ann.peerId }));
	return { team, root, ann1, replica: replicaOf(ann1.doc) };
}

describe('note snapshots from a member', () => {
	it("a member cannot erase another member's snapshot", () => {
		const { team, root, replica } = setup();
		const mal = writerCopy(replica, mallory);
		mal.doc.transact(() => mal.note.snapshots.delete(0, 1));
		const refused = send(mal.doc, replica, NOTE, root, team, mallory.peerId);
		expect.soft(refused).toBeDefined();
		expect.soft(new NoteDoc(replica).snapshot('s1')?.name).toBe('Approved');
	});

	it('a writer still appends a snapshot', () => {
		const { team, root, replica } = setup();
		const mal = writerCopy(replica, mallory);
		mal.doc.transact(() => mal.note.saveSnapshot({ id: 's2', name: 'Draft 2', at: 20, by: mallory.peerId }));
		expect(send(mal.doc, replica, NOTE, root, team, mallory.peerId)).toBeUndefined();
		expect(new NoteDoc(replica).listSnapshots().map((s) => s.name)).toEqual(['Approved', 'Draft 2']);
	});
});

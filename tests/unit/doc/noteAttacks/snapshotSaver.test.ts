/**
 * Who saved a note's snapshot is a fact a replica checks (snapshotSignature.ts). Found in review:
 * a member's modified client saved "Approved" with Ann's peer id as `by`, the write policy took
 * it (any writer appends snapshots), and every member saw the snapshot as saved by Ann. Every
 * update goes through the store's write policy (helpers.ts `send`); the replica then reads who
 * saved each snapshot as the history pane does.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { NoteDoc, type NoteSnapshot } from '../../../../src/lib/doc/NoteDoc.js';
import { signSnapshotNow, snapshotSavedBy } from '../../../../src/lib/doc/snapshotSignature.js';
import { WorkspaceDoc } from '../../../../src/lib/doc/WorkspaceDoc.js';
import { annsNote, makeDevice, NOTE, replicaOf, send, teamOf, writerCopy, WS, type Device } from './helpers.js';

let ann: Device, mallory: Device, gus: Device;
beforeAll(async () => {
	[ann, mallory, gus] = await Promise.all([makeDevice(), makeDevice(), makeDevice()]);
});

/** Devices that write notes (Team.noteWriters): Ann and Mallory; Gus is a guest. */
const writers = () => new Set([ann.peerId, mallory.peerId]);

function setup() {
	const team = teamOf([gus.peerId]);
	const root = new Y.Doc({ guid: WS });
	new WorkspaceDoc(root).createNote({ id: NOTE, title: 'Dosage', createdAt: 1, updatedAt: 1 });
	const ann1 = annsNote(ann);
	ann1.doc.transact(() => ann1.note.saveSnapshot({ id: 's1', name: 'Approved', at: 10, by: ann.peerId }, (s) => signSnapshotNow(ann.key, NOTE, s)));
	return { team, root, ann1, replica: replicaOf(ann1.doc) };
}

/** Who the replica shows as having saved each snapshot, by snapshot id. */
function savers(replica: Y.Doc): Record<string, string | undefined> {
	return Object.fromEntries(new NoteDoc(replica).listSnapshots().map((s) => [s.id, snapshotSavedBy(NOTE, s, writers())]));
}

/** Mallory's modified client appends `record` as it is (no check of `by`, her own or no signature). */
function malloryAppends(replica: Y.Doc, team: ReturnType<typeof teamOf>, root: Y.Doc, record: NoteSnapshot): void {
	const mal = writerCopy(replica, mallory);
	mal.doc.transact(() => mal.note.snapshots.push([record]));
	expect(send(mal.doc, replica, NOTE, root, team, mallory.peerId)).toBeUndefined(); // a writer appends snapshots
}

describe('who saved a snapshot', () => {
	it("is Ann for Ann's signed snapshot, on a replica", () => {
		const { replica } = setup();
		expect(savers(replica)).toEqual({ s1: ann.peerId });
	});

	it("a member's client claiming Ann, unsigned, names nobody", () => {
		const { team, root, replica } = setup();
		malloryAppends(replica, team, root, { id: 's2', name: 'Approved by Ann', at: 20, by: ann.peerId, text: 'The dose is 50 mg' });
		expect(savers(replica)).toEqual({ s1: ann.peerId, s2: undefined });
	});

	it("a member's client claiming Ann, signed with its own key, names nobody", () => {
		const { team, root, replica } = setup();
		const unsigned = { id: 's2', name: 'Approved by Ann', at: 20, by: ann.peerId, text: 'The dose is 50 mg' };
		malloryAppends(replica, team, root, { ...unsigned, sig: signSnapshotNow(mallory.key, NOTE, unsigned) });
		expect(savers(replica).s2).toBeUndefined();
	});

	it("Ann's signature copied onto other text, or from another note, names nobody", () => {
		const { team, root, replica } = setup();
		const anns = new NoteDoc(replica).snapshot('s1')!;
		malloryAppends(replica, team, root, { ...anns, id: 's1', name: 'Approved', text: 'The dose is 50 mg' });
		const elsewhere = { id: 's3', name: 'Final', at: 30, by: ann.peerId, text: 'The dose is 5 mg' };
		malloryAppends(replica, team, root, { ...elsewhere, sig: signSnapshotNow(ann.key, 'another-note', elsewhere) });
		const shown = new NoteDoc(replica).listSnapshots().map((s) => [s.text, snapshotSavedBy(NOTE, s, writers())]);
		expect(shown).toEqual([
			['The dose is 5 mg', ann.peerId],
			['The dose is 50 mg', undefined],
			['The dose is 5 mg', undefined]
		]);
	});

	it('a device the team never let write notes names nobody, even signed by itself', () => {
		const unsigned = { id: 's4', name: 'Mine', at: 40, by: gus.peerId, text: 'x' };
		expect(snapshotSavedBy(NOTE, { ...unsigned, sig: signSnapshotNow(gus.key, NOTE, unsigned) }, writers())).toBeUndefined();
	});

	it('a snapshot saved before signing is still listed and restored, naming nobody', () => {
		const { team, root, replica } = setup();
		const old = writerCopy(replica, ann);
		old.doc.transact(() => old.note.saveSnapshot({ id: 's0', name: 'Old', at: 5, by: ann.peerId }));
		expect(send(old.doc, replica, NOTE, root, team, ann.peerId)).toBeUndefined();
		const note = new NoteDoc(replica);
		expect(note.listSnapshots().map((s) => s.name)).toEqual(['Old', 'Approved']);
		expect(savers(replica).s0).toBeUndefined();
		note.restoreSnapshot('s0');
		expect(note.body.toString()).toBe('The dose is 5 mg');
	});
});

/**
 * The note history names who saved a snapshot only when that device signed it and the team lets
 * it write notes (snapshotSignature.ts): a snapshot this device saves is signed and shown as its
 * own, another member's signed one as theirs, and a modified client's snapshot claiming Alice is
 * shown as saved by nobody. Alice's real NoteState over real services (world.ts).
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { signSnapshotNow } from '../../../src/lib/doc/snapshotSignature.js';
import { T0 } from '../knowledge/attacks/world.js';
import { dosageNotes, snapshotsFromMesh } from './dosageNote.js';

const openDosageNote = dosageNotes();

describe("a note snapshot's \"saved by\"", () => {
	it('is the saving device when signed by it, and nobody for a client claiming another member', async () => {
		const { w, id, noteDoc, note } = await openDosageNote();

		note.saveSnapshot('Mine');
		// The owner's client saves one, signed; Mallory's modified client writes one claiming Alice.
		const owners = { id: 'o1', name: 'Reviewed', at: T0 + 2, by: w.owner.peerId, text: 'The dose is 5 mg' };
		const forged = { id: 'm1', name: 'Approved by Alice', at: T0 + 3, by: w.alice.peerId, text: 'The dose is 50 mg' };
		snapshotsFromMesh(noteDoc, [{ ...owners, sig: signSnapshotNow(w.owner.key, id, owners) }, forged]);

		const shown = Object.fromEntries(note.snapshots.map((s) => [s.name, s.savedBy]));
		expect(shown).toEqual({ Mine: w.alice.peerId, Reviewed: w.owner.peerId, 'Approved by Alice': undefined });
	});
});

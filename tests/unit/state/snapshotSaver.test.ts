/**
 * The note history names who saved a snapshot only when that device signed it and the team lets
 * it write notes (snapshotSignature.ts): a snapshot this device saves is signed and shown as its
 * own, another member's signed one as theirs, and a modified client's snapshot claiming Alice is
 * shown as saved by nobody. Alice's real NoteState over real services (world.ts).
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { newId } from '../../../src/lib/doc/ids.js';
import { NoteDoc } from '../../../src/lib/doc/NoteDoc.js';
import { signSnapshotNow } from '../../../src/lib/doc/snapshotSignature.js';
import type { WorkspaceState } from '../../../src/lib/state/WorkspaceState.svelte.js';
import { T0, world } from '../knowledge/attacks/world.js';

let state: WorkspaceState | undefined;
afterEach(async () => {
	await state?.close().catch(() => undefined);
	state = undefined;
});

describe("a note snapshot's \"saved by\"", () => {
	it('is the saving device when signed by it, and nobody for a client claiming another member', async () => {
		const w = await world();
		const id = newId();
		w.root.createNote({ id, title: 'Dosage', createdAt: T0, updatedAt: T0 });
		const noteDoc = await w.hold(id);
		noteDoc.transact(() => new NoteDoc(noteDoc).body.insert(0, 'The dose is 5 mg'));
		state = await w.open();
		await state.team.authority.settled?.();
		await state.openNote(id);
		const note = state.note!;

		note.saveSnapshot('Mine');
		// The owner's client saves one, signed; Mallory's modified client writes one claiming Alice.
		const remote = new Y.Doc();
		Y.applyUpdate(remote, Y.encodeStateAsUpdate(noteDoc));
		const before = Y.encodeStateVector(remote);
		const owners = { id: 'o1', name: 'Reviewed', at: T0 + 2, by: w.owner.peerId, text: 'The dose is 5 mg' };
		const forged = { id: 'm1', name: 'Approved by Alice', at: T0 + 3, by: w.alice.peerId, text: 'The dose is 50 mg' };
		new NoteDoc(remote).snapshots.push([{ ...owners, sig: signSnapshotNow(w.owner.key, id, owners) }, forged]);
		Y.applyUpdate(noteDoc, Y.encodeStateAsUpdate(remote, before), 'mesh');

		const shown = Object.fromEntries(note.snapshots.map((s) => [s.name, s.savedBy]));
		expect(shown).toEqual({ Mine: w.alice.peerId, Reviewed: w.owner.peerId, 'Approved by Alice': undefined });
	});
});

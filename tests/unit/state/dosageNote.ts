/**
 * Alice's note history over real services (world.ts), for the tests of who a snapshot names as
 * its saver: a note whose body another client also holds, open in Alice's WorkspaceState, and
 * snapshots that client pushes arriving as the mesh delivers them.
 */
import { afterEach } from 'vitest';
import * as Y from 'yjs';
import { newId } from '../../../src/lib/doc/ids.js';
import { NoteDoc, type NoteSnapshot } from '../../../src/lib/doc/NoteDoc.js';
import type { NoteState } from '../../../src/lib/state/NoteState.svelte.js';
import type { WorkspaceState } from '../../../src/lib/state/WorkspaceState.svelte.js';
import { T0, world, type World } from '../knowledge/attacks/world.js';

/** A note 'Dosage' reading 'The dose is 5 mg', open in Alice's state; `noteDoc` is the world's copy of it. */
export interface DosageNote {
	w: World;
	id: string;
	noteDoc: Y.Doc;
	note: NoteState;
}

/** Opens a new {@link DosageNote} per call; the state opened is closed after each test. */
export function dosageNotes(): () => Promise<DosageNote> {
	let state: WorkspaceState | undefined;
	afterEach(async () => {
		await state?.close().catch(() => undefined);
		state = undefined;
	});
	return async () => {
		const w = await world();
		const id = newId();
		w.root.createNote({ id, title: 'Dosage', createdAt: T0, updatedAt: T0 });
		const noteDoc = await w.hold(id);
		noteDoc.transact(() => new NoteDoc(noteDoc).body.insert(0, 'The dose is 5 mg'));
		state = await w.open();
		await state.team.authority.settled?.();
		await state.openNote(id);
		return { w, id, noteDoc, note: state.note! };
	};
}

/** `snapshots` pushed by another client holding `noteDoc`, applied to it as arriving from the mesh. */
export function snapshotsFromMesh(noteDoc: Y.Doc, snapshots: NoteSnapshot[]): void {
	const remote = new Y.Doc();
	Y.applyUpdate(remote, Y.encodeStateAsUpdate(noteDoc));
	const before = Y.encodeStateVector(remote);
	new NoteDoc(remote).snapshots.push(snapshots);
	Y.applyUpdate(noteDoc, Y.encodeStateAsUpdate(remote, before), 'mesh');
}

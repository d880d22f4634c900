/**
 * A note's history checks each snapshot's signature once (snapshotSignature.ts), on the main
 * thread, about a millisecond each. Found in review: a member who writes the note pushed
 * thousands of small snapshots claiming another member, each with a signature that fails, and
 * opening the history verified every one (2,000: seconds of a frozen tab, again on each
 * reload). Only the newest MAX_CONFIRMED_SNAPSHOTS are checked; older ones name nobody (a
 * writer of the note could delete them anyway). The signature module is wrapped only to count
 * its checks; Alice's real NoteState over real services (world.ts).
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { newId } from '../../../src/lib/doc/ids.js';
import { NoteDoc } from '../../../src/lib/doc/NoteDoc.js';
import { signSnapshotNow } from '../../../src/lib/doc/snapshotSignature.js';
import type { WorkspaceState } from '../../../src/lib/state/WorkspaceState.svelte.js';
import { T0, world } from '../knowledge/attacks/world.js';

const checks = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../../src/lib/doc/signature.js', async (importOriginal) => {
	const real = await importOriginal<typeof import('../../../src/lib/doc/signature.js')>();
	return {
		...real,
		verifyBytesNow: (...args: Parameters<typeof real.verifyBytesNow>) => {
			checks.count++;
			return real.verifyBytesNow(...args);
		}
	};
});

let state: WorkspaceState | undefined;
afterEach(async () => {
	await state?.close().catch(() => undefined);
	state = undefined;
});

describe('a note flooded with forged snapshots', () => {
	it('checks at most the newest few hundred signatures, and the newest genuine one still names its saver', async () => {
		const w = await world();
		const id = newId();
		w.root.createNote({ id, title: 'Dosage', createdAt: T0, updatedAt: T0 });
		const noteDoc = await w.hold(id);
		noteDoc.transact(() => new NoteDoc(noteDoc).body.insert(0, 'The dose is 5 mg'));
		state = await w.open();
		await state.team.authority.settled?.();
		await state.openNote(id);
		const note = state.note!;

		const remote = new Y.Doc();
		Y.applyUpdate(remote, Y.encodeStateAsUpdate(noteDoc));
		const before = Y.encodeStateVector(remote);
		const forged = Array.from({ length: 2000 }, (_, i) => ({ id: `m${i}`, name: `v${i}`, at: T0 + 1 + i, by: w.alice.peerId, text: 'x', sig: `${'A'.repeat(86)}==` }));
		const owners = { id: 'o1', name: 'Reviewed', at: T0 + 10_000, by: w.owner.peerId, text: 'The dose is 5 mg' };
		new NoteDoc(remote).snapshots.push([...forged, { ...owners, sig: signSnapshotNow(w.owner.key, id, owners) }]);
		Y.applyUpdate(noteDoc, Y.encodeStateAsUpdate(remote, before), 'mesh');

		checks.count = 0;
		const shown = note.snapshots;
		expect(shown).toHaveLength(2001);
		expect(checks.count).toBeLessThanOrEqual(256);
		expect(shown.at(-1)).toMatchObject({ name: 'Reviewed', savedBy: w.owner.peerId });
		expect(shown.filter((s) => s.savedBy !== undefined)).toHaveLength(1);
	});
});

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
import { describe, expect, it, vi } from 'vitest';
import { signSnapshotNow } from '../../../src/lib/doc/snapshotSignature.js';
import { T0 } from '../knowledge/attacks/world.js';
import { dosageNotes, snapshotsFromMesh } from './dosageNote.js';

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

const openDosageNote = dosageNotes();

describe('a note flooded with forged snapshots', () => {
	it('checks at most the newest few hundred signatures, and the newest genuine one still names its saver', async () => {
		const { w, id, noteDoc, note } = await openDosageNote();

		const forged = Array.from({ length: 2000 }, (_, i) => ({ id: `m${i}`, name: `v${i}`, at: T0 + 1 + i, by: w.alice.peerId, text: 'x', sig: `${'A'.repeat(86)}==` }));
		const owners = { id: 'o1', name: 'Reviewed', at: T0 + 10_000, by: w.owner.peerId, text: 'The dose is 5 mg' };
		snapshotsFromMesh(noteDoc, [...forged, { ...owners, sig: signSnapshotNow(w.owner.key, id, owners) }]);

		checks.count = 0;
		const shown = note.snapshots;
		expect(shown).toHaveLength(2001);
		expect(checks.count).toBeLessThanOrEqual(256);
		expect(shown.at(-1)).toMatchObject({ name: 'Reviewed', savedBy: w.owner.peerId });
		expect(shown.filter((s) => s.savedBy !== undefined)).toHaveLength(1);
	});
});

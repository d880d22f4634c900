/**
 * Who saved a note's snapshot, as a fact every replica can check. A snapshot names the device
 * that saved it (`by`), and any device that writes the note writes the record whole: found in
 * review, a member saved "Approved" with Ann's peer id as `by`, and everyone saw it as saved by
 * Ann. The saving device now signs the record (bound to its note, so it cannot be copied into
 * another), and a snapshot counts as saved by `by` only when that signature checks out and `by`
 * is a device that writes notes in the team (`Team.noteWriters`, removed and demoted devices
 * included, so what they saved then stays theirs). Snapshots saved before signing, or whose
 * signature fails, are still listed and can be restored; they just name nobody.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { toBase64, type DeviceKey } from './deviceKey.js';
import type { NoteSnapshot } from './NoteDoc.js';
import { verifyBytesNow } from './signature.js';

const encoder = new TextEncoder();

/** A snapshot's fields a signature covers (all but the signature). */
export type UnsignedSnapshot = Omit<NoteSnapshot, 'sig'>;

/** The bytes a snapshot's signature covers: its note, then every field, in a fixed order. */
export function snapshotSigningBytes(noteId: string, s: UnsignedSnapshot): Uint8Array {
	return encoder.encode(JSON.stringify(['outpost/snapshot/1', noteId, s.id, s.name, s.at, s.by, s.text]));
}

/**
 * Signs a snapshot of note `noteId` at once (it is written in the transaction that reads the
 * body, which cannot wait): an Ed25519 device key's seed signs with @noble, as bindings are.
 */
export function signSnapshotNow(key: DeviceKey, noteId: string, s: UnsignedSnapshot): string {
	if (key.type !== 'Ed25519') throw new TypeError('snapshots are signed with an Ed25519 device key');
	return toBase64(ed25519.sign(snapshotSigningBytes(noteId, s), key.raw.subarray(0, 32)));
}

/**
 * Whether each snapshot record's signature checked out, by note. A record read from a document
 * is one object for as long as the document holds it (NoteDoc.listSnapshots), and a history pane
 * lists every snapshot on each keystroke: each is verified once.
 */
const checked = new WeakMap<NoteSnapshot, { noteId: string; valid: boolean }>();

function signedByItsDevice(noteId: string, s: NoteSnapshot): boolean {
	const known = checked.get(s);
	if (known !== undefined && known.noteId === noteId) return known.valid;
	const valid = s.sig !== undefined && verifyBytesNow(s.by, snapshotSigningBytes(noteId, s), s.sig);
	checked.set(s, { noteId, valid });
	return valid;
}

/**
 * Snapshots of one note whose saver is checked, the newest. A check is about a millisecond on
 * the main thread, and any writer of the note may push snapshots claiming a writer with a
 * signature that fails (found in review: 2,000 of them froze the history's first opening for
 * seconds, on every reload). Older ones name nobody; a writer could delete them anyway.
 */
export const MAX_CONFIRMED_SNAPSHOTS = 256;

/**
 * Who saved each of `snapshots` (a note's, oldest first, as NoteDoc.listSnapshots lists them):
 * {@link snapshotSavedBy} for the newest {@link MAX_CONFIRMED_SNAPSHOTS}, undefined for the rest.
 */
export function snapshotSavers(noteId: string, snapshots: readonly NoteSnapshot[], noteWriters: ReadonlySet<string>): (string | undefined)[] {
	const from = snapshots.length - MAX_CONFIRMED_SNAPSHOTS;
	return snapshots.map((s, i) => (i < from ? undefined : snapshotSavedBy(noteId, s, noteWriters)));
}

/**
 * The device that saved snapshot `s` of note `noteId`: its `by` when the record is signed by
 * that device and the team counts it among the devices that write notes; undefined otherwise
 * (unsigned, a signature that fails, or a device the team never let write notes).
 */
export function snapshotSavedBy(noteId: string, s: NoteSnapshot, noteWriters: ReadonlySet<string>): string | undefined {
	return noteWriters.has(s.by) && signedByItsDevice(noteId, s) ? s.by : undefined;
}

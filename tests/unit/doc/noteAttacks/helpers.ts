/** Shared set-up of the note attack tests: devices, a team, and replicas that check updates as a store does. */
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import * as Y from 'yjs';
import { NoteDoc } from '../../../../src/lib/doc/NoteDoc.js';
import { checkRemoteUpdate, updateContext, type DocsTeam } from '../../../../src/lib/doc/team/writePolicy.js';
import { bindWriter } from '../../../../src/lib/state/noteBinding.js';

export interface Device {
	key: PrivateKey;
	peerId: string;
}

export const WS = 'ws';
export const NOTE = 'note-1';

export async function makeDevice(): Promise<Device> {
	const key = await generateKeyPair('Ed25519');
	return { key, peerId: peerIdFromPrivateKey(key).toString() };
}

/** Ann and Mallory are members (write, carry); Gus is a guest (neither). */
export function teamOf(guests: string[]): DocsTeam {
	const none = new Set<string>();
	return {
		spaces: () => none,
		isWriter: (d) => !guests.includes(d),
		carries: (p) => !guests.includes(p)
	};
}

/**
 * Sends what `src` has and `dst` lacks, from peer `from`, through the same check a store runs
 * (updateContext from `root`, then checkRemoteUpdate); applies it when taken. Returns why refused.
 */
export function send(src: Y.Doc, dst: Y.Doc, docId: string, root: Y.Doc | undefined, team: DocsTeam, from: string): string | undefined {
	const update = Y.encodeStateAsUpdate(src, Y.encodeStateVector(dst));
	return sendBytes(update, dst, docId, root, team, from);
}

export function sendBytes(update: Uint8Array, dst: Y.Doc, docId: string, root: Y.Doc | undefined, team: DocsTeam, from: string): string | undefined {
	const refused = checkRemoteUpdate(WS, docId, dst, update, updateContext(root, docId, team, from));
	if (refused === undefined) Y.applyUpdate(dst, update);
	return refused;
}

/** A copy of `doc` whose local edits are bound to `dev` (as the note editor binds them). */
export function writerCopy(doc: Y.Doc, dev: Device): { doc: Y.Doc; note: NoteDoc } {
	const copy = new Y.Doc();
	Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc));
	bindWriter(copy, NOTE, dev.key, dev.peerId);
	return { doc: copy, note: new NoteDoc(copy) };
}

/** Ann's note: a bound title and body, as the editor writes them. */
export function annsNote(ann: Device): { doc: Y.Doc; note: NoteDoc } {
	const doc = new Y.Doc();
	bindWriter(doc, NOTE, ann.key, ann.peerId);
	const note = new NoteDoc(doc);
	doc.transact(() => {
		note.title = 'Dosage';
		note.body.insert(0, 'The dose is 5 mg');
	});
	return { doc, note };
}

/** A replica's copy of `doc` (a plain document, as a store holds it). */
export function replicaOf(doc: Y.Doc): Y.Doc {
	const r = new Y.Doc();
	Y.applyUpdate(r, Y.encodeStateAsUpdate(doc));
	return r;
}

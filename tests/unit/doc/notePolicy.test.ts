/**
 * Notes take edits only from writers: an edit travels with the signed binding of its Yjs
 * client id (noteBinding.ts writes it inside the first local transaction), and every replica
 * refuses items of a client bound to nobody, bound with a forged signature, or bound to a
 * device the team does not let write (a guest). Notes from before bindings stay open.
 */
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { NoteDoc } from '../../../src/lib/doc/NoteDoc.js';
import { checkNoteUpdate, NOT_A_CARRIER } from '../../../src/lib/doc/notePolicy.js';
import { signBindingNow } from '../../../src/lib/doc/signature.js';
import { checkRemoteUpdate } from '../../../src/lib/doc/team/writePolicy.js';
import { bindWriter } from '../../../src/lib/state/noteBinding.js';

interface Device {
	key: PrivateKey;
	peerId: string;
}

let ann: Device, gus: Device, mallory: Device;
const NOTE = 'note-1';

beforeAll(async () => {
	const make = async (): Promise<Device> => {
		const key = await generateKeyPair('Ed25519');
		return { key, peerId: peerIdFromPrivateKey(key).toString() };
	};
	[ann, gus, mallory] = await Promise.all([make(), make(), make()]);
});

/** Ann, Mallory and the owner write; Gus is a guest. */
const isWriter = (device: string) => device !== gus.peerId;

/** A note Ann wrote through the binder, and what each replica holds of it. */
function annsNote(): { honest: Y.Doc } {
	const doc = new Y.Doc();
	const stop = bindWriter(doc, NOTE, ann.key, ann.peerId);
	doc.transact(() => new NoteDoc(doc).body.insert(0, 'The dose is 5 mg'));
	stop();
	const honest = new Y.Doc();
	Y.applyUpdate(honest, Y.encodeStateAsUpdate(doc));
	return { honest };
}

/**
 * The update another copy of the note sends after `change`, checked by the honest replica;
 * `fromCarrier`: whether the peer it comes from may pass on note content.
 */
function attempt(honest: Y.Doc, change: (copy: Y.Doc) => void, fromCarrier = true): string | undefined {
	const copy = new Y.Doc();
	Y.applyUpdate(copy, Y.encodeStateAsUpdate(honest));
	const before = Y.encodeStateVector(honest);
	change(copy);
	return checkRemoteUpdate('ws', NOTE, honest, Y.encodeStateAsUpdate(copy, before), { note: true, isWriter, fromCarrier });
}

describe('note write policy', () => {
	it('the binder binds a new client id when Yjs draws one (a clash), though it skips a bound client', () => {
		const doc = new Y.Doc();
		const stop = bindWriter(doc, NOTE, ann.key, ann.peerId);
		doc.transact(() => new NoteDoc(doc).body.insert(0, 'a'));
		doc.transact(() => new NoteDoc(doc).body.insert(1, 'b'));
		const first = doc.clientID;
		doc.clientID = first + 1; // what Yjs does when another client seems to use its id
		const receiver = new Y.Doc();
		Y.applyUpdate(receiver, Y.encodeStateAsUpdate(doc));
		const before = Y.encodeStateVector(receiver);
		doc.transact(() => new NoteDoc(doc).body.insert(2, 'c'));
		stop();
		expect([...doc.getMap('bindings').keys()].sort()).toEqual([String(first), String(first + 1)].sort());
		expect(checkRemoteUpdate('ws', NOTE, receiver, Y.encodeStateAsUpdate(doc, before), { note: true, isWriter })).toBeUndefined();
	});

	it("the binder writes the binding in the edit's own update, once per client", () => {
		const doc = new Y.Doc();
		const updates: Uint8Array[] = [];
		doc.on('update', (u: Uint8Array) => updates.push(u));
		const stop = bindWriter(doc, NOTE, ann.key, ann.peerId);
		doc.transact(() => new NoteDoc(doc).body.insert(0, 'a'));
		doc.transact(() => new NoteDoc(doc).body.insert(1, 'b'));
		stop();
		expect(updates).toHaveLength(2);
		const first = new Y.Doc();
		Y.applyUpdate(first, updates[0]!);
		expect(first.getMap('bindings').get(String(doc.clientID))).toMatchObject({ doc: NOTE, client: doc.clientID, device: ann.peerId });
		expect(doc.getMap('bindings').size).toBe(1);
		// Each update passes the policy on a fresh replica, in order.
		const replica = new Y.Doc();
		for (const u of updates) {
			expect(checkNoteUpdate(replica, NOTE, u, isWriter)).toBeUndefined();
			Y.applyUpdate(replica, u);
		}
	});

	it('a bound writer edits; an unbound client, a forged binding and a guest are refused', () => {
		const { honest } = annsNote();
		expect(attempt(honest, (c) => {
			const stop = bindWriter(c, NOTE, mallory.key, mallory.peerId);
			c.transact(() => new NoteDoc(c).body.insert(0, 'Note: '));
			stop();
		})).toBeUndefined();
		expect(attempt(honest, (c) => new NoteDoc(c).body.insert(0, 'The dose is 500 mg. '))).toBe('an edit from a client bound to no device');
		expect(
			attempt(honest, (c) => {
				const forged = signBindingNow(mallory.key, { doc: NOTE, client: c.clientID, device: mallory.peerId });
				c.transact(() => {
					c.getMap('bindings').set(String(c.clientID), { ...forged, device: ann.peerId });
					new NoteDoc(c).body.insert(0, 'Ann says 500 mg. ');
				});
			})
		).toBe('a binding that is not its own client’s, signed for this note');
		expect(
			attempt(honest, (c) => {
				const stop = bindWriter(c, NOTE, gus.key, gus.peerId);
				c.transact(() => new NoteDoc(c).body.insert(0, 'guest was here '));
				stop();
			})
		).toBe('an edit from a device that may not write notes');
		// A binding copied from another note does not bind here.
		expect(
			attempt(honest, (c) => {
				const other = signBindingNow(mallory.key, { doc: 'another-note', client: c.clientID, device: mallory.peerId });
				c.transact(() => {
					c.getMap('bindings').set(String(c.clientID), other);
					new NoteDoc(c).body.insert(0, 'x');
				});
			})
		).toBe('a binding that is not its own client’s, signed for this note');
	});

	it("a binding cannot be rewritten to point a writer's edits at someone else", () => {
		const { honest } = annsNote();
		const annClient = [...honest.getMap('bindings').keys()][0]!;
		expect(
			attempt(honest, (c) => {
				const b = signBindingNow(mallory.key, { doc: NOTE, client: Number(annClient), device: mallory.peerId });
				c.getMap('bindings').set(annClient, b);
			})
		).toBe('a record cannot be overwritten');
	});

	it("a peer that may not write notes (a guest, a stranger) brings nothing: no deletion, no item under a writer's client", () => {
		const { honest } = annsNote();
		const annClient = Number([...honest.getMap('bindings').keys()][0]!);
		const deleteDose = (c: Y.Doc) => new NoteDoc(c).body.delete(4, 4);
		const asAnn = (c: Y.Doc) => {
			c.clientID = annClient; // Ann's client, past Ann's clock: Yjs cannot tell it from Ann's own
			new NoteDoc(c).body.insert(0, 'Ann: 500 mg. ');
			expect(c.clientID).toBe(annClient);
		};
		// From a writer both pass (who deleted, and under which client, the bytes cannot say).
		expect(attempt(honest, deleteDose)).toBeUndefined();
		expect(attempt(honest, asAnn)).toBeUndefined();
		expect(attempt(honest, deleteDose, false)).toBe(NOT_A_CARRIER);
		expect(attempt(honest, asAnn, false)).toBe(NOT_A_CARRIER);
		// A deletion of an item not held yet waits in Yjs until the item comes: refused as well.
		const ahead = new Y.Doc();
		Y.applyUpdate(ahead, Y.encodeStateAsUpdate(honest));
		new NoteDoc(ahead).body.insert(0, 'later ');
		const future = new Y.Doc();
		Y.applyUpdate(future, Y.encodeStateAsUpdate(ahead));
		new NoteDoc(future).body.delete(0, 6);
		const pendingDeletion = Y.encodeStateAsUpdate(future, Y.encodeStateVector(future)); // the delete set alone
		expect(checkRemoteUpdate('ws', NOTE, honest, pendingDeletion, { note: true, isWriter, fromCarrier: false })).toBe(NOT_A_CARRIER);
		expect(checkRemoteUpdate('ws', NOTE, honest, pendingDeletion, { note: true, isWriter, fromCarrier: true })).toBeUndefined();
		// A state that brings nothing new (a diff repeats every deletion held) passes from anyone.
		new NoteDoc(honest).body.delete(0, 4);
		const copy = new Y.Doc();
		Y.applyUpdate(copy, Y.encodeStateAsUpdate(honest));
		expect(checkRemoteUpdate('ws', NOTE, honest, Y.encodeStateAsUpdate(copy, Y.encodeStateVector(honest)), { note: true, isWriter, fromCarrier: false })).toBeUndefined();
		// Nor before the root lists the note here: a document nothing classifies yet may be one.
		const unlisted = new Y.Doc();
		const forged = new Y.Doc();
		Y.applyUpdate(forged, Y.encodeStateAsUpdate(honest));
		forged.clientID = annClient;
		new NoteDoc(forged).body.insert(0, 'Ann: 50 mg. ');
		const whole = Y.encodeStateAsUpdate(forged);
		expect(checkRemoteUpdate('ws', NOTE, unlisted, whole, { isWriter, fromCarrier: false })).toBe(NOT_A_CARRIER);
		expect(checkRemoteUpdate('ws', NOTE, unlisted, whole, { isWriter, fromCarrier: true })).toBeUndefined();
		// A note from before bindings is no different.
		const old = new Y.Doc();
		new NoteDoc(old).body.insert(0, 'old note');
		expect(attempt(old, deleteDose, false)).toBe(NOT_A_CARRIER);
	});

	it('a note from before bindings takes any edit, as before', () => {
		const honest = new Y.Doc();
		new NoteDoc(honest).body.insert(0, 'old note');
		expect(attempt(honest, (c) => new NoteDoc(c).body.insert(0, 'anyone: '))).toBeUndefined();
	});
});

/**
 * Every binding an update sets is checked, not only those of clients with edits in it: the
 * binding must be its own client's item, under that client's key, signed for this note by a
 * device that writes notes (found in review: a member set junk, or its own signed binding,
 * under a writer's client id on a replica that lacked the note; bindings being set once, that
 * replica then refused the writer's honest note for good). Also for a document the root does
 * not list yet.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { NoteDoc } from '../../../../src/lib/doc/NoteDoc.js';
import { signBindingNow } from '../../../../src/lib/doc/signature.js';
import { WorkspaceDoc } from '../../../../src/lib/doc/WorkspaceDoc.js';
import { annsNote, makeDevice, NOTE, send, teamOf, writerCopy, WS, type Device } from './helpers.js';

let ann: Device, mallory: Device, gus: Device;
beforeAll(async () => {
	[ann, mallory, gus] = await Promise.all([makeDevice(), makeDevice(), makeDevice()]);
});

describe.each([
	['junk, listed in the root', true, false],
	['junk, not listed yet (root entry still on its way)', false, false],
	['signed by Mallory for Ann\'s client id, listed', true, true]
])("a member squats a writer's bound client on a replica that lacks the note (%s)", (_label, listed, signed) => {
	it('the newcomer refuses the junk, then takes the honest note', () => {
		const team = teamOf([gus.peerId]);
		const ann1 = annsNote(ann);
		const annClient = ann1.doc.clientID;
		const root = new Y.Doc({ guid: WS });
		if (listed) new WorkspaceDoc(root).createNote({ id: NOTE, title: 'Dosage', createdAt: 1, updatedAt: 1 });

		// Mallory writes from an empty copy: her own client bound validly, plus junk under Ann's client.
		const mal = writerCopy(new Y.Doc(), mallory);
		mal.doc.transact(() => {
			mal.note.body.insert(0, 'hi');
			const squat = signed
				? signBindingNow(mallory.key, { doc: NOTE, client: annClient, device: mallory.peerId })
				: { doc: NOTE, client: annClient, device: ann.peerId, sig: 'AAAA' };
			mal.doc.getMap('bindings').set(String(annClient), squat);
		});
		const newcomer = new Y.Doc();
		const poison = send(mal.doc, newcomer, NOTE, root, team, mallory.peerId);
		expect.soft(poison, 'junk binding').toBeDefined();

		// The honest note (from Ann or the relay) must still reach the newcomer.
		if (!listed) new WorkspaceDoc(root).createNote({ id: NOTE, title: 'Dosage', createdAt: 1, updatedAt: 1 });
		const honest = send(ann1.doc, newcomer, NOTE, root, team, ann.peerId);
		expect.soft(honest, "Ann's honest state").toBeUndefined();
		expect.soft(new NoteDoc(newcomer).body.toString()).toContain('The dose is 5 mg');
	});
});

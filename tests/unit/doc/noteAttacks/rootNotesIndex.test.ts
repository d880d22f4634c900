/**
 * A note's listing in the root is never deleted or replaced (found in review: any device that
 * syncs the root, a guest too, unlisted a note, after which no replica shared it). Its title
 * and last edit still follow whoever edits the note: README "Notes bound to their writers".
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { isListedDoc } from '../../../../src/lib/doc/team/writePolicy.js';
import { WorkspaceDoc } from '../../../../src/lib/doc/WorkspaceDoc.js';
import { makeDevice, NOTE, replicaOf, send, teamOf, WS, type Device } from './helpers.js';

let gus: Device;
beforeAll(async () => {
	gus = await makeDevice();
});

function rootWithNote(): Y.Doc {
	const root = new Y.Doc({ guid: WS });
	new WorkspaceDoc(root).createNote({ id: NOTE, title: 'Dosage', createdAt: 1, updatedAt: 5 });
	return root;
}

describe("a guest and the root's note index", () => {
	it('cannot unlist a note', () => {
		const root = rootWithNote();
		const g = replicaOf(root);
		new WorkspaceDoc(g).notes.delete(NOTE);
		const refused = send(g, root, WS, undefined, teamOf([gus.peerId]), gus.peerId);
		expect.soft(refused).toBeDefined();
		expect.soft(isListedDoc(WS, root, NOTE)).toBe(true);
	});

	it('cannot replace a listing, while its title and last edit still follow the note', () => {
		const root = rootWithNote();
		const g = replicaOf(root);
		new WorkspaceDoc(g).createNote({ id: NOTE, title: 'Other', createdAt: 2, updatedAt: 6 });
		expect(send(g, root, WS, undefined, teamOf([gus.peerId]), gus.peerId)).toBe('a record cannot be overwritten');
		const writer = replicaOf(root);
		new WorkspaceDoc(writer).touchNote(NOTE, { title: 'Dosage (adults)', updatedAt: 7 });
		expect(send(writer, root, WS, undefined, teamOf([]), 'ann')).toBeUndefined();
		expect(new WorkspaceDoc(root).listNotes()).toMatchObject([{ id: NOTE, title: 'Dosage (adults)', updatedAt: 7 }]);
	});
});

describe('a note listing whose title changed', () => {
	it('reaches a fresh replica whole: its older values arrive deleted, and are taken (an import, a newcomer)', () => {
		const root = rootWithNote();
		const writer = new WorkspaceDoc(root);
		for (let i = 0; i < 5; i++) writer.touchNote(NOTE, { title: `Dosage v${i}`, updatedAt: 10 + i });
		const fresh = new Y.Doc({ guid: WS });
		expect(send(root, fresh, WS, undefined, teamOf([]), 'ann')).toBeUndefined();
		expect(new WorkspaceDoc(fresh).listNotes()).toMatchObject([{ id: NOTE, title: 'Dosage v4', updatedAt: 14 }]);
	});
});

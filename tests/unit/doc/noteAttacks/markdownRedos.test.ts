/**
 * Exporting a note whose body holds a long run of spaces followed by text stays linear (found
 * in review: the trailing-space regex took time growing with the square of the run, so a
 * writer's note of spaces hung the exporting tab).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { NoteDoc } from '../../../../src/lib/doc/NoteDoc.js';
import { noteToMarkdown } from '../../../../src/lib/doc/noteMarkdown.js';
import { WorkspaceDoc } from '../../../../src/lib/doc/WorkspaceDoc.js';
import { annsNote, makeDevice, NOTE, replicaOf, send, teamOf, writerCopy, WS, type Device } from './helpers.js';

let ann: Device, mallory: Device;
beforeAll(async () => {
	[ann, mallory] = await Promise.all([makeDevice(), makeDevice()]);
});

describe('exporting a note a member padded with whitespace', () => {
	it('takes time linear in the body', () => {
		const root = new Y.Doc({ guid: WS });
		new WorkspaceDoc(root).createNote({ id: NOTE, title: 'Dosage', createdAt: 1, updatedAt: 1 });
		const replica = replicaOf(annsNote(ann).doc);
		const mal = writerCopy(replica, mallory);
		mal.doc.transact(() => mal.note.body.insert(0, ' '.repeat(40_000) + 'x'));
		expect(send(mal.doc, replica, NOTE, root, teamOf([]), mallory.peerId)).toBeUndefined();
		const note = new NoteDoc(replica);
		const started = performance.now();
		noteToMarkdown(note.title, note.body.toString(), note.tagList());
		const ms = performance.now() - started;
		expect(ms, `noteToMarkdown took ${ms.toFixed(0)} ms for a 40 KB body`).toBeLessThan(250);
	});
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import {
	DuplicateTagError,
	EmptyNameError,
	MAX_TAGS,
	NameTooLongError,
	NoteDoc,
	TooManyTagsError,
	UnknownSnapshotError,
	replaceText
} from '../../../src/lib/doc/NoteDoc.js';
import { parseNoteLinks, sameTitle } from '../../../src/lib/doc/noteLinks.js';
import { noteFileName, noteToMarkdown } from '../../../src/lib/doc/noteMarkdown.js';
import { WorkspaceDoc } from '../../../src/lib/doc/WorkspaceDoc.js';
import { NoteIndexer } from '../../../src/lib/state/noteIndex.js';

/** Sends every update of `a` to `b` and back, as the mesh would. */
function link(a: Y.Doc, b: Y.Doc): void {
	a.on('update', (u: Uint8Array, origin: unknown) => origin !== 'remote' && Y.applyUpdate(b, u, 'remote'));
	b.on('update', (u: Uint8Array, origin: unknown) => origin !== 'remote' && Y.applyUpdate(a, u, 'remote'));
}

describe('NoteDoc title and tags', () => {
	it('keeps the title on one line and within its limit', () => {
		const note = new NoteDoc(new Y.Doc());
		note.title = 'Watch\nschedule';
		expect(note.title).toBe('Watch schedule');
		note.title = 'x'.repeat(500);
		expect(note.title).toHaveLength(200);
	});

	it('adds tags (dropping a leading #) and removes them', () => {
		const note = new NoteDoc(new Y.Doc());
		expect(note.addTag('  #ops ')).toBe('ops');
		note.addTag('crew');
		expect(note.tagList()).toEqual(['ops', 'crew']);
		note.removeTag('ops');
		expect(note.tagList()).toEqual(['crew']);
	});

	it('refuses bad tags and changes nothing', () => {
		const note = new NoteDoc(new Y.Doc());
		note.addTag('ops');
		expect(() => note.addTag('   ')).toThrow(EmptyNameError);
		expect(() => note.addTag('#')).toThrow(EmptyNameError);
		expect(() => note.addTag('x'.repeat(41))).toThrow(NameTooLongError);
		expect(() => note.addTag('OPS')).toThrow(DuplicateTagError);
		expect(note.tagList()).toEqual(['ops']);
		for (let i = 1; i < MAX_TAGS; i++) note.addTag(`t${i}`);
		expect(() => note.addTag('one more')).toThrow(TooManyTagsError);
		expect(note.tagList()).toHaveLength(MAX_TAGS);
	});

	it('removes a tag two peers added at once', () => {
		const a = new Y.Doc();
		const b = new Y.Doc();
		new NoteDoc(a).addTag('ops');
		new NoteDoc(b).addTag('ops');
		link(a, b);
		Y.applyUpdate(a, Y.encodeStateAsUpdate(b), 'remote');
		Y.applyUpdate(b, Y.encodeStateAsUpdate(a), 'remote');
		expect(new NoteDoc(a).tags.length).toBe(2);
		expect(new NoteDoc(a).tagList()).toEqual(['ops']);
		new NoteDoc(a).removeTag('ops');
		expect(new NoteDoc(b).tagList()).toEqual([]);
	});
});

describe('NoteDoc snapshots', () => {
	it('saves named snapshots that sync, and restores one as a new change', () => {
		const a = new Y.Doc();
		const b = new Y.Doc();
		link(a, b);
		const note = new NoteDoc(a);
		note.body.insert(0, 'first draft');
		const first = note.saveSnapshot({ id: 's1', name: ' Draft 1 ', at: 1, by: 'p1' });
		expect(first.name).toBe('Draft 1');
		note.body.insert(note.body.length, ', then more');
		note.saveSnapshot({ id: 's2', name: 'Draft 2', at: 2, by: 'p1' });
		note.body.delete(0, 6);
		expect(note.body.toString()).toBe('draft, then more');

		const other = new NoteDoc(b);
		expect(other.listSnapshots().map((s) => [s.name, s.text])).toEqual([
			['Draft 1', 'first draft'],
			['Draft 2', 'first draft, then more']
		]);
		other.restoreSnapshot('s1');
		expect(other.body.toString()).toBe('first draft');
		expect(note.body.toString()).toBe('first draft');
		// Restoring added a snapshot? No: the list is unchanged.
		expect(note.listSnapshots()).toHaveLength(2);
	});

	it('lets a restore be undone like any edit', () => {
		const doc = new Y.Doc();
		const note = new NoteDoc(doc);
		note.body.insert(0, 'old text');
		note.saveSnapshot({ id: 's', name: 'v1', at: 1, by: 'p' });
		doc.transact(() => replaceText(note.body, 'new text entirely'));
		const origin = { local: true };
		const undo = new Y.UndoManager(note.body, { trackedOrigins: new Set([origin]) });
		doc.transact(() => note.restoreSnapshot('s'), origin);
		expect(note.body.toString()).toBe('old text');
		undo.undo();
		expect(note.body.toString()).toBe('new text entirely');
	});

	it('still restores after garbage collection of the deleted text', () => {
		const doc = new Y.Doc({ gc: true });
		const note = new NoteDoc(doc);
		note.body.insert(0, 'text that will be deleted');
		note.saveSnapshot({ id: 's', name: 'before', at: 1, by: 'p' });
		note.body.delete(0, note.body.length);
		// A fresh peer that only gets the collected state.
		const fresh = new Y.Doc();
		Y.applyUpdate(fresh, Y.encodeStateAsUpdate(doc));
		const copy = new NoteDoc(fresh);
		copy.restoreSnapshot('s');
		expect(copy.body.toString()).toBe('text that will be deleted');
	});

	it('refuses a bad snapshot name or an unknown snapshot, changing nothing', () => {
		const note = new NoteDoc(new Y.Doc());
		note.body.insert(0, 'body');
		expect(() => note.saveSnapshot({ id: 's', name: '  ', at: 1, by: 'p' })).toThrow(EmptyNameError);
		expect(() => note.saveSnapshot({ id: 's', name: 'n'.repeat(81), at: 1, by: 'p' })).toThrow(NameTooLongError);
		expect(() => note.restoreSnapshot('missing')).toThrow(UnknownSnapshotError);
		expect(note.listSnapshots()).toEqual([]);
		expect(note.body.toString()).toBe('body');
	});

	it('skips malformed snapshot records from a peer', () => {
		const note = new NoteDoc(new Y.Doc());
		(note.snapshots as Y.Array<unknown>).push([42, { id: 'x' }, { id: 'ok', name: 'fine', at: 'soon', by: 7, text: 't' }]);
		expect(note.listSnapshots()).toEqual([{ id: 'ok', name: 'fine', at: 0, by: '', text: 't' }]);
	});

	it('replaces text with a minimal change that keeps a concurrent edit elsewhere', () => {
		const a = new Y.Doc();
		const b = new Y.Doc();
		const na = new NoteDoc(a);
		na.body.insert(0, 'alpha beta gamma');
		Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
		const nb = new NoteDoc(b);
		replaceText(na.body, 'alpha BETA gamma');
		nb.body.insert(nb.body.length, ' delta');
		Y.applyUpdate(a, Y.encodeStateAsUpdate(b));
		Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
		expect(na.body.toString()).toBe('alpha BETA gamma delta');
		expect(nb.body.toString()).toBe('alpha BETA gamma delta');
	});
});

describe('note links', () => {
	it('parses [[Note title]] links, once each, ignoring empty and multi-line ones', () => {
		const text = 'See [[Watch schedule]] and [[ watch  Schedule ]], [[Engine log]].\n[[]] [[  ]] [[a\nb]] [[x]y]]';
		expect(parseNoteLinks(text)).toEqual(['Watch schedule', 'Engine log']);
		expect(parseNoteLinks('[[数据主权]]')).toEqual(['数据主权']);
	});

	it('compares titles case-insensitively, ignoring extra spaces', () => {
		expect(sameTitle('Watch  schedule', ' watch schedule')).toBe(true);
		expect(sameTitle('', '')).toBe(false);
		expect(sameTitle('a', 'b')).toBe(false);
	});
});

describe('note as Markdown', () => {
	it('writes the title as a heading, then the body', () => {
		expect(noteToMarkdown('Plan', 'Line 1\nLine 2\n\n')).toBe('---\ntitle: "Plan"\n---\n\nLine 1\nLine 2\n');
		expect(noteToMarkdown('  ', 'body', ['crew', '航海'])).toBe('---\ntitle: ""\ntags: ["crew", "航海"]\n---\n\nbody\n');
	});

	it('names the file after the title, without characters file systems refuse', () => {
		expect(noteFileName('Watch schedule')).toBe('Watch schedule.md');
		expect(noteFileName('a/b: c?*')).toBe('a-b- c--.md');
		expect(noteFileName('...')).toBe('note.md');
		expect(noteFileName('', 'Untitled')).toBe('Untitled.md');
	});
});

describe('the notes index follows edits', () => {
	afterEach(() => vi.useRealTimers());

	function setup(now: { t: number }) {
		const root = new WorkspaceDoc(new Y.Doc());
		root.createNote({ id: 'n1', title: '', createdAt: 100, updatedAt: 100 });
		root.createNote({ id: 'n2', title: 'Other', createdAt: 150, updatedAt: 150 });
		const note = new NoteDoc(new Y.Doc());
		const indexer = new NoteIndexer({ noteId: 'n1', note, root, origin: 'local', intervalMs: 1000, now: () => now.t });
		return { root, note, indexer };
	}

	it('bumps updatedAt and the title at once, then at most once per interval', () => {
		vi.useFakeTimers();
		const now = { t: 1000 };
		const { root, note, indexer } = setup(now);
		expect(root.listNotes().map((n) => n.id)).toEqual(['n2', 'n1']);
		note.title = 'Plan';
		expect(root.listNotes()[0]).toMatchObject({ id: 'n1', title: 'Plan', updatedAt: 1000 });

		let writes = 0;
		root.doc.on('update', () => writes++);
		now.t = 1200;
		note.body.insert(0, 'a');
		now.t = 1500;
		note.body.insert(1, 'b');
		expect(writes).toBe(0);
		now.t = 2000;
		vi.advanceTimersByTime(800);
		expect(writes).toBe(1);
		expect(root.listNotes()[0]).toMatchObject({ id: 'n1', updatedAt: 2000 });
		indexer.dispose();
	});

	it('ignores changes that came from peers, and flushes on dispose', () => {
		vi.useFakeTimers();
		const now = { t: 1000 };
		const { root, note, indexer } = setup(now);
		const remote = new NoteDoc(new Y.Doc());
		remote.body.insert(0, 'from a peer');
		Y.applyUpdate(note.doc, Y.encodeStateAsUpdate(remote.doc));
		expect(root.listNotes()[1]).toMatchObject({ id: 'n1', updatedAt: 100 });

		note.body.insert(0, 'x'); // written at once
		now.t = 1100;
		note.body.insert(0, 'y'); // pending
		now.t = 1150;
		indexer.dispose();
		expect(root.listNotes()[0]).toMatchObject({ id: 'n1', updatedAt: 1150 });
		now.t = 5000;
		note.body.insert(0, 'z');
		vi.advanceTimersByTime(5000);
		expect(root.listNotes()[0]).toMatchObject({ id: 'n1', updatedAt: 1150 });
	});

	it('never moves updatedAt back', () => {
		const root = new WorkspaceDoc(new Y.Doc());
		root.createNote({ id: 'n1', title: 'A', createdAt: 1, updatedAt: 500 });
		root.touchNote('n1', { updatedAt: 300, title: 'B' });
		expect(root.listNotes()[0]).toMatchObject({ title: 'B', updatedAt: 500 });
		root.touchNote('missing', { updatedAt: 900 });
		expect(root.listNotes()).toHaveLength(1);
	});
});

import { describe, expect, it } from 'vitest';
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from 'y-protocols/awareness';
import * as Y from 'yjs';
import { NoteAwareness, colorOf, readCursor } from '../../../src/lib/state/noteAwareness.js';

/** Two devices' workspace awareness, linked both ways like the mesh does. */
function pair(): [Awareness, Awareness] {
	const a = new Awareness(new Y.Doc());
	const b = new Awareness(new Y.Doc());
	a.setLocalState({ peer: 'peer-a', name: 'Ada' });
	b.setLocalState({ peer: 'peer-b', name: 'Bea' });
	const forward = (from: Awareness, to: Awareness) =>
		from.on('update', ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => {
			if (origin === 'mesh') return;
			applyAwarenessUpdate(to, encodeAwarenessUpdate(from, [...added, ...updated, ...removed]), 'mesh');
		});
	forward(a, b);
	forward(b, a);
	applyAwarenessUpdate(b, encodeAwarenessUpdate(a, [a.clientID]), 'mesh');
	applyAwarenessUpdate(a, encodeAwarenessUpdate(b, [b.clientID]), 'mesh');
	return [a, b];
}

function cursorAtEnd(): unknown {
	// A position by type name ("body"): it would resolve in any note.
	const text = new Y.Doc().getText('body');
	const pos = Y.createRelativePositionFromTypeIndex(text, 0);
	return { anchor: pos, head: pos };
}

const names: Record<string, string> = { 'peer-a': 'Ada Lovelace', 'peer-b': 'Bea' };

describe('NoteAwareness', () => {
	it('shows a cursor only in the note it is in, with the member name', () => {
		const [a, b] = pair();
		const inA = new NoteAwareness(a, 'note-1', (p) => names[p] ?? '');
		inA.setLocalStateField('cursor', cursorAtEnd());
		expect(a.getLocalState()).toMatchObject({ peer: 'peer-a', name: 'Ada', note: 'note-1' });

		const bSame = new NoteAwareness(b, 'note-1', (p) => names[p] ?? '');
		const bOther = new NoteAwareness(b, 'note-2', (p) => names[p] ?? '');
		const seen = bSame.getStates().get(a.clientID);
		expect(seen?.user).toMatchObject({ name: 'Ada Lovelace', color: colorOf('peer-a') });
		expect(seen?.cursor).toBeTruthy();
		expect(bOther.getStates().has(a.clientID)).toBe(false);
		// Presence fields are untouched, so "online" and "typing" keep working.
		expect(b.getStates().get(a.clientID)).toMatchObject({ peer: 'peer-a', name: 'Ada' });
	});

	it('hides its own cursor from another note and withdraws it on close', () => {
		const [a, b] = pair();
		const note1 = new NoteAwareness(a, 'note-1', () => '');
		const note2 = new NoteAwareness(a, 'note-2', () => '');
		note1.setLocalStateField('cursor', cursorAtEnd());
		expect(note1.getLocalState()?.cursor).toBeTruthy();
		expect(note2.getLocalState()?.cursor).toBeNull();
		note2.clear(); // not its cursor: nothing happens
		expect(a.getLocalState()?.note).toBe('note-1');
		note1.clear();
		expect(a.getLocalState()).toEqual({ peer: 'peer-a', name: 'Ada' });
		expect(new NoteAwareness(b, 'note-1', () => '').getStates().has(a.clientID)).toBe(false);
	});

	it('drops malformed remote cursors', () => {
		expect(readCursor({ anchor: { item: { client: 'x', clock: 1 } }, head: {} })).toBeUndefined();
		expect(readCursor({ anchor: { tname: null, item: null, type: null }, head: { tname: 'body' } })).toBeUndefined();
		expect(readCursor('cursor')).toBeUndefined();
		expect(readCursor({ anchor: { item: { client: 1, clock: 2 }, assoc: 5 }, head: { tname: 'body' } })).toEqual({
			anchor: { type: null, tname: null, item: { client: 1, clock: 2 }, assoc: 1 },
			head: { type: null, tname: 'body', item: null, assoc: 0 }
		});
	});
});

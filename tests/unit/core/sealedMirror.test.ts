/**
 * What a member device stores on a relay outside a private space (core/sealedSync.ts): only
 * what the relay's copy (the device's mirror of it) lacks. A diff against the mirror's state
 * vector always carries the document's whole delete set, so this decides whether the deletions
 * are new, not merely present.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { holdsAll } from '../../../src/lib/core/sealedSync.js';

/** A mirror that holds all of `doc` now, as the device's mirror does after storing it. */
function mirrorOf(doc: Y.Doc): Y.Doc {
	const mirror = new Y.Doc({ gc: false });
	Y.applyUpdate(mirror, Y.encodeStateAsUpdate(doc));
	return mirror;
}

const diff = (doc: Y.Doc, mirror: Y.Doc) => Y.encodeStateAsUpdate(doc, Y.encodeStateVector(mirror));

describe('holdsAll', () => {
	it('a document with deletions the relay already holds is not stored again', () => {
		const doc = new Y.Doc();
		const answer = doc.getMap('answers');
		answer.set('status', 'streaming');
		answer.set('status', 'done'); // an overwrite: a deletion
		doc.getText('t').insert(0, 'hello');
		doc.getText('t').delete(0, 2);
		const mirror = mirrorOf(doc);
		const update = diff(doc, mirror);
		expect(Y.decodeUpdate(update).ds.clients.size).toBeGreaterThan(0); // the diff carries the deletions all the same
		expect(holdsAll(mirror, update)).toBe(true);
	});

	it('a new insert or a new deletion is stored', () => {
		const doc = new Y.Doc();
		doc.getText('t').insert(0, 'hello world');
		doc.getText('t').delete(0, 1);
		const mirror = mirrorOf(doc);
		doc.getText('t').delete(0, 1); // deletes only: no new struct
		const deletion = diff(doc, mirror);
		expect(Y.decodeUpdate(deletion).structs).toHaveLength(0);
		expect(holdsAll(mirror, deletion)).toBe(false);
		Y.applyUpdate(mirror, deletion);
		expect(holdsAll(mirror, diff(doc, mirror))).toBe(true);
		doc.getText('t').insert(0, '!');
		expect(holdsAll(mirror, diff(doc, mirror))).toBe(false);
	});

	it('an empty document and an empty mirror hold all', () => {
		const doc = new Y.Doc();
		const mirror = new Y.Doc({ gc: false });
		expect(holdsAll(mirror, diff(doc, mirror))).toBe(true);
	});
});

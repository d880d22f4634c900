import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { addedMessages } from '../../../src/lib/doc/addedMessages.js';
import { at, edit, msg } from './helpers.js';

/** Applies `update` to `doc` and returns what addedMessages read of it. */
function applied(doc: Y.Doc, update: Uint8Array): string[] {
	let seen: string[] = [];
	const listener = (u: Uint8Array) => (seen = addedMessages(doc, u).map((m) => m.id));
	doc.on('update', listener);
	Y.applyUpdate(doc, update);
	doc.off('update', listener);
	return seen;
}

describe('addedMessages', () => {
	it('lists the message records an update inserted, and only those', () => {
		const remote = new Y.Doc();
		const local = new Y.Doc();
		remote.getArray('messages').push([msg('m1', 'bea', at(1))]);
		expect(applied(local, Y.encodeStateAsUpdate(remote))).toEqual(['m1']);

		const before = Y.encodeStateVector(local);
		remote.transact(() => {
			remote.getArray('messages').push([msg('m2', 'bea', at(2)), msg('r1', 'bea', at(3), 'reply', 'm1')]);
			remote.getArray('edits').push([edit('m1', 'bea', at(4), 'edited')]);
		});
		expect(applied(local, Y.encodeStateAsUpdate(remote, before))).toEqual(['m2', 'r1']);
	});

	it('ignores records put elsewhere, malformed entries and bytes that do not decode', () => {
		const remote = new Y.Doc();
		const local = new Y.Doc();
		remote.getMap('answers').set('x', msg('a1', 'bea', at(1)));
		remote.getArray('messages').push([{ id: 'broken' }]);
		expect(applied(local, Y.encodeStateAsUpdate(remote))).toEqual([]);
		expect(addedMessages(local, new Uint8Array([1, 2, 3]))).toEqual([]);
	});
});

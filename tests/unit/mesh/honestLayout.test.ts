/**
 * Updates laid out as no honest encoder lays one out (found in review): a client in two
 * sections, of which Yjs applies only the last, and a struct of length 0, which moves no clock.
 * The check, the write policies and the pass-through of checked bytes (emitChecked.ts) must
 * not read structs Yjs never applies, nor hand on a no-op that would go round a mesh.
 */
import { describe, expect, it } from 'vitest';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import { addedMessages } from '../../../src/lib/doc/addedMessages';
import { checkChannelUpdate } from '../../../src/lib/doc/channelPolicy';
import { decodeUpdateShared, laidOutHonestly } from '../../../src/lib/doc/decodedUpdate';
import { applicablePart, applyRemoteUpdate } from '../../../src/lib/mesh/updateCheck';
import { at, msg } from '../doc/helpers';

const X = 1000;
const OTHER = 500;

/** One client's section (its structs, without the header's count or the delete set). */
function sectionOf(client: number, write: (doc: Y.Doc) => void): Uint8Array {
	const doc = new Y.Doc();
	doc.clientID = client;
	write(doc);
	const update = Y.encodeStateAsUpdate(doc);
	return update.subarray(1, update.length - 1); // one section, an empty delete set
}

function concat(parts: Uint8Array[]): Uint8Array {
	const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
	let offset = 0;
	for (const part of parts) {
		out.set(part, offset);
		offset += part.length;
	}
	return out;
}

/** [X: ghost] [OTHER: other] [X: shown]: Yjs keeps X's last section only. */
function twoSectionsOfOneClient(): Uint8Array {
	const ghost = sectionOf(X, (d) => d.getArray('messages').push([msg('ghost', 'mallory', at(1), '@everyone ghost')]));
	const other = sectionOf(OTHER, (d) => d.getArray('messages').push([msg('other', 'mallory', at(2))]));
	const shown = sectionOf(X, (d) => d.getArray('messages').push([msg('shown', 'mallory', at(3))]));
	return concat([Uint8Array.of(3), ghost, other, shown, Uint8Array.of(0)]);
}

/** A map entry of `client` at clock 0, set without neighbours under `root`. */
function mapEntry(e: encoding.Encoder, client: number, root: string, key: string, value: string): void {
	encoding.writeVarUint(e, 1);
	encoding.writeVarUint(e, client);
	encoding.writeVarUint(e, 0);
	encoding.writeUint8(e, 0x28); // Any content, a parentSub, no origins
	encoding.writeVarUint(e, 1);
	encoding.writeVarString(e, root);
	encoding.writeVarString(e, key);
	encoding.writeVarUint(e, 1);
	encoding.writeAny(e, value);
}

/** [X: answers.q] [OTHER: a Y.Map placed after X@0] [X: moderation.k]: checked next to the first, applied next to the last. */
function misplacedNeighbour(): Uint8Array {
	const e = encoding.createEncoder();
	encoding.writeVarUint(e, 3);
	mapEntry(e, X, 'answers', 'q', 'x');
	encoding.writeVarUint(e, 1);
	encoding.writeVarUint(e, OTHER);
	encoding.writeVarUint(e, 0);
	encoding.writeUint8(e, 0x87); // type content, an origin
	encoding.writeVarUint(e, X);
	encoding.writeVarUint(e, 0);
	encoding.writeVarUint(e, 1); // a Y.Map
	mapEntry(e, X, 'moderation', 'k', 'ok');
	encoding.writeVarUint(e, 0);
	return encoding.toUint8Array(e);
}

/** One GC range of length 0 at `client`'s `clock`. */
function emptyStruct(client: number, clock: number): Uint8Array {
	const e = encoding.createEncoder();
	for (const n of [1, 1, client, clock]) encoding.writeVarUint(e, n);
	encoding.writeUint8(e, 0); // GC
	encoding.writeVarUint(e, 0); // of length 0
	encoding.writeVarUint(e, 0); // no deletions
	return encoding.toUint8Array(e);
}

/** A channel replica holding one message of client 5. */
function channel(): Y.Doc {
	const author = new Y.Doc();
	author.clientID = 5;
	author.getArray('messages').push([msg('m1', 'bea', at(1))]);
	const doc = new Y.Doc();
	Y.applyUpdate(doc, Y.encodeStateAsUpdate(author));
	return doc;
}

describe('updates laid out as no honest encoder lays one out', () => {
	it('every honest layout passes: transactions, states, merges and diffs', () => {
		const doc = new Y.Doc();
		const updates: Uint8Array[] = [];
		doc.on('update', (update: Uint8Array) => updates.push(update));
		for (let i = 0; i < 5; i++) {
			doc.clientID = 10 + i; // several clients, as sessions of one document
			doc.getText('t').insert(0, `w${i}`);
			doc.getArray('a').push([i]);
		}
		doc.getText('t').delete(0, 2);
		updates.push(Y.encodeStateAsUpdate(doc), Y.mergeUpdates(updates), Y.diffUpdate(Y.encodeStateAsUpdate(doc), Y.encodeStateVector(new Y.Doc())));
		for (const update of updates) expect(laidOutHonestly(update, decodeUpdateShared(update))).toBe(true);
	});

	it('refuses a client in two sections: the check and the channel policy', () => {
		const doc = channel();
		const update = twoSectionsOfOneClient();
		expect(applicablePart(update, Y.encodeStateVector(doc))).toBeUndefined();
		expect(checkChannelUpdate(doc, update)).toBeDefined();
	});

	it('refuses the neighbour checked in one section and applied next to another', () => {
		const doc = new Y.Doc();
		const update = misplacedNeighbour();
		expect(applicablePart(update, Y.encodeStateVector(doc))).toBeUndefined();
		expect(checkChannelUpdate(doc, update)).toBeDefined();
	});

	it("applied anyway, hands listeners Yjs's encoding of what integrated, never the ghost", () => {
		const doc = new Y.Doc();
		const update = twoSectionsOfOneClient();
		let added: string[] = [];
		doc.on('update', (handed: Uint8Array) => {
			expect(handed).not.toBe(update);
			added = addedMessages(doc, handed).map((m) => m.id);
		});
		applyRemoteUpdate(doc, update, 'peer');
		const held = doc.getArray<{ id: string }>('messages').toArray().map((m) => m.id);
		expect(held.sort()).toEqual(['other', 'shown']);
		expect(added.sort()).toEqual(['other', 'shown']);
	});

	it('refuses a struct of length 0, and applied anyway hands on nothing, so it cannot go round a mesh', () => {
		const doc = channel();
		const noop = emptyStruct(5, 1);
		expect(applicablePart(noop, Y.encodeStateVector(doc))).toBeUndefined();
		expect(checkChannelUpdate(doc, noop)).toBeDefined();
		const handed: Uint8Array[] = [];
		doc.on('update', (update: Uint8Array) => handed.push(update));
		applyRemoteUpdate(doc, noop, 'peer');
		expect(handed).toHaveLength(0);
	});
});

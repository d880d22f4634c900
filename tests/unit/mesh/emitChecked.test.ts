/**
 * A remote update's own bytes handed to the document's update listeners (emitChecked.ts) only
 * where they stand exactly for what the document integrated; Yjs's encoding (or nothing)
 * everywhere else. A store or peer handed bytes that bring less, more, or nothing would lose
 * edits, keep junk, or pass a no-op round a mesh.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { applyRemoteUpdate } from '../../../src/lib/mesh/updateCheck';
import { deleteOnly } from '../../fixtures/deleteOnly';

/** A writer and a receiver whose update listener records what it is handed. */
function pair() {
	const writer = new Y.Doc();
	const receiver = new Y.Doc();
	const sent: Uint8Array[] = [];
	const handed: { update: Uint8Array; origin: unknown }[] = [];
	writer.on('update', (update: Uint8Array) => sent.push(update));
	receiver.on('update', (update: Uint8Array, origin: unknown) => handed.push({ update, origin }));
	return { writer, receiver, sent, handed };
}

/** The text a fresh document holds after applying `updates`. */
function textFrom(updates: Uint8Array[]): string {
	const doc = new Y.Doc();
	for (const update of updates) Y.applyUpdate(doc, update);
	return doc.getText('t').toString();
}

describe('applyRemoteUpdate hands listeners the checked bytes', () => {
	it('hands a live insert and a live deletion over as the same bytes, once, with the origin', () => {
		const { writer, receiver, sent, handed } = pair();
		writer.getText('t').insert(0, 'hello');
		writer.getText('t').delete(1, 2);
		for (const update of sent) applyRemoteUpdate(receiver, update, 'session');
		expect(handed.map((h) => h.update)).toEqual(sent);
		expect(handed.every((h, i) => h.update === sent[i] && h.origin === 'session')).toBe(true);
		expect(receiver.getText('t').toString()).toBe('hlo');
		expect(textFrom(handed.map((h) => h.update))).toBe('hlo');
	});

	it("hands Yjs's encoding of what is new when the update repeats what the document holds", () => {
		const { writer, receiver, handed } = pair();
		writer.getText('t').insert(0, 'ab');
		Y.applyUpdate(receiver, Y.encodeStateAsUpdate(writer));
		const before = Y.encodeStateAsUpdate(receiver);
		handed.length = 0;
		writer.getText('t').insert(2, 'cd');
		const whole = Y.encodeStateAsUpdate(writer); // 'ab' again, then 'cd'
		applyRemoteUpdate(receiver, whole, 'session');
		expect(handed).toHaveLength(1);
		expect(handed[0]!.update).not.toBe(whole);
		expect(receiver.getText('t').toString()).toBe('abcd');
		expect(textFrom([before, handed[0]!.update])).toBe('abcd');
	});

	it('hands nothing on for a deletion of what is already deleted (a no-op would go round a mesh)', () => {
		const { writer, receiver, sent, handed } = pair();
		writer.getText('t').insert(0, 'abc');
		writer.getText('t').delete(0, 1);
		for (const update of sent) applyRemoteUpdate(receiver, update, 'session');
		expect(handed).toHaveLength(2);
		applyRemoteUpdate(receiver, sent[1]!, 'session'); // the same deletion again
		expect(handed).toHaveLength(2);
	});

	it("drops bytes after the update's end: listeners get Yjs's encoding, without them", () => {
		const { writer, receiver, sent, handed } = pair();
		writer.getText('t').insert(0, 'x');
		const padded = new Uint8Array(sent[0]!.length + 1000);
		padded.set(sent[0]!);
		padded.fill(7, sent[0]!.length);
		applyRemoteUpdate(receiver, padded, 'session');
		expect(handed).toHaveLength(1);
		expect(handed[0]!.update.length).toBeLessThanOrEqual(sent[0]!.length);
		expect(receiver.getText('t').toString()).toBe('x');
	});

	it("hands on Yjs's encoding of an update the one-loop reader leaves to Yjs (formatted text)", () => {
		const { writer, receiver, sent, handed } = pair();
		writer.getText('t').insert(0, 'bold', { bold: true });
		applyRemoteUpdate(receiver, sent[0]!, 'session');
		expect(handed).toHaveLength(1);
		expect(handed[0]!.update).not.toBe(sent[0]);
		const copy = new Y.Doc();
		Y.applyUpdate(copy, handed[0]!.update);
		expect(copy.getText('t').toDelta()).toEqual([{ insert: 'bold', attributes: { bold: true } }]);
	});

	it('keeps nothing pending, and hands on nothing of a deletion the document cannot place', () => {
		const { writer, receiver, handed } = pair();
		writer.getText('t').insert(0, 'abc');
		const ahead = deleteOnly(writer.clientID, 0, 2);
		applyRemoteUpdate(receiver, ahead, 'session'); // names clocks the receiver does not hold
		expect(handed).toHaveLength(0);
		expect(receiver.store.pendingDs).toBeNull();
	});

	it("still hands on a listener's own edits made while the update is applied, encoded by Yjs", () => {
		const { writer, receiver, sent, handed } = pair();
		receiver.getText('t').observe((event) => {
			if (!event.transaction.local) receiver.getText('t').insert(0, '>'); // a new transaction in the cleanup
		});
		writer.getText('t').insert(0, 'hi');
		applyRemoteUpdate(receiver, sent[0]!, 'session');
		expect(handed.map((h) => h.origin)).toEqual(['session', null]);
		expect(handed[0]!.update).toBe(sent[0]);
		expect(textFrom(handed.map((h) => h.update))).toBe('>hi');
		// And the listeners are all back for the next update.
		writer.getText('t').insert(2, '!');
		applyRemoteUpdate(receiver, sent[1]!, 'session');
		expect(handed).toHaveLength(4);
		expect(textFrom(handed.map((h) => h.update))).toBe(receiver.getText('t').toString());
	});

	it('lets Yjs see the listeners again when one throws (the apply throws, as with Yjs)', () => {
		const { writer, receiver, sent, handed } = pair();
		receiver.on('update', () => {
			throw new Error('listener failed');
		});
		writer.getText('t').insert(0, 'a');
		expect(() => applyRemoteUpdate(receiver, sent[0]!, 'session')).toThrow('listener failed');
		expect(handed.map((h) => h.update)).toEqual(sent);
		expect(receiver._observers.has('update')).toBe(true);
	});

	it('keeps listeners added and removed meanwhile: a once-listener is called once', () => {
		const { writer, receiver, sent, handed } = pair();
		const once: Uint8Array[] = [];
		const late: Uint8Array[] = [];
		receiver.once('update', (update: Uint8Array) => {
			once.push(update);
			receiver.on('update', (next: Uint8Array) => late.push(next));
		});
		writer.getText('t').insert(0, 'a');
		writer.getText('t').insert(1, 'b');
		writer.getText('t').insert(2, 'c');
		for (const update of sent) applyRemoteUpdate(receiver, update, 'session');
		expect(once).toEqual([sent[0]]);
		expect(late).toEqual([sent[1], sent[2]]);
		expect(handed.map((h) => h.update)).toEqual(sent);
	});

	it('applies an update a listener applies to the same document meanwhile', () => {
		const { writer, receiver, sent, handed } = pair();
		writer.getText('t').insert(0, 'a');
		writer.getText('t').insert(1, 'b');
		let nested = false;
		receiver.on('update', () => {
			if (nested) return;
			nested = true;
			applyRemoteUpdate(receiver, sent[1]!, 'nested');
		});
		applyRemoteUpdate(receiver, sent[0]!, 'session');
		expect(receiver.getText('t').toString()).toBe('ab');
		expect(handed.map((h) => h.origin).sort()).toEqual(['nested', 'session']);
		expect(textFrom(handed.map((h) => h.update))).toBe('ab');
	});
});

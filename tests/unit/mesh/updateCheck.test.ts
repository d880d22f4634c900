/**
 * The update check: honest updates of every kind pass, including merged updates and full
 * states whose structs the target holds in part; of bit-flipped updates that still decode,
 * every part the check accepts applies cleanly to the real document, and most of those it
 * refuses would have thrown there.
 */
import { describe, expect, it } from 'vitest';
import { deleteOnly } from '../../fixtures/deleteOnly';
import * as Y from 'yjs';
import { applicablePart, applyRemoteUpdate, clocksOfDoc, integratesAtOnce, isApplicableUpdate, MAX_PENDING_BYTES, pendingBytes } from '../../../src/lib/mesh/updateCheck';
import { mulberry32 } from '../../fixtures/random';

/** Applies a few random edits of every shared type to `doc`. */
function edit(doc: Y.Doc, random: () => number, n: number): void {
	const text = doc.getText('t');
	const map = doc.getMap('m');
	const array = doc.getArray<unknown>('a');
	for (let i = 0; i < n; i++) {
		const r = random();
		if (r < 0.3) text.insert(Math.floor(random() * (text.length + 1)), `w${i} `, random() < 0.2 ? { bold: true } : undefined);
		else if (r < 0.4 && text.length > 2) text.delete(Math.floor(random() * (text.length - 1)), 1);
		else if (r < 0.55) map.set(`k${Math.floor(random() * 5)}`, random() < 0.5 ? i : { nested: [i, 'x'] });
		else if (r < 0.6) map.delete(`k${Math.floor(random() * 5)}`);
		else if (r < 0.75) array.insert(Math.floor(random() * (array.length + 1)), [i, `s${i}`]);
		else if (r < 0.8 && array.length > 0) array.delete(Math.floor(random() * array.length), 1);
		else if (r < 0.9) {
			const sub = new Y.Map<unknown>();
			sub.set('v', i);
			array.push([sub]);
		} else {
			const xml = doc.getXmlFragment('x');
			const el = new Y.XmlElement('p');
			el.insert(0, [new Y.XmlText(`t${i}`)]);
			xml.insert(xml.length, [el]);
		}
	}
}

describe('isApplicableUpdate', () => {
	it('passes every honest update, incremental or full, against any state vector', () => {
		for (let seed = 1; seed <= 200; seed++) {
			const random = mulberry32(seed);
			const a = new Y.Doc();
			const b = new Y.Doc();
			edit(a, random, 20);
			Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
			edit(b, random, 10);
			const sv = Y.encodeStateVector(b);
			edit(a, random, 20);
			const incremental = Y.encodeStateAsUpdate(a, sv);
			expect(isApplicableUpdate(incremental, sv)).toBe(true);
			expect(isApplicableUpdate(Y.encodeStateAsUpdate(a), sv)).toBe(true);
			expect(isApplicableUpdate(Y.encodeStateAsUpdate(a), Y.encodeStateVector(new Y.Doc()))).toBe(true);
			// a dependent update whose base is missing is fine too (Yjs holds it pending)
			expect(isApplicableUpdate(incremental, Y.encodeStateVector(new Y.Doc()))).toBe(true);
		}
	});

	it('passes an update whose merged struct the target holds in part (gossip merges, full states)', () => {
		const a = new Y.Doc();
		a.getText('t').insert(0, 'ab');
		const b = new Y.Doc();
		Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
		a.getText('t').insert(2, 'c'); // Yjs merges 'ab' and 'c' into one struct on a
		const sv = Y.encodeStateVector(b);
		const merged = Y.mergeUpdates([Y.encodeStateAsUpdate(a, sv), Y.encodeStateAsUpdate(a)]);
		for (const update of [Y.encodeStateAsUpdate(a), merged]) {
			expect(isApplicableUpdate(update, sv)).toBe(true);
			Y.applyUpdate(b, update);
		}
		expect(b.getText('t').toString()).toBe('abc');
	});

	it('applies cleanly every part of a decodable bit-flipped update that it accepts', () => {
		const random = mulberry32(7);
		let decodable = 0;
		let threw = 0;
		let refused = 0;
		for (let i = 0; i < 3000; i++) {
			const a = new Y.Doc();
			edit(a, random, 8);
			const target = new Y.Doc();
			Y.applyUpdate(target, Y.encodeStateAsUpdate(a));
			const sv = Y.encodeStateVector(target);
			edit(a, random, 8);
			const update = random() < 0.5 ? Y.encodeStateAsUpdate(a, sv) : Y.encodeStateAsUpdate(a);
			const bad = update.slice();
			for (let k = 1 + Math.floor(random() * 3); k > 0; k--) bad[Math.floor(random() * bad.length)] ^= 1 << Math.floor(random() * 8);
			try {
				Y.decodeUpdate(bad);
			} catch {
				continue;
			}
			decodable++;
			const part = applicablePart(bad, sv);
			if (part === undefined) {
				refused++;
				// For the record: how many of the refused would have thrown on the real document.
				try {
					Y.applyUpdate(target, bad);
				} catch {
					threw++;
				}
				continue;
			}
			// What the check accepts is what gets applied, and it applies cleanly.
			expect(() => Y.applyUpdate(target, part)).not.toThrow();
		}
		console.info(`bit-flipped updates that decode: ${decodable}; refused by the check: ${refused}, of which ${threw} throw on the real document; every accepted part applied cleanly`);
		expect(threw).toBeGreaterThan(10);
	}, 90_000); // CPU-bound, 5–10 s alone; a loaded 2-core CI machine once took 26 s
});

/** Whether the check would take `update` without its scratch document, against `target`'s clocks. */
function atOnce(update: Uint8Array, target: Y.Doc): boolean {
	const { structs, ds } = Y.decodeUpdate(update);
	return integratesAtOnce(update, structs, ds, clocksOfDoc(target));
}

/** `target`'s clock per client and whether it holds anything pending. */
function stateOf(target: Y.Doc): { clocks: Map<number, number>; pending: boolean } {
	return { clocks: Y.decodeStateVector(Y.encodeStateVector(target)), pending: target.store.pendingStructs !== null || target.store.pendingDs !== null };
}

describe('updates taken without the scratch document', () => {
	it('takes every honest live update that carries structs, of every shared type', () => {
		let taken = 0;
		for (let seed = 1; seed <= 100; seed++) {
			const random = mulberry32(seed);
			const a = new Y.Doc();
			const b = new Y.Doc();
			edit(a, random, 10);
			Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
			edit(b, random, 5);
			Y.applyUpdate(a, Y.encodeStateAsUpdate(b));
			const updates: Uint8Array[] = [];
			a.on('update', (update: Uint8Array) => updates.push(update));
			for (let i = 0; i < 20; i++) a.transact(() => edit(a, random, 1 + Math.floor(random() * 3)));
			for (const update of updates) {
				if (Y.decodeUpdate(update).structs.length > 0) {
					expect(atOnce(update, b)).toBe(true);
					taken++;
				}
				Y.applyUpdate(b, update);
			}
			expect(b.getText('t').toString()).toBe(a.getText('t').toString());
		}
		expect(taken).toBeGreaterThan(1500);
	});

	it('leaves to the scratch document what depends on a missing update, repeats what the target holds, or arrives whole', () => {
		const a = new Y.Doc();
		const text = a.getText('t');
		text.insert(0, 'hello');
		const first = Y.encodeStateAsUpdate(a);
		const sv = Y.encodeStateVector(a);
		text.insert(5, ' world');
		const second = Y.encodeStateAsUpdate(a, sv);
		const empty = new Y.Doc();
		expect(atOnce(second, empty)).toBe(false); // its first struct starts past the target's clock
		const b = new Y.Doc();
		Y.applyUpdate(b, first);
		expect(atOnce(second, b)).toBe(true);
		expect(atOnce(first, b)).toBe(false); // held already: not contiguous from the target's clock
		// Two sections for one client: Yjs applies the last only, so the decoded structs are not what is applied.
		expect(atOnce(Y.mergeUpdates([first, second]), empty)).toBe(true);
		// Both updates have one section and no deletions: [1, section, 0].
		const twoSections = new Uint8Array([2, ...first.subarray(1, -1), ...second.subarray(1, -1), 0]);
		expect(Y.decodeUpdate(twoSections).structs).toHaveLength(2); // decoded as contiguous...
		expect(atOnce(twoSections, empty)).toBe(false);
		const applied = new Y.Doc();
		Y.applyUpdate(applied, twoSections);
		expect(applied.store.pendingStructs).not.toBeNull(); // ...but Yjs applies the second section alone
		// A subdocument, and a deletion of what the target does not hold: the scratch document decides.
		const c = new Y.Doc();
		c.getArray('a').insert(0, [new Y.Doc()]);
		expect(atOnce(Y.encodeStateAsUpdate(c), new Y.Doc())).toBe(false);
		const deleting = Y.encodeStateAsUpdate(b, Y.encodeStateVector(b)); // no structs, b's whole delete set
		expect(Y.decodeUpdate(deleting).structs).toHaveLength(0);
		b.getText('t').delete(0, 2);
		const deletion = Y.encodeStateAsUpdate(b, Y.encodeStateVector(b));
		expect(atOnce(deletion, new Y.Doc())).toBe(false);
		expect(atOnce(deletion, b)).toBe(true);
	});

	it('of bit-flipped live updates, applies every one it takes at once to the real document in full, with nothing pending', () => {
		const random = mulberry32(11);
		let taken = 0;
		let other = 0;
		for (let i = 0; i < 4000; i++) {
			const a = new Y.Doc();
			edit(a, random, 8);
			const target = new Y.Doc();
			Y.applyUpdate(target, Y.encodeStateAsUpdate(a));
			const sv = Y.encodeStateVector(target);
			edit(a, random, 1 + Math.floor(random() * 4));
			const bad = Y.encodeStateAsUpdate(a, sv).slice();
			for (let k = 1 + Math.floor(random() * 2); k > 0; k--) bad[Math.floor(random() * bad.length)]! ^= 1 << Math.floor(random() * 8);
			let decoded;
			try {
				decoded = Y.decodeUpdate(bad);
			} catch {
				continue;
			}
			if (!integratesAtOnce(bad, decoded.structs, decoded.ds, clocksOfDoc(target))) {
				other++;
				continue;
			}
			taken++;
			const before = stateOf(target);
			expect(() => Y.applyUpdate(target, bad)).not.toThrow();
			const after = stateOf(target);
			expect(after.pending).toBe(false);
			// Every struct decoded was integrated: each client's clock moved to its last struct's end.
			for (const struct of decoded.structs) {
				expect(after.clocks.get(struct.id.client)).toBeGreaterThanOrEqual(struct.id.clock + struct.length);
			}
			expect(before.pending).toBe(false);
			expect(applicablePart(bad, sv)).toBeDefined();
		}
		console.info(`bit-flipped live updates that decode: ${taken} taken at once (each applied in full), ${other} left to the scratch document`);
		expect(taken).toBeGreaterThan(200);
		expect(other).toBeGreaterThan(100);
	});
});

describe('pending structs', () => {
	/** Updates of one writer, in order: the first gives the document its start, each later one depends on the one before. */
	function chain(sizes: number[]): Uint8Array[] {
		const source = new Y.Doc();
		const text = source.getText('t');
		return sizes.map((size) => {
			const before = Y.encodeStateVector(source);
			text.insert(text.length, 'x'.repeat(size));
			return Y.encodeStateAsUpdate(source, before);
		});
	}

	it('refuses an update that would leave more than 1 MiB waiting for updates the target lacks', () => {
		const [, small, large] = chain([10, 100_000, MAX_PENDING_BYTES + 10]);
		const empty = Y.encodeStateVector(new Y.Doc());
		expect(applicablePart(small!, empty)).toBeDefined(); // pending, within the bound
		expect(applicablePart(large!, empty)).toBeUndefined();
		expect(applicablePart(Y.mergeUpdates(chain([10, MAX_PENDING_BYTES + 10])), empty)).toBeDefined(); // nothing missing: nothing pending
	});

	it('keeps nothing pending after a remote update; what was dropped comes again and integrates', () => {
		const [first, ...later] = chain([10, 600, 600, 600]);
		const doc = new Y.Doc();
		for (const update of later) {
			expect(applyRemoteUpdate(doc, update, 'peer')).toBeGreaterThan(0); // waits for `first`: dropped
			expect(pendingBytes(doc)).toBe(0);
		}
		expect(doc.getText('t').length).toBe(0);
		// The gap filled, the rest sent again (a sync asks for everything past the state vector): whole.
		expect(applyRemoteUpdate(doc, first!, 'peer')).toBe(0);
		for (const update of later) expect(applyRemoteUpdate(doc, update, 'peer')).toBe(0);
		expect(doc.getText('t').length).toBe(10 + 3 * 600);
	});

	it('drops a deletion range past what the document holds, so it never deletes what arrives later (found in review)', () => {
		const victim = new Y.Doc();
		const messages = victim.getArray<string>('messages');
		messages.push(['first']);
		const replica = new Y.Doc();
		applyRemoteUpdate(replica, Y.encodeStateAsUpdate(victim), 'peer');
		// A delete set naming the victim's next clocks: nothing of it is held yet.
		const future = deleteOnly(victim.clientID, Y.getState(victim.store, victim.clientID), 1_000_000);
		expect(applyRemoteUpdate(replica, future, 'attacker')).toBeGreaterThan(0);
		const before = Y.encodeStateVector(victim);
		messages.push(['second']);
		applyRemoteUpdate(replica, Y.encodeStateAsUpdate(victim, before), 'peer');
		expect(replica.getArray('messages').toArray()).toEqual(['first', 'second']);
		// And a full state of that replica carries no deletion a peer would refuse.
		expect(Y.decodeUpdate(Y.encodeStateAsUpdate(replica)).ds.clients.size).toBe(0);
	});
});

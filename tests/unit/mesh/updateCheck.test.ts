/**
 * The update check: honest updates of every kind pass, including merged updates and full
 * states whose structs the target holds in part; of bit-flipped updates that still decode,
 * every part the check accepts applies cleanly to the real document, and most of those it
 * refuses would have thrown there.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { applicablePart, boundPending, isApplicableUpdate, MAX_PENDING_BYTES, pendingBytes } from '../../../src/lib/mesh/updateCheck';
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

	it('drops what a document holds pending beyond the bound; the updates can come again', () => {
		const [first, ...later] = chain([10, 600_000, 600_000, 600_000]);
		const doc = new Y.Doc();
		const dropped: number[] = [];
		for (const update of later) {
			dropped.push(boundPending(doc));
			Y.applyUpdate(doc, update);
			expect(pendingBytes(doc)).toBeLessThanOrEqual(2 * MAX_PENDING_BYTES);
		}
		expect(dropped[0]).toBe(0);
		expect(dropped[2]).toBeGreaterThan(MAX_PENDING_BYTES); // two updates waiting: over the bound, dropped
		expect(pendingBytes(doc)).toBeLessThanOrEqual(MAX_PENDING_BYTES);
		// The gap filled, the rest sent again (a sync asks for everything past the state vector): whole.
		Y.applyUpdate(doc, first!);
		for (const update of later) Y.applyUpdate(doc, update);
		expect(doc.getText('t').length).toBe(10 + 3 * 600_000);
	});
});

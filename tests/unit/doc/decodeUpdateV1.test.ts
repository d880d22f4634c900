/**
 * The fast update reader (decodeUpdateV1.ts) against `Y.decodeUpdate`: on honest updates of
 * every shared type and content, and on bit-flipped, cut and random bytes, the two give the same
 * structs and delete set, or both throw. The write policies read what it returns, so a
 * difference would let an update pass a check it would fail with Yjs's own decoding.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { decodeUpdateV1, decodeWithLength, readsFast } from '../../../src/lib/doc/decodeUpdateV1';
import { mulberry32 } from '../../fixtures/random';

type Decoded = ReturnType<typeof Y.decodeUpdate>;

function id(x: Y.ID | null): string | null {
	return x === null ? null : `${x.client}:${x.clock}`;
}

function contentOf(content: Y.Item['content']): unknown {
	if (content instanceof Y.ContentType) return { type: content.type.constructor.name, name: (content.type as { nodeName?: string }).nodeName };
	if (content instanceof Y.ContentDoc) return { doc: content.doc?.guid };
	if (content instanceof Y.ContentFormat) return { key: content.key, value: content.value };
	if (content instanceof Y.ContentDeleted) return { deleted: content.len };
	return content.getContent();
}

/** Everything of a decoding the checks could read, as plain data. */
function describeDecoded(decoded: Decoded): unknown {
	return {
		structs: decoded.structs.map((s) => ({
			kind: s.constructor.name,
			id: id(s.id),
			length: s.length,
			...(s instanceof Y.Item
				? {
						origin: id(s.origin),
						rightOrigin: id(s.rightOrigin),
						parent: s.parent instanceof Y.ID ? { id: id(s.parent) } : (s.parent as unknown),
						parentSub: s.parentSub,
						info: s.info,
						content: { kind: s.content.constructor.name, value: contentOf(s.content), countable: s.content.isCountable() }
					}
				: {})
		})),
		ds: [...decoded.ds.clients].map(([client, ranges]) => [client, ranges.map((r) => [r.constructor.name, r.clock, r.len])])
	};
}

/** What each reader gives for `bytes`: its description, or that it threw. */
function outcome(read: (bytes: Uint8Array) => Decoded, bytes: Uint8Array): unknown {
	try {
		return describeDecoded(read(bytes));
	} catch {
		return 'throws';
	}
}

/** Updates of every kind a document emits, from random edits. */
function honestUpdates(seed: number, edits: number): Uint8Array[] {
	const random = mulberry32(seed);
	const doc = new Y.Doc();
	doc.gc = random() < 0.5;
	const updates: Uint8Array[] = [];
	doc.on('update', (update: Uint8Array) => updates.push(update));
	const text = doc.getText('t');
	const map = doc.getMap<unknown>('m');
	const array = doc.getArray<unknown>('a');
	const xml = doc.getXmlFragment('x');
	for (let i = 0; i < edits; i++) {
		const r = random();
		doc.transact(() => {
			if (r < 0.25) text.insert(Math.floor(random() * (text.length + 1)), random() < 0.3 ? 'ünï😀 ' : `w${i}`, random() < 0.1 ? { bold: true } : undefined);
			else if (r < 0.35 && text.length > 2) text.delete(Math.floor(random() * (text.length - 1)), 1 + Math.floor(random() * 2));
			else if (r < 0.5) map.set(`k${Math.floor(random() * 4)}`, [i, 'x', null, true, 1.5, { a: [1, { b: 'c' }] }, new Uint8Array([1, 2]), -7][Math.floor(random() * 8)]);
			else if (r < 0.55) map.delete(`k${Math.floor(random() * 4)}`);
			else if (r < 0.62) array.insert(Math.floor(random() * (array.length + 1)), [i, `s${i}`]);
			else if (r < 0.67 && array.length > 0) array.delete(Math.floor(random() * array.length), 1);
			else if (r < 0.72) array.push([new Y.Map(), new Y.Array(), new Y.Text('in')]);
			else if (r < 0.75) array.push([new Uint8Array([i & 255, 9])]);
			else if (r < 0.8) {
				xml.push([new Y.XmlText('x'), new Y.XmlElement('p')]);
				array.push([new Y.XmlFragment()]);
			}
			else if (r < 0.83) text.insertEmbed(0, { image: `i${i}` });
			else if (r < 0.86) text.format(0, Math.min(2, text.length), { italic: random() < 0.5 ? true : null });
			else if (r < 0.88) map.set('doc', new Y.Doc({ guid: `sub${i}` }));
			else if (r < 0.9) {
				const gone = new Y.Map<unknown>();
				array.insert(0, [gone]);
				gone.set('v', i);
				array.delete(0, 1); // created and collected in one transaction: a GC range
			} else text.insert(0, `${i}`);
		});
	}
	// Merged updates (and, with a gap, skip structs), a full state and a diff.
	const gapped = Y.mergeUpdates(updates.filter((_, i) => i % 3 !== 1));
	updates.push(Y.mergeUpdates(updates), gapped, Y.encodeStateAsUpdate(doc), Y.diffUpdate(Y.encodeStateAsUpdate(doc), Y.encodeStateVector(new Y.Doc())));
	doc.destroy();
	return updates;
}

describe('decodeUpdateV1', () => {
	it('reads every honest update as Y.decodeUpdate does', () => {
		for (let seed = 1; seed <= 6; seed++) {
			for (const update of honestUpdates(seed, 120)) expect(outcome(decodeUpdateV1, update)).toEqual(outcome(Y.decodeUpdate, update));
		}
	});

	it('reads bit-flipped, cut and random bytes as Y.decodeUpdate does (or both throw)', () => {
		const random = mulberry32(99);
		const updates = honestUpdates(7, 150);
		let decodedBoth = 0;
		for (let i = 0; i < 4000; i++) {
			const base = updates[Math.floor(random() * updates.length)]!;
			let bytes: Uint8Array;
			const r = random();
			if (r < 0.6) {
				bytes = base.slice();
				const flips = 1 + Math.floor(random() * 3);
				for (let f = 0; f < flips; f++) bytes[Math.floor(random() * bytes.length)]! ^= 1 << Math.floor(random() * 8);
			} else if (r < 0.85) bytes = base.slice(0, Math.floor(random() * base.length));
			else bytes = Uint8Array.from({ length: 1 + Math.floor(random() * 40) }, () => Math.floor(random() * 256));
			const fast = outcome(decodeUpdateV1, bytes);
			expect(fast).toEqual(outcome(Y.decodeUpdate, bytes));
			if (fast !== 'throws') decodedBoth++;
		}
		expect(decodedBoth).toBeGreaterThan(500); // the mutations reached decodings, not only errors
	});

	it("gives the bytes the update's structure takes, whatever follows (Yjs ignores it)", () => {
		for (const update of honestUpdates(8, 60)) {
			if (!readsFast(update)) continue;
			expect(decodeWithLength(update).length).toBe(update.length);
			const padded = new Uint8Array(update.length + 9);
			padded.set(update);
			padded.fill(0x81, update.length);
			expect(decodeWithLength(padded).length).toBe(update.length);
		}
		const formatted = new Y.Doc();
		formatted.getText('t').insert(0, 'x', { bold: true });
		expect(decodeWithLength(Y.encodeStateAsUpdate(formatted)).length).toBeUndefined(); // a format: left to Yjs
	});

	it('reads a struct of every info byte as Y.decodeUpdate does, over a few payloads', () => {
		// One section of one struct (client 5, clock 3), then the payload, then an empty delete set.
		const payloads = [[1, 1, 't'.charCodeAt(0), 1, 65], [0, 2, 7, 0, 2, 1, 104, 105], [2, 4, 2, 0], [1, 0], [3, 1, 2, 3, 4], [7, 9], [0], []];
		for (let info = 0; info < 256; info++) {
			for (const payload of payloads) {
				const bytes = Uint8Array.from([1, 1, 5, 3, info, ...payload, 0]);
				expect(outcome(decodeUpdateV1, bytes), `info ${info}, payload ${payload.join(',')}`).toEqual(outcome(Y.decodeUpdate, bytes));
			}
		}
	});

	it('reads the updates of typing, deleting and setting map entries itself (the path it exists for)', () => {
		const doc = new Y.Doc();
		const updates: Uint8Array[] = [];
		doc.on('update', (update: Uint8Array) => updates.push(update));
		doc.getText('body').insert(0, 'hello wörld');
		doc.getText('body').delete(2, 3);
		doc.getMap('bindings').set('1', { doc: 'n', client: 1, device: 'd', sig: 's' });
		doc.getArray('a').push([new Y.Map()]);
		for (const update of updates) expect(readsFast(update)).toBe(true);
		// What it leaves to Yjs, which still decodes it.
		const formatted = new Y.Doc();
		formatted.getText('t').insert(0, 'x', { bold: true });
		const withFormat = Y.encodeStateAsUpdate(formatted);
		expect(readsFast(withFormat)).toBe(false);
		expect(outcome(decodeUpdateV1, withFormat)).toEqual(outcome(Y.decodeUpdate, withFormat));
	});
});

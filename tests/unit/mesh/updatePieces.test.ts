/**
 * Splitting a large update into pieces (updatePieces.ts): applied in order, the pieces give
 * exactly what the whole update gives, for documents of several clients editing text, maps,
 * arrays, nested types, XML and formatting, with deletions, as full states and as diffs; each
 * piece integrates at once (nothing left pending when the update is complete); pieces stay
 * within their size; bytes that do not scan throw UnreadableUpdateError and nothing else.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { splitUpdate, UnreadableUpdateError } from '../../../src/lib/mesh/updatePieces';
import { mulberry32 } from '../../fixtures/random';

const noPause = () => Promise.resolve();

/** Three replicas editing at random, syncing now and then; returns them. */
function editedDocs(seed: number, steps: number): Y.Doc[] {
	const random = mulberry32(seed);
	const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
	const docs = [1, 2, 3].map((client) => {
		const doc = new Y.Doc();
		doc.clientID = seed * 10 + client;
		return doc;
	});
	for (let step = 0; step < steps; step++) {
		const doc = pick(docs);
		const text = doc.getText('text');
		const r = random();
		if (r < 0.3) text.insert(Math.floor(random() * (text.length + 1)), pick(['a', 'bc', 'déf', '漢字', '😀', 'word ']));
		else if (r < 0.4 && text.length > 2) text.delete(Math.floor(random() * (text.length - 1)), 1 + Math.floor(random() * 2));
		else if (r < 0.45 && text.length > 2) text.format(0, 2, { bold: random() < 0.5 ? true : null });
		else if (r < 0.55) doc.getMap('map').set(pick(['a', 'b', 'c', 'd']), pick([1, 'two', { three: [3] }, null, new Uint8Array([1, 2])]));
		else if (r < 0.6) doc.getMap('map').delete(pick(['a', 'b', 'c', 'd']));
		else if (r < 0.7) {
			const nested = new Y.Map<unknown>();
			doc.getArray<Y.Map<unknown>>('list').insert(0, [nested]);
			nested.set('n', step);
		} else if (r < 0.75) {
			const list = doc.getArray<Y.Map<unknown>>('list');
			const first = list.length > 0 ? list.get(0) : undefined;
			if (first instanceof Y.Map) first.set('edited', step);
		} else if (r < 0.8) {
			const list = doc.getArray('list');
			if (list.length > 0) list.delete(Math.floor(random() * list.length), 1);
		} else if (r < 0.85) {
			const element = new Y.XmlElement('p');
			doc.getXmlFragment('xml').insert(0, [element]);
			element.insert(0, [new Y.XmlText(`x${step}`)]);
		} else {
			// Sync two replicas both ways.
			const other = pick(docs);
			Y.applyUpdate(other, Y.encodeStateAsUpdate(doc, Y.encodeStateVector(other)));
			Y.applyUpdate(doc, Y.encodeStateAsUpdate(other, Y.encodeStateVector(doc)));
		}
	}
	// Everyone's edits in the first replica.
	for (const other of docs.slice(1)) Y.applyUpdate(docs[0]!, Y.encodeStateAsUpdate(other));
	return docs;
}

function content(doc: Y.Doc) {
	return {
		text: doc.getText('text').toDelta(),
		map: doc.getMap('map').toJSON(),
		list: doc.getArray('list').toJSON(),
		xml: doc.getXmlFragment('xml').toString()
	};
}

describe('splitting an update into pieces', () => {
	it('gives what the whole update gives, each piece integrating at once, for many seeds', async () => {
		for (let seed = 1; seed <= 30; seed++) {
			const [doc] = editedDocs(seed, 400);
			const update = Y.encodeStateAsUpdate(doc!);
			const maxBytes = 64 + (seed % 5) * 100;
			const pieces = await splitUpdate(update, maxBytes, noPause);
			expect(pieces.length).toBeGreaterThan(1);
			const whole = new Y.Doc();
			Y.applyUpdate(whole, update);
			const pieced = new Y.Doc();
			for (const piece of pieces) {
				Y.applyUpdate(pieced, piece);
				expect(pieced.store.pendingStructs, `seed ${seed}: a piece left structs pending`).toBeNull();
			}
			expect(content(pieced)).toEqual(content(whole));
			expect(Y.encodeStateVector(pieced)).toEqual(Y.encodeStateVector(whole));
			expect(Y.encodeStateAsUpdate(pieced)).toEqual(Y.encodeStateAsUpdate(whole));
		}
	});

	it('splits a diff against a replica that holds part of the document', async () => {
		for (let seed = 31; seed <= 45; seed++) {
			const [full, partial] = editedDocs(seed, 300);
			const update = Y.encodeStateAsUpdate(full!, Y.encodeStateVector(partial!));
			const expected = new Y.Doc();
			Y.applyUpdate(expected, Y.encodeStateAsUpdate(partial!));
			Y.applyUpdate(expected, update);
			const target = new Y.Doc();
			Y.applyUpdate(target, Y.encodeStateAsUpdate(partial!));
			for (const piece of await splitUpdate(update, 80, noPause)) Y.applyUpdate(target, piece);
			expect(content(target)).toEqual(content(expected));
			expect(target.store.pendingStructs).toBeNull();
		}
	});

	it('keeps pieces within their size unless one struct is larger, and a small update whole', async () => {
		const doc = new Y.Doc();
		const map = doc.getMap('m');
		doc.transact(() => {
			for (let i = 0; i < 5000; i++) map.set(`key-${i}`, { text: 'x'.repeat(100), i });
		});
		doc.getText('big').insert(0, 'y'.repeat(50_000)); // one struct of 50 kB
		const update = Y.encodeStateAsUpdate(doc);
		const pieces = await splitUpdate(update, 16 * 1024, noPause);
		const overhead = 64;
		const large = pieces.filter((p) => p.byteLength > 16 * 1024 + overhead);
		expect(large).toHaveLength(1);
		expect(large[0]!.byteLength).toBeLessThan(50_000 + 16 * 1024 + overhead);
		const pieced = new Y.Doc();
		for (const piece of pieces) Y.applyUpdate(pieced, piece);
		expect(pieced.getMap('m').size).toBe(5000);
		expect(pieced.getText('big').length).toBe(50_000);
		const small = Y.encodeStateAsUpdate(new Y.Doc());
		expect(await splitUpdate(small, 16 * 1024, noPause)).toEqual([small]);
	});

	it('pauses while it scans a large update', async () => {
		const doc = new Y.Doc();
		doc.transact(() => {
			for (let i = 0; i < 20_000; i++) doc.getMap('m').set(`k${i}`, i);
		});
		let pauses = 0;
		await splitUpdate(Y.encodeStateAsUpdate(doc), 1024, () => {
			pauses++;
			return Promise.resolve();
		});
		expect(pauses).toBeGreaterThanOrEqual(4);
	});

	it('throws UnreadableUpdateError, and nothing else, for bytes that do not scan', async () => {
		const [doc] = editedDocs(99, 300);
		const update = Y.encodeStateAsUpdate(doc!);
		const random = mulberry32(7);
		let refused = 0;
		for (let trial = 0; trial < 300; trial++) {
			const bad = update.slice(0, 50 + Math.floor(random() * (update.length - 50)));
			if (trial % 2 === 0) for (let k = 0; k < 5; k++) bad[Math.floor(random() * bad.length)] = Math.floor(random() * 256);
			try {
				await splitUpdate(bad, 64, noPause);
			} catch (error) {
				expect(error).toBeInstanceOf(UnreadableUpdateError);
				refused++;
			}
		}
		expect(refused).toBeGreaterThan(100);
		// A count of structs beyond the bytes is refused before anything is allocated for it.
		const lying = new Uint8Array([1, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 0, ...new Array(200).fill(0)]);
		await expect(splitUpdate(lying, 64, noPause)).rejects.toBeInstanceOf(UnreadableUpdateError);
	});
});

/**
 * The update check reuses its scratch document between checks (updateCheck.ts). Reused, it
 * must answer exactly as a fresh document per check does: the reference
 * (tests/fixtures/updateCheckReference.ts) is the check as it was before reuse. Long interleaved sequences of honest, dependent (pending), damaged
 * and subdocument updates are checked by both (also against a document of many clients, read
 * through a clock lookup: the check then seeds only the clients an update names), and a pair of updates is built whose answer
 * changes when anything of one check (here its pending structs) leaks into the next. Updates
 * not laid out as honest encoders lay one out (a client in two sections, an empty section or
 * struct: decodedUpdate.ts `laidOutHonestly`) are refused before the reference's checks.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { laidOutHonestly } from '../../../src/lib/doc/decodedUpdate';
import { applicablePart, clocksOfDoc } from '../../../src/lib/mesh/updateCheck';
import { mulberry32 } from '../../fixtures/random';
import { referencePart } from '../../fixtures/updateCheckReference';

const EMPTY = Y.encodeStateVector(new Y.Doc());

/** Random edits; the same root names hold different types across documents on purpose. */
function edit(doc: Y.Doc, random: () => number, n: number): void {
	for (let i = 0; i < n; i++) {
		const r = random();
		const name = `r${Math.floor(random() * 3)}`;
		try {
			if (r < 0.3) doc.getText(name).insert(0, `w${i}`, random() < 0.2 ? { bold: true } : undefined);
			else if (r < 0.5) doc.getMap(name).set(`k${Math.floor(random() * 4)}`, random() < 0.5 ? i : new Y.Map());
			else if (r < 0.7) doc.getArray(name).push([i, { o: i }]);
			else if (r < 0.8) doc.getArray(name).push([new Y.Doc({ guid: `sub${i}` })]);
			else if (r < 0.9) {
				const text = doc.getText(name);
				if (text.length > 1) text.delete(0, 1);
			} else doc.getXmlFragment(name).insert(0, [new Y.XmlText(`x${i}`)]);
		} catch {
			// the name already holds another type in this document: skip
		}
	}
}

/** `update` with 1–3 random bits flipped, or cut short, or random bytes. */
function damage(update: Uint8Array, random: () => number): Uint8Array {
	const r = random();
	if (r < 0.1) return update.subarray(0, Math.floor(random() * update.length));
	if (r < 0.15) return Uint8Array.from({ length: 1 + Math.floor(random() * 20) }, () => Math.floor(random() * 256));
	const bad = update.slice();
	for (let k = 1 + Math.floor(random() * 3); k > 0; k--) bad[Math.floor(random() * bad.length)]! ^= 1 << Math.floor(random() * 8);
	return bad;
}

/** Whether `update` decodes and is laid out as honest encoders lay one out (the check refuses the rest first). */
function laidOut(update: Uint8Array): boolean {
	try {
		return laidOutHonestly(update, Y.decodeUpdate(update));
	} catch {
		return false;
	}
}

/** The reference's answer for an update laid out honestly; undefined (refused) for the rest. */
function reference(update: Uint8Array, stateVector: Uint8Array): Uint8Array | undefined {
	return laidOut(update) ? referencePart(update, stateVector) : undefined;
}

function expectSame(update: Uint8Array, stateVector: Uint8Array): boolean {
	const expected = reference(update, stateVector);
	const actual = applicablePart(update, stateVector);
	expect(actual === undefined ? undefined : [...actual]).toEqual(expected === undefined ? undefined : [...expected]);
	return actual !== undefined;
}

describe('applicablePart with a reused scratch document', () => {
	it('answers as a fresh scratch document does, over long interleaved sequences', () => {
		let accepted = 0;
		let refused = 0;
		for (let seed = 1; seed <= 60; seed++) {
			const random = mulberry32(seed);
			const a = new Y.Doc();
			const b = new Y.Doc();
			edit(a, random, 10);
			Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
			for (let step = 0; step < 40; step++) {
				const sv = Y.encodeStateVector(b);
				edit(a, random, 1 + Math.floor(random() * 4));
				const incremental = Y.encodeStateAsUpdate(a, sv);
				const candidates: [Uint8Array, Uint8Array][] = [
					[incremental, sv],
					[incremental, EMPTY], // dependent: held pending on the scratch document
					[Y.encodeStateAsUpdate(a), sv],
					[damage(incremental, random), sv],
					[damage(incremental, random), EMPTY],
					[damage(Y.encodeStateAsUpdate(a), random), sv]
				];
				// Shuffled, so a check that failed half-way is followed by every kind.
				for (let i = candidates.length - 1; i > 0; i--) {
					const j = Math.floor(random() * (i + 1));
					[candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!];
				}
				for (const [update, stateVector] of candidates) {
					if (expectSame(update, stateVector)) accepted++;
					else refused++;
				}
				if (random() < 0.7) Y.applyUpdate(b, incremental);
			}
		}
		expect(accepted).toBeGreaterThan(1000);
		expect(refused).toBeGreaterThan(100);
	}, 90_000); // CPU-bound, 5–10 s alone; a loaded 2-core CI machine once took 26 s

	it('answers as the scratch document does for updates with deletions only, honest and forged', () => {
		const random = mulberry32(11);
		const varUint = (n: number): number[] => {
			const out: number[] = [];
			for (; n > 127; n = Math.floor(n / 128)) out.push(128 | n % 128);
			return [...out, n];
		};
		const big = () => [0, 1, 5, 100, 2 ** 31, 2 ** 52, Number.MAX_SAFE_INTEGER][Math.floor(random() * 7)]!;
		const small = () => Math.floor(random() * 12);
		let accepted = 0;
		let refused = 0; // among them empty ranges beyond a clock, which the scratch document refuses
		for (let i = 0; i < 3000; i++) {
			// Struct section: no clients, or clients with zero structs (forged); then a delete set.
			const bytes: number[] = [];
			const emptyClients = random() < 0.7 ? 0 : 1 + Math.floor(random() * 2);
			bytes.push(emptyClients);
			for (let c = 0; c < emptyClients; c++) bytes.push(0, ...varUint(small()), ...varUint(small()));
			const clients = Math.floor(random() * 3);
			bytes.push(clients);
			for (let c = 0; c < clients; c++) {
				const deletes = 1 + Math.floor(random() * 3);
				bytes.push(...varUint(small()), deletes);
				for (let d = 0; d < deletes; d++) bytes.push(...varUint(random() < 0.8 ? small() : big()), ...varUint(random() < 0.8 ? small() : big()));
			}
			let update: Uint8Array = Uint8Array.from(bytes);
			if (random() < 0.2) update = damage(update, random);
			const sv = new Map<number, number>();
			for (let c = 0; c < 12; c++) if (random() < 0.4) sv.set(c, random() < 0.8 ? small() : big());
			const doc = new Y.Doc();
			for (const [client, clock] of sv) if (clock > 0) doc.store.clients.set(client, [new Y.GC(Y.createID(client, 0), clock)]);
			if (expectSame(update, Y.encodeStateVector(doc))) accepted++;
			else refused++;
		}
		// and honest ones: deletions a peer made
		for (let seed = 1; seed <= 50; seed++) {
			const r = mulberry32(seed);
			const a = new Y.Doc();
			a.getText('t').insert(0, 'x'.repeat(40));
			const b = new Y.Doc();
			Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
			a.on('update', (u: Uint8Array) => {
				if (expectSame(u, Y.encodeStateVector(b))) accepted++;
				expectSame(u, EMPTY);
			});
			for (let k = 0; k < 10; k++) a.getText('t').delete(Math.floor(r() * 30), 1 + Math.floor(r() * 3));
		}
		expect(accepted).toBeGreaterThan(1000);
		expect(refused).toBeGreaterThan(100);
	});

	it('answers alike from a clock lookup, seeding only the clients an update names, against a document of many clients', () => {
		let accepted = 0;
		let refused = 0;
		for (let seed = 1; seed <= 12; seed++) {
			const random = mulberry32(100 + seed);
			// A document written in 60 sessions (a client each), as a long-lived channel is.
			const b = new Y.Doc();
			for (let c = 0; c < 60; c++) {
				const session = new Y.Doc();
				Y.applyUpdate(session, Y.encodeStateAsUpdate(b));
				edit(session, random, 1 + Math.floor(random() * 3));
				Y.applyUpdate(b, Y.encodeStateAsUpdate(session, Y.encodeStateVector(b)));
			}
			const a = new Y.Doc();
			Y.applyUpdate(a, Y.encodeStateAsUpdate(b));
			for (let step = 0; step < 30; step++) {
				const sv = Y.encodeStateVector(b);
				edit(a, random, 1 + Math.floor(random() * 4));
				const incremental = Y.encodeStateAsUpdate(a, sv);
				expect(laidOut(incremental) && laidOut(Y.encodeStateAsUpdate(a))).toBe(true);
				for (const update of [incremental, Y.encodeStateAsUpdate(a), damage(incremental, random), damage(Y.encodeStateAsUpdate(a), random)]) {
					const expected = reference(update, sv);
					const fromLookup = applicablePart(update, clocksOfDoc(b));
					expect(fromLookup === undefined ? undefined : [...fromLookup]).toEqual(expected === undefined ? undefined : [...expected]);
					if (expectSame(update, sv)) accepted++;
					else refused++;
				}
				if (random() < 0.7) Y.applyUpdate(b, incremental);
			}
		}
		expect(accepted).toBeGreaterThan(300);
		expect(refused).toBeGreaterThan(50);
	});

	it('reads the clocks of every client an update builds on (its origins and parent): a large honest update then passes', () => {
		// Were a client the update names left out of the scratch document, the update would wait
		// there for it, over the pending bound: refused. Each case names a different client.
		const session = (base: Y.Doc, write: (doc: Y.Doc) => void): Y.Doc => {
			const doc = new Y.Doc();
			Y.applyUpdate(doc, Y.encodeStateAsUpdate(base));
			write(doc);
			Y.applyUpdate(base, Y.encodeStateAsUpdate(doc, Y.encodeStateVector(base)));
			return doc;
		};
		const target = new Y.Doc();
		session(target, (d) => d.getText('t').insert(0, 'he')); // origin of an insert at 2
		session(target, (d) => d.getText('t').insert(2, 'llo')); // its right origin
		session(target, (d) => d.getMap('m').set('nested', new Y.Text())); // the parent of a nested insert
		const big = 'x'.repeat(1_100_000);
		const cases: Array<(doc: Y.Doc) => void> = [
			(d) => d.getText('t').insert(2, big),
			(d) => d.getText('t').insert(5, big),
			(d) => (d.getMap('m').get('nested') as Y.Text).insert(0, big)
		];
		for (const write of cases) {
			const writer = new Y.Doc();
			Y.applyUpdate(writer, Y.encodeStateAsUpdate(target));
			const sv = Y.encodeStateVector(target);
			write(writer);
			const update = Y.encodeStateAsUpdate(writer, sv);
			expect(update.byteLength).toBeGreaterThan(1024 * 1024);
			// A live update is its own part (the same bytes).
			expect(applicablePart(update, clocksOfDoc(target))).toBe(update);
			expect(applicablePart(update, sv)).toBe(update);
		}
	});

	it('carries nothing of a check into the next: pending structs of one do not meet the next update', () => {
		// A damaged dependent update that passes on its own (its structs wait for their base) but
		// throws once its base arrives: were the first check's pending structs kept, checking the
		// honest base next would integrate them and refuse it.
		const random = mulberry32(3);
		let pairs = 0;
		for (let i = 0; i < 20_000 && pairs < 5; i++) {
			const a = new Y.Doc();
			a.clientID = 7;
			a.getText('t').insert(0, 'hello');
			a.getMap('m').set('k', 1);
			const base = Y.encodeStateAsUpdate(a);
			const sv = Y.encodeStateVector(a);
			a.getText('t').insert(3, 'XY');
			a.getArray('a').push([1]);
			a.getMap('m').set('k', 2);
			const bad = damage(Y.encodeStateAsUpdate(a, sv), random);
			if (referencePart(bad, EMPTY) === undefined) continue;
			const both = new Y.Doc();
			try {
				Y.applyUpdate(both, bad);
				Y.applyUpdate(both, base);
				continue;
			} catch {
				pairs++;
			}
			expect(applicablePart(bad, EMPTY)).toBeDefined();
			expect(applicablePart(base, EMPTY)).toEqual(base);
			// and after a refused check too
			expect(applicablePart(new Uint8Array([1, 2, 3]), EMPTY)).toBeUndefined();
			expect(applicablePart(bad, EMPTY)).toBeDefined();
			expect(applicablePart(base, EMPTY)).toEqual(base);
		}
		expect(pairs).toBe(5);
	});
});

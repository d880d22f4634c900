/**
 * 100,000 mutated frames, updates and envelopes across every protocol stage and document type
 * (tests/fuzz/layerFuzz.ts; `npm run bench:fuzz` runs 1,000,000): no crash, nothing over
 * 1 s, and the honest documents keep taking honest updates with their content whole. The run
 * is deterministic from its seed; a failure names the seed, the case and its input.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { newId } from '../../../src/lib/doc/ids';
import { checkRemoteUpdate } from '../../../src/lib/doc/team/writePolicy';
import { WorkspaceDoc } from '../../../src/lib/doc/WorkspaceDoc';
import { applicablePart, applyRemoteUpdate, pendingBytes } from '../../../src/lib/mesh/updateCheck';
import { fuzzLayers, fuzzReport } from '../../fuzz/layerFuzz';

describe('fuzz across the layers a peer feeds', () => {
	it('100,000 mutated inputs: no crash, no case over 1 s, honest documents intact', async () => {
		const figures = await fuzzLayers(Number(process.env.FUZZ_CASES ?? 100_000), 7);
		console.info(fuzzReport(figures));
		expect(figures.crashes.slice(0, 5)).toEqual([]);
		expect(figures.hangs.slice(0, 5)).toEqual([]);
		expect(figures.honestIntact).toBe(true);
		// Every layer was reached, and mutations were refused as well as (some) accepted.
		expect(Object.keys(figures.byLayer).sort()).toEqual(['envelope', 'update:aiThread', 'update:channel', 'update:plain', 'update:root', 'wire']);
		expect(figures.accepted['wire'] ?? 0).toBeLessThan(figures.byLayer['wire']!);
	}, 300_000);

	it('replays a run from its seed: 242, which crashed at case 62 while the run applied updates raw, twice alike', async () => {
		const [first, second] = [await fuzzLayers(2_000, 242), await fuzzLayers(2_000, 242)];
		expect(first.crashes).toEqual([]);
		expect(first.honestIntact).toBe(true);
		expect(second.byLayer).toEqual(first.byLayer);
		expect(second.accepted).toEqual(first.accepted);
	});
});

/** A channel entry of the workspace root. */
function channel(id: string, createdAt: number) {
	return { id, name: id, topic: '', private: false, readOnly: false, archived: false, createdAt, createdBy: 'peer-a' };
}

/**
 * `update` (of client 1) with the parent of its item under `key` named at clock 2³²−1 instead
 * of its own (a length field blown up, one of the fuzz run's mutations): an item of client 1
 * whose parent is client 1's, which Yjs looks up without asking whether it exists.
 */
function parentBlownUp(update: Uint8Array, key: string): Uint8Array {
	const keyBytes = [key.length, ...new TextEncoder().encode(key)];
	for (let i = 0; i + 4 + keyBytes.length <= update.length; i++) {
		// Info 0x28 (any content, under a key), parent named by ID (0), client 1, a one-byte clock, the key.
		const found = update[i] === 0x28 && update[i + 1] === 0 && update[i + 2] === 1 && keyBytes.every((byte, k) => update[i + 4 + k] === byte);
		if (found) return Uint8Array.from([...update.subarray(0, i + 3), 0xff, 0xff, 0xff, 0xff, 0x0f, ...update.subarray(i + 4)]);
	}
	throw new Error(`no item under ${key} names its parent by ID`);
}

describe('a checked update never integrates what an earlier one left pending', () => {
	it('keeps a structure the check never saw out of the document (found by the fuzz run)', () => {
		const workspaceId = newId();
		const source = new Y.Doc();
		source.clientID = 1;
		const root = new WorkspaceDoc(source);
		root.createChannel(channel('general', 1));
		const target = new Y.Doc();
		Y.applyUpdate(target, Y.encodeStateAsUpdate(source));
		const grow = (id: string, createdAt: number): Uint8Array => {
			const before = Y.encodeStateVector(source);
			root.createChannel(channel(id, createdAt));
			return Y.encodeStateAsUpdate(source, before);
		};
		const c0 = grow('c0', 2);
		const c1 = grow('c1', 3);
		const hostile = parentBlownUp(c1, 'private');
		/** The part of `update` a replica holding `doc` takes, or undefined when it refuses it. */
		const checked = (doc: Y.Doc, update: Uint8Array): Uint8Array | undefined => {
			const part = applicablePart(update, Y.encodeStateVector(doc));
			return part !== undefined && checkRemoteUpdate(workspaceId, workspaceId, doc, part, {}) === undefined ? part : undefined;
		};

		// It passes the check: its flaw lies in structs that wait for c0, which the dry run keeps pending.
		const part = checked(target, hostile);
		expect(part).toBeDefined();

		// Applied raw, as the fuzz run did, it stays pending, and the next honest update, checked
		// and passed, then throws half-way through when Yjs integrates the two together.
		const raw = new Y.Doc();
		Y.applyUpdate(raw, Y.encodeStateAsUpdate(target));
		Y.applyUpdate(raw, part!);
		const next = checked(raw, c0);
		expect(next).toBeDefined();
		expect(() => Y.applyUpdate(raw, next!)).toThrow();

		// A replica keeps nothing pending: the honest updates then apply, and the document holds them.
		expect(applyRemoteUpdate(target, part!, 'attacker')).toBeGreaterThan(0);
		expect(pendingBytes(target)).toBe(0);
		for (const honest of [c0, c1]) {
			const honestPart = checked(target, honest);
			expect(honestPart).toBeDefined();
			expect(applyRemoteUpdate(target, honestPart!, 'peer')).toBe(0);
		}
		expect([...new WorkspaceDoc(target).channels.keys()].sort()).toEqual(['c0', 'c1', 'general']);
	});
});

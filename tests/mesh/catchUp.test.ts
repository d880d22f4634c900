/**
 * A peer apart for 10,000 updates catches up after reconnecting, over real libp2p nodes:
 * prints the time from reconnecting to identical documents and the update bytes the
 * returning peer applied, beside the size of Yjs's minimal diff (informational).
 */
import '../../src/lib/mesh/polyfills.node.js'; // before anything that loads libp2p
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { newId } from '../../src/lib/doc/ids.js';
import { mulberry32 } from '../fixtures/random.js';
import { MemoryDocs } from '../unit/mesh/memoryDocs.js';
import { waitFor } from './helpers.js';
import { connect, converged, heal, newWorkspace, partition, startPeer, stopPeers } from './peers.js';

afterEach(stopPeers, 15_000);

/** MemoryDocs that count the bytes of every remote update applied. */
class CountingDocs extends MemoryDocs {
	bytes = 0;
	override apply(docId: string, update: Uint8Array, origin: unknown): void {
		super.apply(docId, update, origin);
		this.bytes += update.length;
	}
}

describe('catch-up over the mesh', () => {
	it('brings back a peer that was apart for 10,000 updates', async () => {
		const ws = newWorkspace();
		const returning = new CountingDocs();
		const a = await startPeer(ws, { name: 'a' });
		const b = await startPeer(ws, { name: 'b', docs: returning });
		const id = newId();
		const text = a.docs.get(id).getText('t');
		for (let i = 0; i < 1000; i++) text.insert(text.length, `base ${i}\n`);
		await connect(b, a);
		await waitFor(() => converged([a, b]), 'the first sync');

		await partition(a, b);
		const before = Y.encodeStateVector(returning.get(id));
		const random = mulberry32(7);
		const writeStart = performance.now();
		for (let i = 0; i < 10_000; i++) {
			if (random() < 0.2 && text.length > 10) text.delete(Math.floor(random() * (text.length - 5)), 3);
			else text.insert(Math.floor(random() * text.length), `u${i} `);
		}
		const writeMs = performance.now() - writeStart;
		const diff = Y.encodeStateAsUpdate(a.docs.get(id), before).length;
		const full = Y.encodeStateAsUpdate(a.docs.get(id)).length;

		returning.bytes = 0;
		const expected = text.toString();
		let caughtUpAt = 0;
		returning.get(id).on('update', () => {
			if (caughtUpAt === 0 && returning.get(id).getText('t').toString() === expected) caughtUpAt = performance.now();
		});
		const start = performance.now();
		await heal(b, a);
		await waitFor(() => caughtUpAt > 0 && converged([a, b]), 'the catch-up', 20_000);
		const ms = caughtUpAt - start;
		console.info(
			`catch-up after 10,000 updates apart: ${ms.toFixed(0)} ms from reconnect to the same text ` +
				`(${(performance.now() - start).toFixed(0)} ms until the test saw it, gossip duplicates included); ` +
				`${returning.bytes} update bytes applied by the returning peer; Yjs minimal diff ${diff} bytes, ` +
				`full state ${full} bytes (writing the 10,000 updates alone took ${writeMs.toFixed(0)} ms)`
		);
		expect(returning.get(id).getText('t').toString()).toBe(text.toString());
		// One SYNC_STEP2 with the diff, plus little else (no replay of 10,000 live updates).
		expect(returning.bytes).toBeLessThan(diff * 2 + 4096);
		expect([...a.errors, ...b.errors].filter((e) => !/Reset|Closed|Abort/.test(e.error.name))).toEqual([]);
	}, 30_000);
});

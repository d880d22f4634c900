/**
 * A flood of envelopes from a publisher the gate hears stays bounded while it waits to be
 * opened (found in review: every envelope gossipsub handed over was chained onto a promise
 * queue before anything about it was checked, with no bound; of 2,000 envelopes that never
 * open, nearly all waited at once). Real libp2p nodes over TCP on 127.0.0.1; the queue's peak
 * is read from the victim's workspace (receiveQueue.ts), and the flood is reported once.
 */
import '../../src/lib/mesh/polyfills.node.js';
import * as encoding from 'lib0/encoding';
import { afterEach, describe, expect, it } from 'vitest';
import { Awareness } from 'y-protocols/awareness';
import * as Y from 'yjs';
import { AWARENESS_RECEIVE_LIMITS, type WorkspaceAwareness } from '../../src/lib/mesh/awareness.js';
import { GOSSIP_RECEIVE_LIMITS, type WorkspaceGossip } from '../../src/lib/mesh/gossip.js';
import { EnvelopeKind } from '../../src/lib/mesh/gossipEnvelope.js';
import { deriveWorkspaceKeys } from '../../src/lib/mesh/workspaceKeys.js';
import { addressOf, startNode, waitFor } from './helpers.js';
import { newWorkspace, startPeer, stopPeers } from './peers.js';

afterEach(stopPeers, 20_000);

/** An envelope of `kind` with the legacy key id, a 12-byte IV and `size` bytes of ciphertext that never opens. */
function garbage(kind: number, size: number, i: number): Uint8Array {
	const e = encoding.createEncoder();
	encoding.writeVarUint(e, kind);
	encoding.writeVarString(e, '');
	const iv = new Uint8Array(12);
	new DataView(iv.buffer).setUint32(0, i);
	encoding.writeVarUint8Array(e, iv);
	const ct = new Uint8Array(size);
	new DataView(ct.buffer).setUint32(0, i);
	encoding.writeVarUint8Array(e, ct);
	return encoding.toUint8Array(e);
}

async function flood(kind: number, size: number, count: number, withAwareness: boolean) {
	const ws = newWorkspace();
	const keys = await deriveWorkspaceKeys(ws.id, ws.secret);
	const victim = await startPeer(undefined);
	await victim.mesh.addWorkspace({ ...ws, docs: victim.docs, ...(withAwareness ? { awareness: new Awareness(new Y.Doc()) } : {}) });
	// The attacker: a bare node on the topic. It answers no sync stream, so it has no live session
	// with the victim and its envelopes are not dropped as copies.
	const attacker = await startNode();
	attacker.services.pubsub.subscribe(keys.topic);
	await attacker.dial(addressOf(victim.node));
	await waitFor(
		() => attacker.services.pubsub.getSubscribers(keys.topic).some((p) => p.equals(victim.node.peerId)),
		'the victim to show on the topic'
	);
	let arrived = 0;
	victim.node.services.pubsub.addEventListener('message', (evt) => {
		if (evt.detail.topic === keys.topic) arrived++;
	});
	// The victim's queues, read from its workspace (not part of MeshService's interface).
	const workspace = (victim.mesh as unknown as { workspaces: Map<string, { gossip: WorkspaceGossip; presence: WorkspaceAwareness | undefined }> }).workspaces.get(ws.id)!;
	const queue = kind === EnvelopeKind.awareness ? workspace.presence!.received : workspace.gossip.received;
	const heapBefore = process.memoryUsage().heapUsed;
	let heapPeak = heapBefore;
	const sampler = setInterval(() => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)), 5);
	const sends: Array<Promise<unknown>> = [];
	for (let i = 0; i < count; i++) sends.push(attacker.services.pubsub.publish(keys.topic, garbage(kind, size, i)));
	await Promise.all(sends);
	await waitFor(() => arrived === count, 'every envelope to arrive', 30_000);
	await waitFor(() => queue.pending === 0, 'the queue to run empty', 30_000);
	clearInterval(sampler);
	const overloads = victim.errors.filter((e) => e.error.name === 'GossipOverloadError').length;
	return { maxPending: queue.peak, heapGrowthMiB: (heapPeak - heapBefore) / 2 ** 20, overloads };
}

describe('gossip receive queues under a flood from a heard publisher', () => {
	it('update envelopes: those waiting to be opened stay within one publisher’s share, the flood reported', async () => {
		const { maxPending, heapGrowthMiB, overloads } = await flood(EnvelopeKind.update, 32 * 1024, 2000, false);
		console.log(`update queue: at most ${maxPending} envelopes waited at once; heap grew ${heapGrowthMiB.toFixed(1)} MiB`);
		expect(maxPending).toBeGreaterThan(0);
		expect(maxPending).toBeLessThanOrEqual(GOSSIP_RECEIVE_LIMITS.maxPerPublisher);
		expect(overloads).toBeGreaterThanOrEqual(1);
	});

	it('presence envelopes: those waiting to be opened stay within one publisher’s share, the flood reported', async () => {
		const { maxPending, heapGrowthMiB, overloads } = await flood(EnvelopeKind.awareness, 15 * 1024, 2000, true);
		console.log(`awareness queue: at most ${maxPending} envelopes waited at once; heap grew ${heapGrowthMiB.toFixed(1)} MiB`);
		expect(maxPending).toBeGreaterThan(0);
		expect(maxPending).toBeLessThanOrEqual(AWARENESS_RECEIVE_LIMITS.maxPerPublisher);
		expect(overloads).toBeGreaterThanOrEqual(1);
	});
});

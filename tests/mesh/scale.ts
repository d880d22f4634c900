/**
 * Many peers of one workspace, in one process (real libp2p nodes over TCP on 127.0.0.1): each
 * dials a hub and two peers started before it, then every peer writes at once (a key of its
 * own in one shared document, and a document of its own). Timed from the burst until every
 * peer holds the same documents in the same state. Shared by `npm test` (a few dozen peers)
 * and `npm run bench:mesh-scale` (100).
 */
import { newId } from '../../src/lib/doc/ids.js';
import { mulberry32 } from '../fixtures/random.js';
import { waitFor } from './helpers.js';
import { connect, converged, newWorkspace, startPeer, type Peer } from './peers.js';

/** What one run measured. */
export interface ScaleFigures {
	peers: number;
	/** Milliseconds to start and connect every peer. */
	setupMs: number;
	/** Milliseconds from the burst of writes to every peer converged. */
	convergeMs: number;
	/** Documents each peer holds at the end. */
	documents: number;
}

/** Runs the scenario with `count` peers; the caller stops them (stopPeers). */
export async function scaleRun(count: number, timeoutMs: number): Promise<ScaleFigures> {
	const random = mulberry32(count);
	const ws = newWorkspace();
	const started = performance.now();
	const peers: Peer[] = [];
	for (let i = 0; i < count; i++) {
		// All on 127.0.0.1: libp2p's bound on inbound connections per host and second (5) is lifted.
		const node = { connectionManager: { inboundConnectionThreshold: 10_000, maxIncomingPendingConnections: 1000 } };
		const peer = await startPeer(ws, { name: `p${i}`, mesh: { antiEntropyIntervalMs: 0 }, node });
		const links = new Set<Peer>();
		if (peers.length > 0) links.add(peers[0]!); // the hub
		for (let k = 0; k < 2 && peers.length > 1; k++) links.add(peers[1 + Math.floor(random() * (peers.length - 1))]!);
		for (const other of links) await connect(peer, other);
		peers.push(peer);
	}
	const shared = newId();
	await waitFor(() => peers.every((p) => p.mesh.status(ws.id)?.state === 'live'), 'every peer to be live', timeoutMs);
	const setupMs = performance.now() - started;

	const burst = performance.now();
	for (const [i, peer] of peers.entries()) {
		peer.docs.get(shared).getMap('m').set(`p${i}`, i);
		peer.docs.get(newId()).getText('t').insert(0, `written by p${i}`);
	}
	await waitFor(() => peers.every((p) => p.docs.docs.size === count + 1) && converged(peers), `all ${count} peers to converge`, timeoutMs);
	return { peers: count, setupMs, convergeMs: performance.now() - burst, documents: peers[0]!.docs.docs.size };
}

/**
 * Keeps the relay connected to other relays: the ones given with `--peer`, and, with mDNS,
 * every Node peer found on the LAN (relays announce plain TCP; browsers never do). Each is
 * dialled in the background with retries until the relay stops.
 */
import type { PeerId } from '@libp2p/interface';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { WebSockets, WebSocketsSecure } from '@multiformats/multiaddr-matcher';
import { dialWithRetry } from '../src/lib/mesh/dial.ts';
import type { NodeMeshNode } from '../src/lib/mesh/node.node.ts';

/** Starts dialling; the returned function stops every dial in progress. */
export function keepRelaysConnected(node: NodeMeshNode, peers: readonly string[], mdns: boolean, log: (line: string) => void): () => void {
	const stopping = new AbortController();
	const dialRelay = (target: PeerId | string, why: string): void => {
		const to = typeof target === 'string' ? multiaddr(target) : target;
		dialWithRetry(node, to, { attempts: 8, maxDelayMs: 30_000, signal: stopping.signal }).then(
			(connection) => log(`Connected to ${why} ${connection.remotePeer} (${connection.remoteAddr})`),
			(error: unknown) => {
				if (stopping.signal.aborted) return;
				log(`Could not reach ${why} ${String(target)}: ${error instanceof Error ? error.message : String(error)}`);
			}
		);
	};
	if (mdns) {
		node.addEventListener('peer:discovery', (event) => {
			const { id, multiaddrs } = event.detail;
			const nodePeer = multiaddrs.some((ma) => !WebSockets.matches(ma) && !WebSocketsSecure.matches(ma) && isTcp(ma));
			if (nodePeer && node.getConnections(id).length === 0) dialRelay(id, 'relay found on the LAN');
		});
	}
	for (const peer of peers) dialRelay(peer, 'relay');
	return () => stopping.abort();
}

function isTcp(ma: Multiaddr): boolean {
	return ma.getComponents().some((component) => component.name === 'tcp');
}

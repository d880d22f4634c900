/**
 * The mesh node in Node (the relay, tests, headless peers): TCP and WebSockets, and
 * optionally a circuit relay server so browsers can reserve a slot and reach each
 * other through it, and mDNS so relays on one LAN find each other. Loads the Node
 * polyfills itself, before libp2p.
 *
 * Node-only: never import this from browser code.
 */
import './polyfills.node.js';
import { circuitRelayServer } from '@libp2p/circuit-relay-v2';
import { mdns } from '@libp2p/mdns';
import type { MulticastDNSInit } from '@libp2p/mdns';
import type { CircuitRelayService, CircuitRelayServerInit } from '@libp2p/circuit-relay-v2';
import { tcp } from '@libp2p/tcp';
import { webSockets } from '@libp2p/websockets';
import type { WebSocketsInit } from '@libp2p/websockets';
import { createMeshNodeWith } from './node.js';
import type { MeshNode, MeshNodeInit } from './node.js';

/** Options of the Node {@link createMeshNode}. */
export interface NodeMeshNodeInit extends MeshNodeInit {
	/**
	 * Run a circuit relay server (`node.services.relay`), as the relay does; `true` for
	 * libp2p's defaults, or its options.
	 */
	relayServer?: boolean | CircuitRelayServerInit;
	/**
	 * Find other Node peers on the LAN by multicast DNS (relays finding each other);
	 * `true` for libp2p's defaults, or its options. Discovered peers land in the peer
	 * store and are announced as `peer:discovery`; dialling them is the caller's choice.
	 */
	mdns?: boolean | MulticastDNSInit;
	/**
	 * Options of the WebSockets transport; `https: { key, cert }` lets it listen on
	 * `/tls/ws` (wss) addresses, as the relay does on the LAN.
	 */
	webSockets?: WebSocketsInit;
}

/** A Node mesh node; `services.relay` exists when it was created with `relayServer`. */
export type NodeMeshNode = MeshNode<{ relay?: CircuitRelayService }>;

/** Default listen addresses: TCP and WebSockets on every interface, ports chosen by the OS. */
export const NODE_LISTEN = ['/ip4/0.0.0.0/tcp/0', '/ip4/0.0.0.0/tcp/0/ws'];

/** Creates (and by default starts) a Node mesh node. */
export function createMeshNode(init: NodeMeshNodeInit): Promise<NodeMeshNode> {
	const relay = init.relayServer;
	return createMeshNodeWith<{ relay?: CircuitRelayService }>(
		{
			transports: [tcp(), webSockets(init.webSockets)],
			defaultListen: NODE_LISTEN,
			...(relay ? { services: { relay: circuitRelayServer(relay === true ? {} : relay) } } : {}),
			...(init.mdns ? { peerDiscovery: [mdns(init.mdns === true ? {} : init.mdns)] } : {})
		},
		init
	);
}

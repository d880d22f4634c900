/**
 * The mesh node in the browser: WebSockets to the relay, WebRTC between browsers (with
 * the relay as signalling channel) and circuit relay for reservations. Listens on
 * `/p2p-circuit` (reachable through the relay) and `/webrtc` (accept direct upgrades).
 *
 * Browsers announce themselves on the discovery topic and dial what they hear there
 * (discovery.ts, browserPeer.ts).
 *
 * ICE servers default to none: on a LAN with no internet a public STUN server is
 * unreachable and only delays candidate gathering; host candidates are what a LAN needs.
 * Pass the relay's own STUN/TURN address here if one is ever added.
 */
import './polyfills.js';
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { webRTC } from '@libp2p/webrtc';
import { webSockets } from '@libp2p/websockets';
import { createMeshNodeWith } from './node.js';
import type { MeshNode, MeshNodeInit } from './node.js';

/** Options of the browser {@link createMeshNode}. */
export interface BrowserMeshNodeInit extends MeshNodeInit {
	/** WebRTC configuration; default `{ iceServers: [] }` (see the module comment). */
	rtcConfiguration?: RTCConfiguration;
}

/** Browser listen addresses: through the relay, and direct WebRTC upgrades. */
export const BROWSER_LISTEN = ['/p2p-circuit', '/webrtc'];

/** Creates (and by default starts) this browser's mesh node. */
export function createMeshNode(init: BrowserMeshNodeInit): Promise<MeshNode> {
	return createMeshNodeWith(
		{
			transports: [
				webSockets(),
				webRTC({ rtcConfiguration: init.rtcConfiguration ?? { iceServers: [] } }),
				circuitRelayTransport()
			],
			defaultListen: BROWSER_LISTEN
		},
		init
	);
}

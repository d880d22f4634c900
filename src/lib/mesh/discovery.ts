/**
 * How browsers find each other: every browser announces its addresses (its relay
 * reservations, `…/p2p-circuit/webrtc/p2p/<id>` among them) on one pubsub topic with
 * @libp2p/pubsub-peer-discovery, and relays subscribe to that topic so they forward it.
 * An announcement reveals a peer id and relay addresses, nothing about workspaces: those
 * are only ever named inside sync sessions, after the membership proof.
 *
 * Two browsers that discover each other would both dial; {@link shouldDial} makes only one
 * of them do it, so a pair ends up with one direct connection and one sync session.
 */
import type { Multiaddr } from '@multiformats/multiaddr';
import { WebRTC } from '@multiformats/multiaddr-matcher';

/** The pubsub topic of peer announcements (relays subscribe to it to forward it). */
export const DISCOVERY_TOPIC = '_outpost._peer-discovery._p2p._pubsub';

/** Milliseconds between a browser's announcements. */
export const DISCOVERY_INTERVAL_MS = 10_000;

/** The addresses of a discovered peer a direct WebRTC dial can use. */
export function webrtcAddresses(multiaddrs: Multiaddr[]): Multiaddr[] {
	return multiaddrs.filter((ma) => WebRTC.matches(ma));
}

/** Whether this peer (rather than the remote one) dials: the smaller peer id does. */
export function shouldDial(localPeerId: string, remotePeerId: string): boolean {
	return localPeerId < remotePeerId;
}

/**
 * How browsers find each other: every browser announces its WebRTC addresses (its relay
 * reservations, `…/p2p-circuit/webrtc/p2p/<id>`) on one pubsub topic, and relays subscribe
 * to that topic so they forward it. An announcement reveals a peer id and relay addresses,
 * nothing about workspaces: those are only ever named inside sync sessions, after the
 * membership proof. Announcements are signed pubsub messages, so their sender (`from`) is
 * authentic; the addresses are only ever dialled, and the dial proves the peer id again.
 *
 * Announced: as soon as the browser's addresses change (a reservation was made: the moment
 * it becomes reachable), every {@link DISCOVERY_INTERVAL_MS}, and on request
 * ({@link Announcer.announceSoon}: a peer that should dial us has no link to us yet).
 * Departure from the plan: not @libp2p/pubsub-peer-discovery, which skips its first
 * announcement when no peer is subscribed yet (a fresh browser then waits a whole interval
 * to be found) and cannot be asked to announce.
 *
 * Wire format (version 1): UTF-8 JSON `{"v":1,"addrs":["<multiaddr>", …]}`, at most
 * {@link MAX_ANNOUNCEMENT_BYTES}, at most {@link MAX_ANNOUNCED_ADDRESSES} addresses; anything
 * else is ignored.
 *
 * Two browsers that discover each other would both dial; {@link shouldDial} makes only one
 * of them do it, so a pair ends up with one direct connection and one sync session.
 */
import type { GossipSub, Message } from '@libp2p/gossipsub';
import type { PeerId } from '@libp2p/interface';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { WebRTC } from '@multiformats/multiaddr-matcher';

/** The pubsub topic of peer announcements (relays subscribe to it to forward it). */
export const DISCOVERY_TOPIC = '/outpost/discovery/1';

/** Milliseconds between a browser's announcements. */
export const DISCOVERY_INTERVAL_MS = 10_000;
/** Largest announcement accepted. */
export const MAX_ANNOUNCEMENT_BYTES = 4096;
/** Most addresses read from one announcement. */
export const MAX_ANNOUNCED_ADDRESSES = 16;
/** Shortest time between two announcements asked for with {@link Announcer.announceSoon}. */
const SOON_MS = 1000;

/** The addresses of a discovered peer a direct WebRTC dial can use. */
export function webrtcAddresses(multiaddrs: Multiaddr[]): Multiaddr[] {
	return multiaddrs.filter((ma) => WebRTC.matches(ma));
}

/** Whether this peer (rather than the remote one) dials: the smaller peer id does. */
export function shouldDial(localPeerId: string, remotePeerId: string): boolean {
	return localPeerId < remotePeerId;
}

/** Encodes an announcement of `addresses`. */
export function encodeAnnouncement(addresses: Multiaddr[]): Uint8Array {
	const addrs = addresses.slice(0, MAX_ANNOUNCED_ADDRESSES).map(String);
	return new TextEncoder().encode(JSON.stringify({ v: 1, addrs }));
}

/** Decodes an announcement; undefined for anything malformed, oversized or of another version. */
export function decodeAnnouncement(bytes: Uint8Array): Multiaddr[] | undefined {
	if (bytes.length > MAX_ANNOUNCEMENT_BYTES) return undefined;
	let value: unknown;
	try {
		value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
	} catch {
		return undefined;
	}
	if (typeof value !== 'object' || value === null) return undefined;
	const { v, addrs } = value as { v?: unknown; addrs?: unknown };
	if (v !== 1 || !Array.isArray(addrs)) return undefined;
	const out: Multiaddr[] = [];
	for (const raw of addrs.slice(0, MAX_ANNOUNCED_ADDRESSES)) {
		if (typeof raw !== 'string' || raw.length > 300) continue;
		try {
			out.push(multiaddr(raw));
		} catch {
			// skip a malformed address, keep the others
		}
	}
	return out;
}

/** What the announcer needs of the node. */
export interface AnnouncerNode {
	peerId: PeerId;
	getMultiaddrs(): Multiaddr[];
	addEventListener(type: 'self:peer:update', listener: () => void): void;
	removeEventListener(type: 'self:peer:update', listener: () => void): void;
	services: { pubsub: Pick<GossipSub, 'subscribe' | 'unsubscribe' | 'publish' | 'addEventListener' | 'removeEventListener'> };
}

/** Announces this browser and reports other browsers' announcements; see the module comment. */
export class Announcer {
	private timer: ReturnType<typeof setInterval> | undefined;
	private soon: ReturnType<typeof setTimeout> | undefined;
	private lastSent = 0;
	private lastAddresses = '';

	constructor(
		private readonly node: AnnouncerNode,
		private readonly onAnnouncement: (from: PeerId, addresses: Multiaddr[]) => void,
		private readonly intervalMs = DISCOVERY_INTERVAL_MS
	) {}

	start(): void {
		if (this.timer !== undefined) return;
		const { pubsub } = this.node.services;
		pubsub.addEventListener('message', this.onMessage);
		pubsub.subscribe(DISCOVERY_TOPIC);
		this.node.addEventListener('self:peer:update', this.onAddresses);
		this.timer = setInterval(() => this.announce(), this.intervalMs);
		this.announce();
	}

	stop(): void {
		if (this.timer === undefined) return;
		clearInterval(this.timer);
		clearTimeout(this.soon);
		this.timer = undefined;
		const { pubsub } = this.node.services;
		pubsub.removeEventListener('message', this.onMessage);
		pubsub.unsubscribe(DISCOVERY_TOPIC);
		this.node.removeEventListener('self:peer:update', this.onAddresses);
	}

	/** Announces now, unless that was done within the last second (then a second later). */
	announceSoon(): void {
		if (this.timer === undefined || this.soon !== undefined) return;
		const wait = Math.max(0, this.lastSent + SOON_MS - Date.now());
		this.soon = setTimeout(() => {
			this.soon = undefined;
			this.announce();
		}, wait);
	}

	/** Publishes this browser's WebRTC addresses (nothing while it has none). */
	announce(): void {
		if (this.timer === undefined) return;
		const addresses = webrtcAddresses(this.node.getMultiaddrs());
		if (addresses.length === 0) return;
		this.lastSent = Date.now();
		this.node.services.pubsub.publish(DISCOVERY_TOPIC, encodeAnnouncement(addresses)).catch(() => {
			// Nobody subscribed yet, or the node is stopping: the next announcement tries again.
		});
	}

	private readonly onAddresses = (): void => {
		const now = webrtcAddresses(this.node.getMultiaddrs()).map(String).sort().join(' ');
		if (now === this.lastAddresses) return;
		this.lastAddresses = now;
		this.announce();
	};

	private readonly onMessage = (event: CustomEvent<Message>): void => {
		const message = event.detail;
		if (message.topic !== DISCOVERY_TOPIC || message.type !== 'signed') return;
		if (message.from.equals(this.node.peerId)) return;
		const addresses = decodeAnnouncement(message.data);
		if (addresses === undefined) return;
		this.onAnnouncement(message.from, addresses);
	};
}

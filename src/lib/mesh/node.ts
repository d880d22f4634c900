/**
 * The libp2p node, environment-neutral part: the services, security, multiplexing,
 * gater and discovery every Outpost peer shares. Transports differ by environment and
 * are added by `node.browser.ts` (WebSockets, WebRTC, circuit relay) and `node.node.ts`
 * (TCP, WebSockets, optional relay server); import the one for your environment, never
 * this module's `createMeshNodeWith` directly from app code. Nothing here imports a
 * Node-only module, so the browser bundle can include it.
 */
import { bootstrap } from '@libp2p/bootstrap';
import { gossipsub } from '@libp2p/gossipsub';
import type { GossipSub, GossipsubOpts } from '@libp2p/gossipsub';
import { identify, identifyPush } from '@libp2p/identify';
import type { Identify, IdentifyPush } from '@libp2p/identify';
import type { Libp2p, PrivateKey } from '@libp2p/interface';
import { noise } from '@libp2p/noise';
import { ping } from '@libp2p/ping';
import type { Ping } from '@libp2p/ping';
import { yamux } from '@libp2p/yamux';
import { multiaddr } from '@multiformats/multiaddr';
import type { Multiaddr } from '@multiformats/multiaddr';
import { Circuit, WebRTC } from '@multiformats/multiaddr-matcher';
import { createLibp2p } from 'libp2p';
import type { Libp2pOptions } from 'libp2p';
import { createMeshGater } from './gater.js';
import type { MeshGater, MeshGaterInit } from './gater.js';
import { InvalidRelayAddressError } from './transportErrors.js';

/** The services every mesh node runs, by key in `node.services`. */
export interface MeshServices {
	identify: Identify;
	/** Tells connected peers at once when our addresses change (a new relay reservation). */
	identifyPush: IdentifyPush;
	ping: Ping;
	pubsub: GossipSub;
}

/** A started Outpost libp2p node. */
export type MeshNode<Extra extends Record<string, unknown> = Record<never, never>> = Libp2p<MeshServices & Extra>;

/** Options every environment's `createMeshNode` accepts. */
export interface MeshNodeInit {
	/** The device's Ed25519 key (see `store/identity.ts`); the node's peer id derives from it. */
	privateKey: PrivateKey;
	/**
	 * Relay multiaddrs, each ending in `/p2p/<peer id>` (else {@link InvalidRelayAddressError}).
	 * They are dialled at start and tagged keep-alive, so libp2p redials them when they
	 * drop, five times with backoff; after that libp2p emits `peer:reconnect-failure`
	 * and drops the tag, and redialling is the caller's job (`dialWithRetry`).
	 */
	bootstrap?: string[];
	/** Addresses to listen on; each environment has its own default. */
	listen?: string[];
	/** Addresses to announce instead of the listening ones (e.g. behind port forwarding). */
	announce?: string[];
	/**
	 * The connection gater, or the deny lists to build one with (see `gater.ts`). Pass a
	 * `createMeshGater()` you keep to grow its deny lists later (revocations).
	 */
	gater?: MeshGater | MeshGaterInit;
	/** Gossipsub settings on top of {@link MESH_GOSSIP_DEFAULTS}. */
	gossip?: Partial<GossipsubOpts>;
	/** Connection limits and timeouts, passed to libp2p as they are. */
	connectionManager?: Libp2pOptions['connectionManager'];
	/** Start the node before returning it; default true. */
	start?: boolean;
}

/**
 * Gossipsub tuned for a small LAN mesh (a handful to a few dozen peers):
 * - `allowPublishToZeroTopicPeers`: writes never wait for the network; a lone peer's
 *   updates are repaired later by anti-entropy, so publishing to nobody is not an error;
 * - `emitSelf: false`: our own updates are already in our documents;
 * - `fallbackToFloodsub`, `floodPublish`: tiny meshes gain nothing from lazy gossip, and
 *   flooding our own messages to every subscribed peer is the lowest latency;
 * - a 500 ms heartbeat (default 1 s): the mesh forms and heals sooner after a peer joins;
 * - `maxInboundDataLength`: remote input is bounded (4 MiB, libp2p's usual ceiling);
 * - no IP colocation penalty: by default gossipsub counts every peer seen from one address in
 *   the last hour (gone ones too) and past ten graylists them all, so a relay that had served a
 *   dozen browsers from one address (a NAT'd Wi-Fi, a laptop's extra tabs, each with a throwaway
 *   key) ignored every newcomer from it. Who may read and write is decided by membership, and a
 *   stranger's traffic is bounded by the budgets before proof, not by addresses.
 */
export const MESH_GOSSIP_DEFAULTS: Partial<GossipsubOpts> = {
	allowPublishToZeroTopicPeers: true,
	emitSelf: false,
	fallbackToFloodsub: true,
	floodPublish: true,
	heartbeatInterval: 500,
	maxInboundDataLength: 4 * 1024 * 1024,
	scoreParams: { IPColocationFactorWeight: 0 }
};

/** Peer-store tag of the relays: the `keep-alive` prefix makes libp2p redial them. */
export const RELAY_KEEP_ALIVE_TAG = 'keep-alive-outpost-relay';

/** Checks that each relay address parses and names its peer; libp2p would skip it silently. */
function checkRelayAddresses(addresses: string[]): void {
	for (const address of addresses) {
		let ma: Multiaddr;
		try {
			ma = multiaddr(address);
		} catch (err) {
			throw new InvalidRelayAddressError(`Not a multiaddr: ${JSON.stringify(address)}`, { cause: err });
		}
		if (ma.getComponents().at(-1)?.name !== 'p2p') {
			throw new InvalidRelayAddressError(`Relay address must end in /p2p/<peer id>: ${address}`);
		}
	}
}

/** What an environment adds to the shared configuration. */
export interface MeshEnvironment {
	/** Transports of this environment. */
	transports: NonNullable<Libp2pOptions['transports']>;
	/** Listen addresses used when `init.listen` is not given. */
	defaultListen: string[];
	/** Extra services (the relay server) merged over the shared ones. */
	services?: Record<string, (components: never) => unknown>;
	/** Extra peer discovery (mDNS between Node peers) next to the bootstrap relays. */
	peerDiscovery?: NonNullable<Libp2pOptions['peerDiscovery']>;
}

/** Builds a node from the shared configuration plus an environment; see the module comment. */
export async function createMeshNodeWith<Extra extends Record<string, unknown> = Record<never, never>>(
	env: MeshEnvironment,
	init: MeshNodeInit
): Promise<MeshNode<Extra>> {
	const gater = init.gater !== undefined && 'isDeniedMultiaddr' in init.gater ? init.gater : createMeshGater(init.gater);
	const peerDiscovery: Array<NonNullable<Libp2pOptions['peerDiscovery']>[number]> = [...(env.peerDiscovery ?? [])];
	if (init.bootstrap !== undefined && init.bootstrap.length > 0) {
		checkRelayAddresses(init.bootstrap);
		peerDiscovery.push(
			bootstrap({ list: init.bootstrap, timeout: 0, tagName: RELAY_KEEP_ALIVE_TAG, tagValue: 100 })
		);
	}
	const options: Libp2pOptions<Record<string, unknown>> = {
		privateKey: init.privateKey,
		addresses: {
			listen: init.listen ?? env.defaultListen,
			...(init.announce !== undefined ? { announce: init.announce } : {})
		},
		transports: env.transports,
		connectionEncrypters: [noise()],
		streamMuxers: [yamux()],
		connectionGater: gater,
		connectionManager: init.connectionManager,
		peerDiscovery,
		services: {
			identify: identify(),
			identifyPush: identifyPush(),
			ping: ping(),
			pubsub: gossipsub({ ...MESH_GOSSIP_DEFAULTS, ...init.gossip }),
			...env.services
		} as Libp2pOptions<Record<string, unknown>>['services'],
		start: init.start ?? true
	};
	return (await createLibp2p(options)) as unknown as MeshNode<Extra>;
}

/**
 * How a connection reaches its peer, from its remote address:
 * - `'webrtc'`: a direct browser-to-browser WebRTC connection; its address contains
 *   `/p2p-circuit/webrtc` (the relay only carried the signalling), so a plain
 *   "contains p2p-circuit" test would misfile it as relayed;
 * - `'relayed'`: through a circuit relay, limited in time and data: upgrade before
 *   moving much over it;
 * - `'direct'`: TCP or WebSockets straight to the peer (the relay, Node peers).
 */
export type LinkKind = 'webrtc' | 'relayed' | 'direct';

/** Classifies a connection by its remote address; see {@link LinkKind}. */
export function linkKind(remoteAddr: Multiaddr): LinkKind {
	if (WebRTC.matches(remoteAddr)) return 'webrtc';
	if (Circuit.matches(remoteAddr)) return 'relayed';
	return 'direct';
}

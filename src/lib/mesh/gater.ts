/**
 * The mesh's connection gater: which addresses and peers this node dials and accepts.
 *
 * libp2p's browser default refuses `ws://` and every private or loopback address. That
 * default suits a browser on the public internet, where such a dial wastes time and can
 * be abused to probe the user's home network. Outpost is the other way round: the LAN
 * *is* the network. The relay is `ws://localhost` or `ws://192.168.x.y`, peers are on
 * 10.x, 172.16–31.x, 192.168.x, link-local (a LAN with no DHCP) or loopback (tests, two
 * tabs on one machine). Plain `ws://` is fine because every connection is already
 * encrypted and authenticated end to end by Noise; TLS would only add a certificate
 * the LAN cannot get. Public addresses stay allowed too: relays join each other across
 * sites with `--peer`.
 *
 * What is still denied:
 * - addresses that can never be a peer: unspecified (`0.0.0.0`, `::`, which Linux
 *   quietly treats as "this host"), multicast and the IPv4 broadcast address;
 * - every IP or CIDR block on the deny list (an operator's "never touch that subnet");
 * - every peer on the deny list (for example the devices of revoked members): no dial,
 *   no inbound connection once Noise has revealed who it is, no relay reservation and
 *   no relayed connection to or from them.
 *
 * Deny lists can grow at run time (`denyPeer`, `denyAddress`), so a revocation takes
 * effect without restarting the node. Existing connections are not closed here; the
 * caller hangs up on a revoked peer itself.
 */
import { IpNet } from '@chainsafe/netmask';
import type { ConnectionGater, MultiaddrConnection, PeerId } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import { InvalidDenyEntryError } from './transportErrors.js';

/** Options of {@link createMeshGater}. */
export interface MeshGaterInit {
	/**
	 * IP addresses (`'10.0.0.5'`, `'fe80::1'`) or CIDR blocks (`'10.9.0.0/16'`) never to
	 * dial or accept connections from. Matched against every IP in a multiaddr, so a
	 * denied relay also blocks circuit addresses through it.
	 */
	denyAddresses?: Iterable<string>;
	/** Peer ids (`12D3KooW…`) never to connect to or accept, in any direction. */
	denyPeers?: Iterable<string>;
}

/** A libp2p {@link ConnectionGater} whose deny lists can grow at run time. */
export interface MeshGater extends ConnectionGater {
	/** Adds a peer id to the deny list. */
	denyPeer(peerId: string): void;
	/** Adds an IP address or CIDR block to the deny list; throws {@link InvalidDenyEntryError}. */
	denyAddress(ipOrCidr: string): void;
	/** Whether this multiaddr would be refused (deny lists and never-a-peer ranges). */
	isDeniedMultiaddr(ma: Multiaddr): boolean;
}

/** Ranges that cannot name a peer, whatever the deny list says. */
const NEVER_A_PEER = [
	new IpNet('0.0.0.0', 32),
	new IpNet('::', 128),
	new IpNet('224.0.0.0/4'),
	new IpNet('255.255.255.255', 32),
	new IpNet('ff00::/8')
];

function parseNet(entry: string): IpNet {
	const text = entry.trim();
	try {
		if (text.includes('/')) return new IpNet(text);
		return new IpNet(text, text.includes(':') ? 128 : 32);
	} catch {
		throw new InvalidDenyEntryError(`Not an IP address or CIDR block: ${JSON.stringify(entry)}`);
	}
}

/** Creates the mesh's connection gater; see the module comment for the policy. */
export function createMeshGater(init: MeshGaterInit = {}): MeshGater {
	const deniedNets: IpNet[] = [...(init.denyAddresses ?? [])].map(parseNet);
	const deniedPeers = new Set<string>(init.denyPeers ?? []);

	const peerDenied = (peerId: PeerId): boolean => deniedPeers.has(peerId.toString());

	function isDeniedMultiaddr(ma: Multiaddr): boolean {
		for (const { name, value } of ma.getComponents()) {
			if (value == null) continue;
			if (name === 'ip4' || name === 'ip6') {
				if (NEVER_A_PEER.some((net) => net.contains(value))) return true;
				if (deniedNets.some((net) => net.contains(value))) return true;
			} else if (name === 'p2p' && deniedPeers.has(value)) {
				return true;
			}
		}
		return false;
	}

	const connectionDenied = (maConn: MultiaddrConnection): boolean => isDeniedMultiaddr(maConn.remoteAddr);

	return {
		denyPeer(peerId) {
			deniedPeers.add(peerId);
		},
		denyAddress(ipOrCidr) {
			deniedNets.push(parseNet(ipOrCidr));
		},
		isDeniedMultiaddr,
		denyDialPeer: peerDenied,
		denyDialMultiaddr: isDeniedMultiaddr,
		denyInboundConnection: connectionDenied,
		denyOutboundConnection: (peerId, maConn) => peerDenied(peerId) || connectionDenied(maConn),
		denyInboundEncryptedConnection: peerDenied,
		denyOutboundEncryptedConnection: peerDenied,
		denyInboundUpgradedConnection: peerDenied,
		denyOutboundUpgradedConnection: peerDenied,
		denyInboundRelayReservation: peerDenied,
		denyOutboundRelayedConnection: (source, destination) => peerDenied(source) || peerDenied(destination),
		denyInboundRelayedConnection: (relay, remote) => peerDenied(relay) || peerDenied(remote),
		// Filtering addresses we store for other peers is a routing concern, not a safety
		// one: leave every address in the peer store and refuse at dial time instead.
		filterMultiaddrForPeer: () => true
	};
}

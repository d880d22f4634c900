/**
 * A share of the relay's libp2p connections per address. libp2p refuses inbound connections
 * past `maxConnections` (300 on Node) in all and lets one host open five a second, and nothing
 * more: one machine on the LAN, with a fresh peer id per connection, held every slot within a
 * minute (and with them the circuit relay's reservations, one per peer id), after which no
 * member device could reach the relay at all (found in review). Here an address (an IPv6 host
 * by its /64, as the HTTP limits count it) holds at most `maxPerAddress` inbound connections
 * at once; past it, the new connection is refused before its handshake, and the log says so
 * once per address.
 *
 * The count is of open inbound connections; a connection still in its handshake is not yet
 * one, so a host may pass the share by the few libp2p lets be pending at once (ten in all).
 */
import type { Connection, MultiaddrConnection } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import type { MeshGater } from '../src/lib/mesh/gater.ts';
import { onceEach } from './onceEach.ts';
import { addressKey } from './rateLimit.ts';

/** Default of inbound connections one address may hold (browser tabs and devices behind one address, relays). */
export const MAX_CONNECTIONS_PER_ADDRESS = 32;

/** Options of {@link shareConnections}. */
export interface ConnectionShareInit {
	/** Inbound connections one address may hold; default {@link MAX_CONNECTIONS_PER_ADDRESS}. */
	maxPerAddress?: number;
	/** Told once per address when it first passes its share. */
	onRefused?: (address: string, limit: number) => void;
}

/** A gater that keeps each address to its share, and the hook that lets it see the node's connections. */
export interface SharedGater {
	gater: MeshGater;
	/** Counts the connections of `node` from now on (before, nothing is refused). */
	watch(node: { getConnections(): Connection[] }): void;
}

/** The address key (rateLimit.ts `addressKey`) of the first IP in `ma`; undefined for none. */
export function addressOfMultiaddr(ma: Multiaddr): string | undefined {
	for (const { name, value } of ma.getComponents()) {
		if ((name === 'ip4' || name === 'ip6') && value !== undefined) return addressKey(value);
	}
	return undefined;
}

/** Wraps `gater` so that an address holds at most its share of inbound connections; see the module comment. */
export function shareConnections(gater: MeshGater, init: ConnectionShareInit = {}): SharedGater {
	const max = init.maxPerAddress ?? MAX_CONNECTIONS_PER_ADDRESS;
	let connections: () => Connection[] = () => [];
	const firstTimeOver = onceEach();

	const overShare = (maConn: MultiaddrConnection): boolean => {
		const address = addressOfMultiaddr(maConn.remoteAddr);
		if (address === undefined) return false;
		let held = 0;
		for (const connection of connections()) {
			if (connection.direction === 'inbound' && addressOfMultiaddr(connection.remoteAddr) === address) held++;
		}
		if (held < max) return false;
		if (firstTimeOver(address)) init.onRefused?.(address, max);
		return true;
	};

	return {
		gater: {
			...gater,
			denyInboundConnection: async (maConn) => (await gater.denyInboundConnection?.(maConn)) === true || overShare(maConn)
		},
		watch(node) {
			connections = () => node.getConnections();
		}
	};
}

/**
 * The LAN gater: private, loopback, link-local and ws:// addresses are allowed on
 * purpose; never-a-peer ranges and the explicit deny lists are refused, both as
 * decisions and in real dials between nodes.
 */
import '../../src/lib/mesh/polyfills.node.js'; // before anything that loads libp2p
import { afterEach, describe, expect, it } from 'vitest';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { dialWithRetry } from '../../src/lib/mesh/dial.js';
import { createMeshGater } from '../../src/lib/mesh/gater.js';
import { addressOf, startNode, stopAll, waitFor } from './helpers.js';

afterEach(stopAll, 15_000);

const RELAY = '12D3KooWKYyr5nLRjB3fcpnjBQvJvhP3NQsQrYVVzQvYx4WnvP6z';
const REVOKED = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo';

describe('createMeshGater', () => {
	const gater = createMeshGater({ denyAddresses: ['10.9.0.0/16', '192.168.1.66', 'fd00:bad::/32'], denyPeers: [REVOKED] });
	const denied = (ma: string) => gater.isDeniedMultiaddr(multiaddr(ma));

	it('allows loopback, private ranges, link-local, public and ws:// addresses', () => {
		for (const ma of [
			'/ip4/127.0.0.1/tcp/4001',
			'/ip4/10.1.2.3/tcp/8443/ws',
			'/ip4/10.10.0.1/tcp/1', // 10.10/16 is next to the denied 10.9/16
			'/ip4/192.168.1.20/tcp/8443/wss',
			'/ip4/192.168.1.67/tcp/1',
			'/ip4/172.16.5.4/tcp/1',
			'/ip4/169.254.10.20/tcp/1', // a LAN without DHCP
			'/ip6/::1/tcp/4001/ws',
			'/ip6/fe80::1/tcp/1',
			'/ip4/203.0.113.7/tcp/4001', // a relay at another site (--peer)
			'/dns4/relay.local/tcp/8443/ws',
			`/ip4/192.168.1.2/tcp/8443/ws/p2p/${RELAY}/p2p-circuit/webrtc`
		]) {
			expect(denied(ma), ma).toBe(false);
		}
	});

	it('denies the deny list, unspecified, multicast and broadcast addresses', () => {
		for (const ma of [
			'/ip4/10.9.0.1/tcp/1',
			'/ip4/10.9.255.254/tcp/8443/ws',
			'/ip4/192.168.1.66/tcp/1',
			'/ip6/fd00:bad::5/tcp/1',
			'/ip4/0.0.0.0/tcp/4001',
			'/ip6/::/tcp/4001',
			'/ip4/224.0.0.251/udp/5353',
			'/ip4/255.255.255.255/udp/9',
			'/ip6/ff02::fb/udp/5353',
			`/ip4/192.168.1.2/tcp/1/p2p/${REVOKED}`,
			// through a denied relay, or to a denied peer through an allowed relay
			`/ip4/10.9.0.1/tcp/1/p2p/${RELAY}/p2p-circuit/p2p/12D3KooWKYyr5nLRjB3fcpnjBQvJvhP3NQsQrYVVzQvYx4WnvP6z`,
			`/ip4/192.168.1.2/tcp/1/p2p/${RELAY}/p2p-circuit/p2p/${REVOKED}`
		]) {
			expect(denied(ma), ma).toBe(true);
		}
		expect(gater.denyDialMultiaddr?.(multiaddr('/ip4/10.9.0.1/tcp/1'))).toBe(true);
	});

	it('denies listed peers in every direction', async () => {
		const revoked = peerIdFromPrivateKey(await generateKeyPair('Ed25519'));
		const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519'));
		const g = createMeshGater({ denyPeers: [revoked.toString()] });
		expect(g.denyDialPeer?.(revoked)).toBe(true);
		expect(g.denyDialPeer?.(other)).toBe(false);
		expect(g.denyInboundRelayReservation?.(revoked)).toBe(true);
		expect(g.denyOutboundRelayedConnection?.(other, revoked)).toBe(true);
		expect(g.denyInboundRelayedConnection?.(other, other)).toBe(false);
	});

	it('grows its deny lists at run time', () => {
		const g = createMeshGater();
		expect(g.isDeniedMultiaddr(multiaddr('/ip4/192.168.7.7/tcp/1'))).toBe(false);
		g.denyAddress('192.168.7.0/24');
		expect(g.isDeniedMultiaddr(multiaddr('/ip4/192.168.7.7/tcp/1'))).toBe(true);
		g.denyPeer(REVOKED);
		expect(g.isDeniedMultiaddr(multiaddr(`/ip4/127.0.0.1/tcp/1/p2p/${REVOKED}`))).toBe(true);
	});

	it('rejects a deny entry that is not an address', () => {
		expect(() => createMeshGater({ denyAddresses: ['relay.local'] })).toThrow(
			expect.objectContaining({ name: 'InvalidDenyEntryError' })
		);
		expect(() => createMeshGater().denyAddress('10.0.0.0/99')).toThrow(expect.objectContaining({ name: 'InvalidDenyEntryError' }));
	});
});

describe('the gater in real nodes', () => {
	const once = { attempts: 1 };

	it('connects over loopback with the default gater', async () => {
		const a = await startNode();
		const b = await startNode();
		const connection = await dialWithRetry(a, addressOf(b), once);
		expect(connection.remotePeer.equals(b.peerId)).toBe(true);
	});

	it('refuses to dial a denied address', async () => {
		const a = await startNode({ gater: { denyAddresses: ['127.0.0.0/8'] } });
		const b = await startNode();
		// Denied is final: no retries, whatever `attempts` says.
		const error = await dialWithRetry(a, addressOf(b), { attempts: 5, firstDelayMs: 1000 }).catch((e: Error) => e);
		expect(error).toMatchObject({ name: 'DialFailedError', attempts: 1, cause: { name: 'DialDeniedError' } });
		expect(a.getConnections()).toHaveLength(0);
	});

	it('refuses an inbound connection from a denied peer', async () => {
		const a = await startNode();
		const b = await startNode({ gater: { denyPeers: [a.peerId.toString()] } });
		const connectedToB: string[] = [];
		b.addEventListener('peer:connect', (evt) => connectedToB.push(evt.detail.toString()));
		// b learns who is calling only after the Noise handshake, so a's side may see the
		// connection open for a moment before b drops it: either way it must not last.
		await dialWithRetry(a, addressOf(b), once).catch(() => undefined);
		await waitFor(() => a.getConnections(b.peerId).length === 0, 'the refused connection to close', 5000);
		expect(b.getConnections(a.peerId)).toHaveLength(0);
		expect(connectedToB).toEqual([]);
	});
});

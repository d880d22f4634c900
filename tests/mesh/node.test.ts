/**
 * The Node node factory: the stored identity key is the peer id, the relay server is
 * there when asked for, gossip defaults suit a lone peer, and the bootstrap relays are
 * kept: dialled at start and redialled after they come back.
 */
import '../../src/lib/mesh/polyfills.node.js'; // before anything that loads libp2p
import { afterEach, describe, expect, it } from 'vitest';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { RELAY_V2_HOP_CODEC } from '@libp2p/circuit-relay-v2';
import { RELAY_KEEP_ALIVE_TAG } from '../../src/lib/mesh/node.js';
import { addressOf, startNode, stopAll, waitFor } from './helpers.js';

afterEach(stopAll, 15_000);

describe('createMeshNode (Node)', () => {
	it('uses the stored Ed25519 key as its peer id', async () => {
		const stored = privateKeyToProtobuf(await generateKeyPair('Ed25519')); // as identity.ts keeps it
		const key = privateKeyFromProtobuf(stored);
		const node = await startNode({ privateKey: key });
		expect(node.status).toBe('started');
		expect(node.peerId.toString()).toBe(peerIdFromPrivateKey(key).toString());
		expect(node.peerId.toString()).toMatch(/^12D3KooW/);
		expect(node.getMultiaddrs().every((ma) => ma.toString().startsWith('/ip4/127.0.0.1/tcp/'))).toBe(true);
	});

	it('runs a circuit relay server only when asked', async () => {
		const relay = await startNode({ relayServer: true });
		const plain = await startNode();
		expect(relay.services.relay).toBeDefined();
		expect(relay.getProtocols()).toContain(RELAY_V2_HOP_CODEC);
		expect(plain.services.relay).toBeUndefined();
		expect(plain.getProtocols()).not.toContain(RELAY_V2_HOP_CODEC);
	});

	it('publishes with no subscribers without error (writes never wait for the network)', async () => {
		const node = await startNode();
		node.services.pubsub.subscribe('outpost-test/alone');
		await expect(node.services.pubsub.publish('outpost-test/alone', new Uint8Array([1]))).resolves.toBeDefined();
	});

	it('refuses a relay address it could not use', async () => {
		for (const bad of ['not a multiaddr', '/ip4/127.0.0.1/tcp/4001/ws']) {
			await expect(startNode({ bootstrap: [bad] })).rejects.toMatchObject({ name: 'InvalidRelayAddressError' });
		}
	});

	it('keeps its bootstrap relay: dials it at start and again after it restarts', async () => {
		const relayKey = await generateKeyPair('Ed25519');
		let relay = await startNode({ privateKey: relayKey, relayServer: true });
		const relayAddress = addressOf(relay);
		const peer = await startNode({ bootstrap: [relayAddress.toString()] });

		await waitFor(() => peer.getConnections(relay.peerId).length > 0, 'the bootstrap dial');
		const stored = await peer.peerStore.get(relay.peerId);
		expect(stored.tags.has(RELAY_KEEP_ALIVE_TAG)).toBe(true);

		await relay.stop();
		await waitFor(() => peer.getConnections(relay.peerId).length === 0, 'the relay to go');
		const port = relayAddress.toString().split('/')[4];
		relay = await startNode({ privateKey: relayKey, relayServer: true, listen: [`/ip4/127.0.0.1/tcp/${port}`] });
		// libp2p's reconnect queue redials keep-alive peers with backoff (first retry ~1 s).
		await waitFor(() => peer.getConnections(relay.peerId).length > 0, 'the redial', 12_000);
	}, 20_000);
});

/**
 * BrowserPeer's own duties, with Node nodes standing in for the browser's (same class,
 * TCP instead of WebSockets/WebRTC): it keeps its relay connected across a relay restart,
 * merges addresses of one relay into one connection, ignores malformed ones, and syncs a
 * workspace through the relay's archive-less forwarding once reconnected.
 */
import { generateKeyPair } from '@libp2p/crypto/keys';
import { afterEach, describe, expect, it } from 'vitest';
import { BrowserPeer } from '../../src/lib/mesh/browserPeer.js';
import { createMeshNode } from '../../src/lib/mesh/node.node.js';
import { addressOf, freePort, startNode, stopAll } from './helpers.js';

const peers: BrowserPeer[] = [];
afterEach(async () => {
	for (const peer of peers.splice(0)) await peer.stop();
	await stopAll();
});

async function until(check: () => boolean, ms = 10_000): Promise<void> {
	const deadline = Date.now() + ms;
	while (!check()) {
		if (Date.now() > deadline) throw new Error('condition not met in time');
		await new Promise((r) => setTimeout(r, 25));
	}
}

async function browserLike(relays: string[]): Promise<BrowserPeer> {
	const peer = await BrowserPeer.start({
		privateKey: await generateKeyPair('Ed25519'),
		relays,
		createNode: (init) => createMeshNode({ ...init, listen: ['/ip4/127.0.0.1/tcp/0'] }),
		mesh: { antiEntropyIntervalMs: 0 },
		maxRelayDelayMs: 300
	});
	peers.push(peer);
	return peer;
}

describe('BrowserPeer', () => {
	it('redials its relay after the relay restarts', async () => {
		const key = await generateKeyPair('Ed25519');
		const port = await freePort();
		const listen = [`/ip4/127.0.0.1/tcp/${port}`];
		let relay = await startNode({ privateKey: key, listen, relayServer: true });
		const address = addressOf(relay).toString();
		const peer = await browserLike([address]);
		await until(() => peer.links().relays === 1);

		await relay.stop();
		await until(() => peer.links().relays === 0);
		relay = await startNode({ privateKey: key, listen, relayServer: true });
		await until(() => peer.links().relays === 1, 15_000);
		const restarted = relay;
		await until(() => restarted.getConnections().some((c) => c.remotePeer.toString() === peer.peerId));
	}, 30_000);

	it('dials the addresses of one relay as one connection and skips malformed ones', async () => {
		const relay = await startNode({ relayServer: true, listen: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0'] });
		const addresses = relay.getMultiaddrs().map(String);
		expect(addresses.length).toBeGreaterThan(1);
		const peer = await browserLike([...addresses, 'garbage', '/ip4/127.0.0.1/tcp/1', addresses[0]!]);
		await until(() => peer.links().relays === 1);
		expect(peer.relayAddresses().sort()).toEqual([...addresses].sort());
		// The relay's side registers the inbound connection a moment after the dialer's (a loaded
		// machine once showed none yet); then a short wait gives a second dial time to show up.
		const fromPeer = () => relay.getConnections().filter((c) => c.remotePeer.toString() === peer.peerId);
		await until(() => fromPeer().length > 0);
		await new Promise((r) => setTimeout(r, 500));
		expect(fromPeer()).toHaveLength(1);
	});
});

/**
 * Many peers from one address. Gossipsub's default peer scoring counts every peer seen from one
 * IP in the last hour (disconnected ones included) and, past ten, graylists all of them: a relay
 * that had served more than about a dozen browsers from one address (a NAT'd Wi-Fi, a laptop
 * whose extra tabs each start a node with a throwaway key, the e2e suite) then ignored every
 * newcomer from it, so two fresh browsers never heard each other's announcements. Membership is
 * what Outpost trusts, not addresses: the mesh turns that penalty off. This test fails with it on.
 */
import '../../src/lib/mesh/polyfills.node.js'; // before anything that loads libp2p
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeMeshNode } from '../../src/lib/mesh/node.node.js';
import { addressOf, startNode, stopAll, waitFor } from './helpers.js';

const TOPIC = '/outpost/test/shared-address';

afterEach(stopAll);

async function joinTopic(node: NodeMeshNode, relay: NodeMeshNode): Promise<void> {
	node.services.pubsub.subscribe(TOPIC);
	await node.dial(addressOf(relay));
	await waitFor(() => relay.services.pubsub.getSubscribers(TOPIC).some((p) => p.equals(node.peerId)), 'the relay to see the subscription');
}

describe('many peers from one address', () => {
	it('still meet through a relay after fifteen others from that address came and went', async () => {
		const relay = await startNode();
		relay.services.pubsub.subscribe(TOPIC);
		// Fifteen peers, all from 127.0.0.1, each subscribes through the relay and leaves.
		for (let i = 0; i < 15; i++) {
			const ghost = await startNode();
			await joinTopic(ghost, relay);
			await ghost.stop();
			// libp2p takes at most five inbound connections a second from one host.
			await new Promise((resolve) => setTimeout(resolve, 250));
		}
		const a = await startNode();
		const b = await startNode();
		await joinTopic(a, relay);
		await joinTopic(b, relay);
		const heard: string[] = [];
		b.services.pubsub.addEventListener('message', (event) => {
			if (event.detail.topic === TOPIC) heard.push(new TextDecoder().decode(event.detail.data));
		});
		// a and b are linked only through the relay, which must forward a's message.
		expect(a.getConnections(b.peerId)).toHaveLength(0);
		const deadline = Date.now() + 10_000;
		while (heard.length === 0 && Date.now() < deadline) {
			await a.services.pubsub.publish(TOPIC, new TextEncoder().encode('hello through the relay'));
			await new Promise((resolve) => setTimeout(resolve, 250));
		}
		expect(heard).toContain('hello through the relay');
	}, 60_000);
});

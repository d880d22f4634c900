/**
 * Five real libp2p nodes over TCP on 127.0.0.1, connected through their bootstrap lists:
 * gossipsub delivers one node's message to every other node, in a star (through the
 * hub) and in a chain (through three intermediaries).
 */
import '../../src/lib/mesh/polyfills.node.js'; // before anything that loads libp2p
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeMeshNode } from '../../src/lib/mesh/node.node.js';
import { addressOf, startNode, stopAll, waitFor } from './helpers.js';

const TOPIC = 'outpost-test/workspace';

afterEach(stopAll, 15_000);

/** Mesh peers of `node` on TOPIC (the implementation exposes them; the interface does not). */
function meshPeers(node: NodeMeshNode): string[] {
	return (node.services.pubsub as unknown as { getMeshPeers(topic: string): string[] }).getMeshPeers(TOPIC);
}

/** Collects the text of every message each node receives on TOPIC. */
function collect(nodes: NodeMeshNode[]): string[][] {
	return nodes.map((node) => {
		const got: string[] = [];
		node.services.pubsub.addEventListener('message', (evt) => {
			if (evt.detail.topic === TOPIC) got.push(new TextDecoder().decode(evt.detail.data));
		});
		node.services.pubsub.subscribe(TOPIC);
		return got;
	});
}

/** Waits until every edge (a, b) is in both nodes' gossip mesh for TOPIC. */
async function waitForMesh(edges: Array<[NodeMeshNode, NodeMeshNode]>): Promise<void> {
	await waitFor(
		() => edges.every(([a, b]) => meshPeers(a).includes(b.peerId.toString()) && meshPeers(b).includes(a.peerId.toString())),
		'the gossip mesh to form'
	);
}

describe('gossipsub over five TCP nodes', () => {
	it('star: a leaf reaches every node through the hub', async () => {
		const hub = await startNode();
		const bootstrap = [addressOf(hub).toString()];
		const leaves = await Promise.all([1, 2, 3, 4].map(() => startNode({ bootstrap })));
		const nodes = [hub, ...leaves];
		const inboxes = collect(nodes);

		await waitFor(() => leaves.every((leaf) => leaf.getConnections(hub.peerId).length > 0), 'leaves to reach the hub');
		await waitForMesh(leaves.map((leaf) => [hub, leaf] as [NodeMeshNode, NodeMeshNode]));

		const sender = leaves[0]!;
		await sender.services.pubsub.publish(TOPIC, new TextEncoder().encode('hello from a leaf'));
		await waitFor(() => inboxes.every((inbox, i) => nodes[i] === sender || inbox.length === 1), 'delivery');

		inboxes.forEach((inbox, i) => expect(inbox).toEqual(nodes[i] === sender ? [] : ['hello from a leaf']));
		// Leaves only know the hub: the message went through it.
		expect(leaves[1]!.getConnections(sender.peerId)).toHaveLength(0);
	}, 20_000);

	it('chain: a message crosses three intermediaries', async () => {
		const nodes: NodeMeshNode[] = [await startNode()];
		for (let i = 1; i < 5; i++) {
			nodes.push(await startNode({ bootstrap: [addressOf(nodes[i - 1]!).toString()] }));
		}
		const inboxes = collect(nodes);
		const edges = nodes.slice(1).map((node, i) => [nodes[i]!, node] as [NodeMeshNode, NodeMeshNode]);
		await waitFor(() => edges.every(([a, b]) => b.getConnections(a.peerId).length > 0), 'the chain to connect');
		await waitForMesh(edges);

		await nodes[0]!.services.pubsub.publish(TOPIC, new TextEncoder().encode('down the line'));
		await waitFor(() => inboxes.slice(1).every((inbox) => inbox.length === 1), 'delivery to the far end');

		expect(inboxes[0]).toEqual([]);
		expect(inboxes.slice(1)).toEqual([['down the line'], ['down the line'], ['down the line'], ['down the line']]);
		// The ends are not connected: the far end got it through the middle.
		expect(nodes[4]!.getConnections(nodes[0]!.peerId)).toHaveLength(0);

		// And back the other way.
		await nodes[4]!.services.pubsub.publish(TOPIC, new TextEncoder().encode('and back'));
		await waitFor(() => inboxes[0]!.length === 1, 'delivery back to the start');
		expect(inboxes[0]).toEqual(['and back']);
	}, 20_000);
});

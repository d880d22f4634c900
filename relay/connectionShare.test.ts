/**
 * The relay's share of libp2p connections per address (connectionShare.ts), against a relay
 * started in-process on 127.0.0.1 and stranger peers on real libp2p nodes, each with a fresh
 * peer id, as one machine on the LAN would try to take every slot.
 */
import '../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { multiaddr } from '@multiformats/multiaddr';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMeshNode, type NodeMeshNode } from '../src/lib/mesh/node.node.ts';
import { addressOfMultiaddr } from './connectionShare.ts';
import { runRelay, type RunningRelay } from './run.ts';

let tmp: string;
const stops: Array<() => Promise<void>> = [];

beforeEach(async () => {
	tmp = await mkdtemp(join(tmpdir(), 'outpost-connshare-'));
	await mkdir(join(tmp, 'build'), { recursive: true });
	await writeFile(join(tmp, 'build', 'index.html'), '<!doctype html><title>home</title>');
});

afterEach(async () => {
	for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
	await rm(tmp, { recursive: true, force: true });
}, 15_000);

async function stranger(): Promise<NodeMeshNode> {
	const node = await createMeshNode({ privateKey: await generateKeyPair('Ed25519'), listen: [] });
	stops.push(async () => {
		await node.stop();
	});
	return node;
}

async function waitFor(check: () => boolean, what: string, ms = 10_000): Promise<void> {
	const until = Date.now() + ms;
	while (!check()) {
		if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
}

describe('connections per address', () => {
	it('one address holds at most its share of connections to the relay; past it, new ones are refused (logged once) until one closes', async () => {
		const logged: string[] = [];
		const relay: RunningRelay = await runRelay({
			root: join(tmp, 'build'),
			dataDir: join(tmp, 'data'),
			host: '127.0.0.1',
			port: 0,
			mdns: false,
			lanIps: [],
			log: (line) => logged.push(line),
			quotas: { connectionsPerAddress: 3 }
		});
		stops.push(() => relay.close());
		const tcp = multiaddr(relay.node.getMultiaddrs().find((ma) => !ma.toString().includes('/ws'))!.toString());
		const inbound = () => relay.node.getConnections().filter((c) => c.direction === 'inbound').length;

		const held = [];
		for (let i = 0; i < 3; i++) {
			const node = await stranger();
			await node.dial(tcp, { signal: AbortSignal.timeout(5000) });
			held.push(node);
		}
		await waitFor(() => inbound() === 3, 'three connections at the relay');
		const late = await stranger();
		await expect(late.dial(tcp, { signal: AbortSignal.timeout(5000) })).rejects.toThrow();
		await expect((await stranger()).dial(tcp, { signal: AbortSignal.timeout(5000) })).rejects.toThrow();
		expect(inbound()).toBe(3);
		expect(logged.filter((line) => line.startsWith('Connections from 127.0.0.1'))).toHaveLength(1);

		// A connection closed frees its slot.
		await held[0]!.stop();
		await waitFor(() => inbound() === 2, 'the relay to see the connection closed');
		await new Promise((resolve) => setTimeout(resolve, 1100)); // libp2p's own limit: five new connections a second per host
		const connection = await late.dial(tcp, { signal: AbortSignal.timeout(5000) });
		expect(connection.remotePeer.equals(relay.node.peerId)).toBe(true);
	}, 30_000);

	it('counts an IPv6 host by its /64 and an IPv4-mapped one by its IPv4 address', () => {
		expect(addressOfMultiaddr(multiaddr('/ip4/10.0.0.7/tcp/4001'))).toBe('10.0.0.7');
		expect(addressOfMultiaddr(multiaddr('/ip6/2001:db8:1:2:aaaa::1/tcp/4001/ws'))).toBe(addressOfMultiaddr(multiaddr('/ip6/2001:db8:1:2:bbbb::9/tcp/9/ws')));
		expect(addressOfMultiaddr(multiaddr('/ip6/2001:db8:1:3::1/tcp/4001'))).not.toBe(addressOfMultiaddr(multiaddr('/ip6/2001:db8:1:2::1/tcp/4001')));
		expect(addressOfMultiaddr(multiaddr('/ip6/::ffff:192.0.2.1/tcp/1'))).toBe('192.0.2.1');
		expect(addressOfMultiaddr(multiaddr('/dns4/relay.lan/tcp/1'))).toBeUndefined();
	});
});

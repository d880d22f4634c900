/**
 * Shared setup for the in-process mesh tests: real libp2p nodes over TCP on 127.0.0.1,
 * all stopped after each test.
 */
import '../../src/lib/mesh/polyfills.node.js';
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { Stream } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import { createMeshNode } from '../../src/lib/mesh/node.node.js';
import type { NodeMeshNode, NodeMeshNodeInit } from '../../src/lib/mesh/node.node.js';
import { HUDDLE_PROTOCOL_ID } from '../../src/lib/huddle/huddleMessages.js';

/** Loopback only: tests never listen on a real interface. */
export const LOOPBACK_TCP = '/ip4/127.0.0.1/tcp/0';

const running: NodeMeshNode[] = [];
const servers: Server[] = [];
const sockets = new Set<Socket>();

/** Starts a Node mesh node on 127.0.0.1 with a fresh key; stopped by {@link stopAll}. */
export async function startNode(init: Partial<NodeMeshNodeInit> = {}): Promise<NodeMeshNode> {
	const node = await createMeshNode({
		privateKey: init.privateKey ?? (await generateKeyPair('Ed25519')),
		listen: [LOOPBACK_TCP],
		...init
	});
	running.push(node);
	return node;
}

/** The node's first TCP address, with its peer id. */
export function addressOf(node: NodeMeshNode): Multiaddr {
	const ma = node.getMultiaddrs().find((a) => a.toString().includes('/tcp/'));
	if (ma === undefined) throw new Error(`${node.peerId} has no TCP address`);
	return ma;
}

/** A TCP server on 127.0.0.1 that accepts connections and never says a word (a hung dial). */
export async function startSilentServer(): Promise<number> {
	const server = createServer((socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
		socket.on('error', () => {});
	});
	servers.push(server);
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const address = server.address();
	if (address === null || typeof address === 'string') throw new Error('no port');
	return address.port;
}

/**
 * A TCP proxy on 127.0.0.1 to `targetPort` whose first `hang` connections are accepted
 * and then ignored, like a WebRTC dial that stalls over a fresh relay reservation.
 */
export async function startFlakyProxy(targetPort: number, hang = 1): Promise<number> {
	let seen = 0;
	const server = createServer((socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
		socket.on('error', () => {});
		if (seen++ < hang) return;
		const upstream = connect(targetPort, '127.0.0.1');
		sockets.add(upstream);
		upstream.on('close', () => sockets.delete(upstream));
		upstream.on('error', () => socket.destroy());
		socket.on('close', () => upstream.destroy());
		upstream.on('close', () => socket.destroy());
		socket.pipe(upstream).pipe(socket);
	});
	servers.push(server);
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const address = server.address();
	if (address === null || typeof address === 'string') throw new Error('no port');
	return address.port;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (nothing listens on it now). */
export async function freePort(): Promise<number> {
	const server = createServer();
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const address = server.address();
	await new Promise<void>((resolve) => server.close(() => resolve()));
	if (address === null || typeof address === 'string') throw new Error('no port');
	return address.port;
}

/** Stops every node and server started by these helpers. */
export async function stopAll(): Promise<void> {
	// One at a time: two ends stopping at once while a connection is still settling
	// wait out a 500 ms close timeout; in turn each stop takes a few milliseconds.
	for (const node of running.splice(0)) await node.stop();
	sockets.forEach((socket) => socket.destroy());
	await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
}

/** Polls `check` every 20 ms until it is true, failing after `timeoutMs` with `what`. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!check()) {
		if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
}

/** {@link waitFor} for a check that must read something first (a store): waits until `check` resolves true. */
export async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!(await check())) {
		if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
}

/** Resolves with the stream's final status once it is closed or reset (or its status after `ms`). */
export function ended(stream: Stream, ms: number): Promise<string> {
	if (stream.status !== 'open' && stream.status !== 'closing') return Promise.resolve(stream.status);
	return new Promise((resolve) => {
		const timer = setTimeout(() => resolve(stream.status), ms);
		stream.addEventListener('close', () => {
			clearTimeout(timer);
			resolve(stream.status);
		});
	});
}

/** Encodes an unsigned varint (to hand-craft hostile length prefixes). */
export function varint(n: number): Uint8Array {
	const out: number[] = [];
	while (n >= 0x80) {
		out.push((n % 0x80) | 0x80);
		n = Math.floor(n / 0x80);
	}
	out.push(n);
	return Uint8Array.from(out);
}

/** The value at quantile `q` (0–1) of ascending `sorted`. */
export function quantile(sorted: number[], q: number): number {
	const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
	return sorted[index] ?? Number.NaN;
}

/** `server`'s huddle streams with `remote` that are still open. */
export function huddleStreams(server: NodeMeshNode, remote: string) {
	return server
		.getConnections()
		.filter((c) => c.remotePeer.toString() === remote)
		.flatMap((c) => c.streams)
		.filter((s) => s.protocol === HUDDLE_PROTOCOL_ID && s.status === 'open');
}

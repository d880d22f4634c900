/**
 * The whole relay in-process on 127.0.0.1 (no mDNS): its identity kept across restarts,
 * the well-known endpoint, wss with the LAN certificate, and two relays joined by --peer.
 */
import '../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { multiaddr } from '@multiformats/multiaddr';
import WebSocketImpl from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMeshNode } from '../src/lib/mesh/node.node.ts';
import { peerKeyPath } from './peerKey.ts';
import { p2pListenAddresses, runRelay } from './run.ts';
import type { RunRelayInit, RunningRelay } from './run.ts';
import { WELL_KNOWN_PATH } from './server.ts';
import type { RelayInfo } from './server.ts';

let tmp: string;
let root: string;
const running: RunningRelay[] = [];

beforeEach(async () => {
	tmp = await mkdtemp(join(tmpdir(), 'outpost-run-'));
	root = join(tmp, 'build');
	await mkdir(root, { recursive: true });
	await writeFile(join(root, 'index.html'), '<!doctype html><title>home</title>');
});

afterEach(async () => {
	// One at a time: stopping both ends of a connection in parallel waits out a close.
	for (const relay of running.splice(0)) await relay.close();
	await rm(tmp, { recursive: true, force: true });
}, 15_000);

/** A relay on 127.0.0.1 with free ports, no mDNS, quiet. */
async function start(name: string, init: Partial<RunRelayInit> = {}): Promise<RunningRelay> {
	const relay = await runRelay({
		root,
		dataDir: join(tmp, name),
		host: '127.0.0.1',
		port: 0,
		mdns: false,
		lanIps: [],
		log: () => {},
		...init
	});
	running.push(relay);
	return relay;
}

async function waitFor(check: () => boolean, what: string, ms = 10_000): Promise<void> {
	const until = Date.now() + ms;
	while (!check()) {
		if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
}

describe('p2pListenAddresses', () => {
	it('gives TCP and ws on a loopback host, and TCP, wss and loopback ws on the LAN', () => {
		expect(p2pListenAddresses('127.0.0.1', 4175, false)).toEqual(['/ip4/127.0.0.1/tcp/4175', '/ip4/127.0.0.1/tcp/4176/ws']);
		expect(p2pListenAddresses(undefined, 8445, true)).toEqual([
			'/ip4/0.0.0.0/tcp/8445',
			'/ip4/0.0.0.0/tcp/8446/tls/ws',
			'/ip4/127.0.0.1/tcp/8447/ws'
		]);
		expect(p2pListenAddresses('::1', 0, false)).toEqual(['/ip6/::1/tcp/0', '/ip6/::1/tcp/0/ws']);
		expect(p2pListenAddresses('localhost', 0, false)[0]).toBe('/ip4/127.0.0.1/tcp/0');
	});
});

describe('runRelay', () => {
	it('keeps its peer identity in <data>/peer-key across restarts', async () => {
		const first = await start('a');
		expect(first.createdPeerKey).toBe(true);
		const id = first.node.peerId.toString();
		const stored = await readFile(peerKeyPath(join(tmp, 'a')));
		await running.pop()?.close();

		const second = await start('a');
		expect(second.createdPeerKey).toBe(false);
		expect(second.node.peerId.toString()).toBe(id);
		expect(await readFile(peerKeyPath(join(tmp, 'a')))).toEqual(stored);
	});

	it('refuses to start over a damaged peer key instead of replacing the identity', async () => {
		await mkdir(join(tmp, 'bad'), { recursive: true });
		await writeFile(peerKeyPath(join(tmp, 'bad')), 'garbage');
		await expect(start('bad')).rejects.toMatchObject({ name: 'PeerKeyError' });
	});

	it('serves plain HTTP on a loopback host and describes itself at /.well-known/outpost.json', async () => {
		const relay = await start('a');
		expect(relay.server.https).toBe(false);
		expect(relay.certificate).toBeUndefined();
		expect(relay.urls()).toEqual([`http://127.0.0.1:${relay.server.port}`]);
		const res = await fetch(`${relay.server.url}${WELL_KNOWN_PATH}`);
		expect(res.status).toBe(200);
		expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
		expect(res.headers.get('cache-control')).toBe('no-store');
		const info = (await res.json()) as RelayInfo;
		expect(info.peerId).toBe(relay.node.peerId.toString());
		expect(info.multiaddrs.length).toBeGreaterThan(0);
		for (const ma of info.multiaddrs) {
			expect(ma).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/ws/p2p/${info.peerId}$`));
		}
		expect((await fetch(`${relay.server.url}${WELL_KNOWN_PATH}`, { method: 'POST' })).status).toBe(405);
		expect((await fetch(`${relay.server.url}/`)).status).toBe(200);
	});

	it('with secure: HTTPS and wss with the LAN certificate, ws on 127.0.0.1, all in the well-known list', async () => {
		const relay = await start('s', { secure: true });
		const cert = relay.certificate?.cert;
		expect(cert).toBeDefined();
		expect(relay.server.https).toBe(true);
		const httpPort = relay.server.httpUrl?.split(':')[2];
		expect(relay.urls()).toEqual([`http://localhost:${httpPort}`, `https://127.0.0.1:${relay.server.port}`]);

		const info = await new Promise<RelayInfo>((resolve, reject) => {
			const req = httpsRequest(`${relay.server.url}${WELL_KNOWN_PATH}`, { ca: cert, timeout: 5000 }, (res) => {
				let body = '';
				res.setEncoding('utf8');
				res.on('data', (chunk: string) => (body += chunk));
				res.on('end', () => resolve(JSON.parse(body) as RelayInfo));
			});
			req.on('error', reject);
			req.end();
		});
		const wss = info.multiaddrs.find((ma) => ma.includes('/tls/ws/'));
		expect(wss).toBeDefined();
		expect(info.multiaddrs.some((ma) => /\/tcp\/\d+\/ws\/p2p\//.test(ma))).toBe(true);

		// The wss listener presents the same certificate, and it verifies for 127.0.0.1.
		const port = Number(wss?.split('/')[4]);
		const presented = await new Promise<{ authorized: boolean; fingerprint: string }>((resolve, reject) => {
			const socket = tlsConnect({ host: '127.0.0.1', port, ca: cert, timeout: 5000 }, () => {
				resolve({ authorized: socket.authorized, fingerprint: socket.getPeerX509Certificate()?.fingerprint256 ?? '' });
				socket.destroy();
			});
			socket.on('error', reject);
		});
		expect(presented).toEqual({ authorized: true, fingerprint: relay.certificate?.fingerprint256 });
	});

	it('a libp2p peer that trusts the certificate connects over wss (as a browser that accepted it)', async () => {
		const relay = await start('s', { secure: true });
		const cert = relay.certificate?.cert;
		const wss = relay.info().multiaddrs.find((ma) => ma.includes('/tls/ws/'));
		expect(wss).toBeDefined();
		const untrusting = await createMeshNode({ privateKey: await generateKeyPair('Ed25519'), listen: [] });
		try {
			// A self-signed certificate nobody accepted is refused, as in a fresh browser.
			await expect(untrusting.dial(multiaddr(wss!), { signal: AbortSignal.timeout(5000) })).rejects.toThrow();
		} finally {
			await untrusting.stop();
		}
		// @libp2p/websockets dials with the global WebSocket: give it one that trusts our CA.
		const g = globalThis as unknown as { WebSocket: unknown };
		const original = g.WebSocket;
		g.WebSocket = class extends WebSocketImpl {
			constructor(url: string, protocols?: string | string[]) {
				super(url, protocols, { ca: cert });
			}
		};
		const client = await createMeshNode({ privateKey: await generateKeyPair('Ed25519'), listen: [] });
		try {
			const connection = await client.dial(multiaddr(wss!), { signal: AbortSignal.timeout(5000) });
			expect(connection.remotePeer.toString()).toBe(relay.node.peerId.toString());
			expect(connection.remoteAddr.toString()).toContain('/tls/ws/');
		} finally {
			g.WebSocket = original;
			await client.stop();
		}
	});

	it('two relays: the one given the other with --peer connects to it', async () => {
		const shore = await start('shore');
		const tcp = shore.node.getMultiaddrs().find((ma) => !ma.toString().includes('/ws'));
		expect(tcp).toBeDefined();
		const vessel = await start('vessel', { peers: [tcp!.toString()] });
		await waitFor(() => vessel.node.getConnections(shore.node.peerId).length > 0, 'the --peer dial');
		await waitFor(() => shore.node.getConnections(vessel.node.peerId).length > 0, 'the other end');
	});

	it('keeps dialling a --peer that is not up yet', async () => {
		const shoreDir = 'late-shore';
		// A port below the ephemeral range (32768+ on Linux): while the shore is down, no other
		// test's port-0 listener can be given it, so the shore gets it back.
		const port = 20_000 + Math.floor(Math.random() * 10_000);
		// Learn the shore's identity and addresses, then stop it.
		let shore = await start(shoreDir, { p2pPort: port });
		const tcp = shore.node.getMultiaddrs().find((ma) => !ma.toString().includes('/ws'))!.toString();
		await running.pop()?.close();

		const vessel = await start('vessel', { peers: [tcp] });
		await new Promise((resolve) => setTimeout(resolve, 300));
		shore = await start(shoreDir, { p2pPort: port });
		await waitFor(() => vessel.node.getConnections(shore.node.peerId).length > 0, 'the retried dial', 12_000);
	}, 20_000);
});

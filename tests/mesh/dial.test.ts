/**
 * dialWithRetry against real TCP listeners on 127.0.0.1: a peer that starts late, a peer
 * that never comes, a dial that hangs (a silent TCP server), and the caller's signal.
 */
import '../../src/lib/mesh/polyfills.node.js'; // before anything that loads libp2p
import { afterEach, describe, expect, it } from 'vitest';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { backoffDelay, dialWithRetry } from '../../src/lib/mesh/dial.js';
import type { RetryEvent } from '../../src/lib/mesh/dial.js';
import { linkKind } from '../../src/lib/mesh/node.js';
import { addressOf, freePort, startFlakyProxy, startNode, startSilentServer, stopAll } from './helpers.js';

afterEach(stopAll, 15_000);

/** Rejection of `promise`, and how long it took to arrive. */
async function timedRejection(promise: Promise<unknown>): Promise<{ error: Error; ms: number }> {
	const started = performance.now();
	try {
		await promise;
	} catch (error) {
		return { error: error as Error, ms: performance.now() - started };
	}
	throw new Error('expected a rejection');
}

describe('dialWithRetry', () => {
	it('connects once a late peer starts listening', async () => {
		const key = await generateKeyPair('Ed25519');
		const port = await freePort();
		const target = multiaddr(`/ip4/127.0.0.1/tcp/${port}/p2p/${peerIdFromPrivateKey(key)}`);
		const dialer = await startNode();
		const retries: RetryEvent[] = [];

		const dialing = dialWithRetry(dialer, target, {
			attempts: 20,
			firstDelayMs: 50,
			maxDelayMs: 200,
			onRetry: (event) => retries.push(event)
		});
		await new Promise((resolve) => setTimeout(resolve, 400));
		await startNode({ privateKey: key, listen: [`/ip4/127.0.0.1/tcp/${port}`] });

		const connection = await dialing;
		expect(connection.remotePeer.toString()).toBe(peerIdFromPrivateKey(key).toString());
		expect(retries.length).toBeGreaterThan(0);
		expect(retries.every((r) => r.error instanceof Error && r.delayMs > 0)).toBe(true);
	});

	it('gives up after the attempts with a DialFailedError naming the target', async () => {
		const key = await generateKeyPair('Ed25519');
		const target = multiaddr(`/ip4/127.0.0.1/tcp/${await freePort()}/p2p/${peerIdFromPrivateKey(key)}`);
		const dialer = await startNode();
		const retries: RetryEvent[] = [];

		const { error } = await timedRejection(
			dialWithRetry(dialer, target, { attempts: 3, firstDelayMs: 10, onRetry: (e) => retries.push(e) })
		);
		expect(error.name).toBe('DialFailedError');
		expect(error).toMatchObject({ attempts: 3 });
		expect(error.message).toContain(target.toString());
		expect(error.message).toContain('after 3 attempts');
		expect(error.cause).toBeInstanceOf(Error);
		expect(retries.map((r) => r.attempt)).toEqual([1, 2]);
	});

	it('times out a hung attempt quickly and retries', async () => {
		const port = await startSilentServer();
		const key = await generateKeyPair('Ed25519');
		const target = multiaddr(`/ip4/127.0.0.1/tcp/${port}/p2p/${peerIdFromPrivateKey(key)}`);
		const dialer = await startNode();

		const { error, ms } = await timedRejection(
			dialWithRetry(dialer, target, { attempts: 2, firstTimeoutMs: 150, firstDelayMs: 10 })
		);
		expect(error.name).toBe('DialFailedError');
		expect((error.cause as Error).name).toBe('TimeoutError');
		// 150 ms + ≤10 ms + 300 ms, with slack for a loaded machine; libp2p's own dial
		// timeout (10 s) would be far longer.
		expect(ms).toBeLessThan(2500);
	});

	it('recovers from an attempt that hangs: a short timeout, then a retry that connects', async () => {
		const target = await startNode();
		const port = Number(addressOf(target).toString().split('/')[4]);
		const proxy = await startFlakyProxy(port, 1);
		const dialer = await startNode();
		const retries: RetryEvent[] = [];

		const started = performance.now();
		const connection = await dialWithRetry(dialer, multiaddr(`/ip4/127.0.0.1/tcp/${proxy}/p2p/${target.peerId}`), {
			firstTimeoutMs: 200,
			firstDelayMs: 10,
			onRetry: (event) => retries.push(event)
		});
		expect(connection.remotePeer.equals(target.peerId)).toBe(true);
		expect(retries.map((r) => r.error.name)).toEqual(['TimeoutError']);
		expect(performance.now() - started).toBeLessThan(2000);
	});

	it('aborts a hung attempt promptly when the signal aborts', async () => {
		const port = await startSilentServer();
		const key = await generateKeyPair('Ed25519');
		const target = multiaddr(`/ip4/127.0.0.1/tcp/${port}/p2p/${peerIdFromPrivateKey(key)}`);
		const dialer = await startNode();
		const controller = new AbortController();

		const dialing = dialWithRetry(dialer, target, { firstTimeoutMs: 10_000, signal: controller.signal });
		setTimeout(() => controller.abort(), 100);
		const { error, ms } = await timedRejection(dialing);
		expect(error.name).toBe('AbortError');
		expect(ms).toBeLessThan(1000);
	});

	it('aborts promptly while waiting between attempts', async () => {
		const key = await generateKeyPair('Ed25519');
		const target = multiaddr(`/ip4/127.0.0.1/tcp/${await freePort()}/p2p/${peerIdFromPrivateKey(key)}`);
		const dialer = await startNode();
		const controller = new AbortController();
		let failed = 0;

		const dialing = dialWithRetry(dialer, target, {
			firstDelayMs: 30_000,
			random: () => 0.5,
			signal: controller.signal,
			onRetry: () => {
				failed++;
				setTimeout(() => controller.abort(new DOMException('user left', 'AbortError')), 50);
			}
		});
		const { error, ms } = await timedRejection(dialing);
		expect(failed).toBe(1);
		expect(error.name).toBe('AbortError');
		expect(error.message).toBe('user left');
		expect(ms).toBeLessThan(2000);
	});

	it('rejects at once on an already aborted signal', async () => {
		const dialer = await startNode();
		const target = multiaddr(`/ip4/127.0.0.1/tcp/1/p2p/${peerIdFromPrivateKey(await generateKeyPair('Ed25519'))}`);
		await expect(dialWithRetry(dialer, target, { signal: AbortSignal.abort() })).rejects.toMatchObject({
			name: 'AbortError'
		});
	});
});

describe('backoffDelay', () => {
	it('doubles from firstDelayMs, caps at maxDelayMs and jitters within [½, 1)', () => {
		const low = { firstDelayMs: 100, maxDelayMs: 1000, random: () => 0 };
		const high = { ...low, random: () => 0.999 };
		expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, low))).toEqual([50, 100, 200, 400, 500, 500]);
		expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, high))).toEqual([100, 200, 400, 800, 1000, 1000]);
	});
});

describe('linkKind', () => {
	const relay = '12D3KooWKYyr5nLRjB3fcpnjBQvJvhP3NQsQrYVVzQvYx4WnvP6z';
	const peer = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo';
	const viaRelay = `/ip4/10.0.0.1/tcp/8443/ws/p2p/${relay}/p2p-circuit`;

	it('tells a direct WebRTC connection from a relayed one and from TCP/WebSockets', () => {
		expect(linkKind(multiaddr(`${viaRelay}/webrtc/p2p/${peer}`))).toBe('webrtc');
		expect(linkKind(multiaddr(`/webrtc/p2p/${peer}`))).toBe('webrtc');
		expect(linkKind(multiaddr(`${viaRelay}/p2p/${peer}`))).toBe('relayed');
		expect(linkKind(multiaddr(`/ip4/10.0.0.1/tcp/8443/ws/p2p/${relay}`))).toBe('direct');
	});

	it('files a real TCP connection as direct', async () => {
		const a = await startNode();
		const b = await startNode();
		const connection = await dialWithRetry(a, addressOf(b), { attempts: 1 });
		expect(linkKind(connection.remoteAddr)).toBe('direct');
	});
});

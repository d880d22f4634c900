/**
 * What members' sync streams make a node hold received and not read is bounded per connection,
 * not only per stream (found in review: past the membership proof only lpStream's per-stream
 * cap applied, two largest frames, 128 MiB with the default limits, and yamux grants window as
 * bytes arrive; a member put 32 sessions on one connection into their drain wait and pushed
 * frames none of them read: 4 GiB). Scaled down: 1 MiB frames, so one connection may hold
 * 16 MiB; 8 streams each push 3.5 MiB (28 MiB) while their sessions read nothing.
 */
import '../../src/lib/mesh/polyfills.node.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Stream } from '@libp2p/interface';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { newId } from '../../src/lib/doc/ids.js';
import { MessageType, SYNC_PROTOCOL_ID } from '../../src/lib/mesh/constants.js';
import { frameStream } from '../../src/lib/mesh/frameStream.js';
import { MembershipExchange } from '../../src/lib/mesh/membership.js';
import { decodeMessage, encodeMessage } from '../../src/lib/mesh/wire.js';
import { DEFAULT_LIMITS } from '../../src/lib/mesh/constants.js';
import { deriveWorkspaceKeys } from '../../src/lib/mesh/workspaceKeys.js';
import { provenLimits } from '../../src/lib/mesh/unprovenBudget.js';
import { createLibp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { noise } from '@libp2p/noise';
import { yamux } from '@libp2p/yamux';
import { identify } from '@libp2p/identify';
import { addressOf, waitFor } from './helpers.js';
import { newWorkspace, startPeer, stopPeers } from './peers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const stopLater: Array<{ stop(): void | Promise<void> }> = [];
afterEach(async () => {
	for (const n of stopLater.splice(0)) await n.stop();
	await stopPeers();
}, 20_000);

const MiB = 1024 * 1024;
const STREAMS = 8;
const PER_STREAM = 3.5 * MiB; // under the 4 MiB per-stream cap, so no stream is reset

function heldExternally(): number {
	gc();
	gc();
	return process.memoryUsage().arrayBuffers;
}

describe('bytes a member makes a node hold unread', () => {
	it('are bounded per connection, not only per stream', async () => {
		const ws = newWorkspace();
		const keys = await deriveWorkspaceKeys(ws.id, ws.secret);
		const limits = { maxUpdateBytes: MiB, maxStep2Bytes: MiB };
		const victim = await startPeer(ws, { mesh: { limits } });
		// Two documents of ~0.9 MiB: answering both queues more than the 1 MiB low water mark.
		const docs = [newId(), newId(), newId()];
		for (const id of docs) victim.docs.get(id).getText('t').insert(0, 'x'.repeat(900 * 1024));

		// The attacker's own node: it grants the victim no more than yamux's initial 256 KiB window.
		const attacker = await createLibp2p({
			addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
			transports: [tcp()],
			connectionEncrypters: [noise()],
			streamMuxers: [yamux({ streamOptions: { maxStreamWindowSize: 256 * 1024 } })],
			services: { identify: identify() }
		});
		stopLater.push(attacker);
		await attacker.dial(addressOf(victim.node));
		const remotePeerId = victim.node.peerId.toString();
		const streams: Stream[] = [];
		for (let s = 0; s < STREAMS; s++) {
			const stream = await attacker.dialProtocol(victim.node.peerId, SYNC_PROTOCOL_ID);
			streams.push(stream);
			const frames = frameStream(stream, { maxFrameBytes: 64 * MiB });
			const exchange = new MembershipExchange({
				role: 'opener',
				keys,
				localPeerId: attacker.peerId.toString(),
				remotePeerId,
				send: (m) => void frames.write(encodeMessage(m))
			});
			exchange.start();
			while (!exchange.proven) await exchange.handle(decodeMessage((await frames.read())!, DEFAULT_LIMITS));
			stream.pause(); // no more window for the victim: its answers stay queued
			// An empty digest, then ask for the documents; never send DONE, never read again.
			await frames.write(encodeMessage({ type: MessageType.digest, more: false, entries: [] }));
			for (const id of docs) await frames.write(encodeMessage({ type: MessageType.syncStep1, docId: id, stateVector: Y.encodeStateVector(new Y.Doc()) }));
		}
		// Every session is now waiting for its answers to drain (up to 30 s), reading nothing.
		await new Promise((r) => setTimeout(r, 500));
		const before = heldExternally();

		// Frames the victim will read only after the drain wait: any bytes under a valid prefix.
		const chunk = new Uint8Array(512 * 1024).fill(7);
		for (const stream of streams) {
			const frames = frameStream(stream, { maxFrameBytes: 64 * MiB });
			for (let sent = 0; sent < PER_STREAM; sent += chunk.length) void frames.write(chunk);
		}
		// The victim's yamux grants window as bytes arrive, whatever its session reads.
		await waitFor(() => streams.every((s) => s.writeBufferLength === 0 || s.status !== 'open'), 'the victim to take or refuse every byte', 20_000);
		const held = heldExternally() - before;
		const open = streams.filter((s) => s.status === 'open').length;
		console.log(`${open}/${STREAMS} streams open; the node holds ${(held / MiB).toFixed(1)} MiB more for one peer`);
		// The streams that took the connection past its bound were reset (their sessions then
		// fail on what they had read), and what is held is about one connection's bound.
		expect(open).toBeLessThan(STREAMS);
		expect(held).toBeLessThanOrEqual(provenLimits(MiB).connectionBytes + 4 * MiB);
	});
});

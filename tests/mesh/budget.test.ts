/**
 * What a hostile peer can make a sync peer hold, with real libp2p nodes in one process:
 *
 * - a stranger (no secret) that announces huge frames or leaves frames unfinished on many
 *   streams gets at most the unproven budget held for it (unprovenBudget.ts), its streams
 *   over it are reset and counted, and everything is given back when it leaves;
 * - a member that stops reading (its stream paused: its window stays shut) and asks for a
 *   large document again and again gets one answer queued, not one per question, and is then
 *   dropped with SlowPeerError.
 *
 * The model protocol's host shares the node's budget (a stranger's frames there are held the
 * same), and so does its asker until the host's CHALLENGE proves it. Two honest peers keep syncing throughout. (On the main before this test, the first frame
 * was read with the 64 MiB catch-up limit and nothing bounded the send queue.)
 */
import '../../src/lib/mesh/polyfills.node.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { Stream } from '@libp2p/interface';
import { newId } from '../../src/lib/doc/ids.js';
import { llmHost } from '../../src/lib/ai/llmHost.js';
import { MeshEngine } from '../../src/lib/ai/meshEngine.js';
import { LLM_PROTOCOL_ID } from '../../src/lib/ai/llmProtocol.js';
import { MessageType, SYNC_PROTOCOL_ID } from '../../src/lib/mesh/constants.js';
import { frameStream } from '../../src/lib/mesh/frameStream.js';
import { SessionState, SyncSession } from '../../src/lib/mesh/SyncSession.js';
import { EMPTY_STATE_VECTOR } from '../../src/lib/mesh/syncDocs.js';
import { DEFAULT_UNPROVEN_LIMITS, UnprovenBudget } from '../../src/lib/mesh/unprovenBudget.js';
import { encodeMessage } from '../../src/lib/mesh/wire.js';
import { deriveWorkspaceKeys } from '../../src/lib/mesh/workspaceKeys.js';
import { MemoryDocs } from '../unit/mesh/memoryDocs.js';
import { addressOf, ended, startNode, varint, waitFor } from './helpers.js';
import { connect, converged, newWorkspace, startPeer, stopPeers, type Peer } from './peers.js';

afterEach(stopPeers, 15_000);

const KiB = 1024;
const MiB = 1024 * KiB;

/** The victim's sync streams with `remote`. */
function syncStreams(victim: Peer, remote: string): Stream[] {
	return victim.node
		.getConnections()
		.filter((c) => c.remotePeer.toString() === remote)
		.flatMap((c) => c.streams.filter((s) => s.protocol === SYNC_PROTOCOL_ID));
}

/** Samples `read` every millisecond until the returned stop is called; the stop gives the largest value seen. */
function peakOf(read: () => number): () => number {
	let peak = read();
	const timer = setInterval(() => (peak = Math.max(peak, read())), 1);
	return () => {
		clearInterval(timer);
		return Math.max(peak, read());
	};
}

/** An honest pair, the victim and its partner, synced. */
async function honestPair(limits = {}) {
	const ws = newWorkspace();
	const victim = await startPeer(ws, { name: 'victim', mesh: { limits: { membershipTimeoutMs: 5000, ...limits }, closeGraceMs: 300 } });
	const honest = await startPeer(ws, { name: 'honest' });
	const doc = newId();
	victim.docs.get(doc).getText('t').insert(0, 'shared');
	await connect(honest, victim);
	await waitFor(() => converged([victim, honest]), 'the honest peers to sync');
	/** Writes on both sides and waits until each sees the other's write. */
	const stillSyncing = async (round: string) => {
		honest.docs.get(doc).getMap('m').set(round, true);
		victim.docs.get(doc).getArray('a').push([round]);
		await waitFor(
			() => victim.docs.get(doc).getMap('m').get(round) === true && honest.docs.get(doc).getArray('a').toArray().includes(round),
			`the honest peers to keep syncing (${round})`
		);
	};
	return { ws, victim, honest, stillSyncing };
}

describe('the unproven budget', () => {
	it('holds a stranger to a few KiB per stream and 128 KiB per connection, resets what goes over, and gives it all back', async () => {
		const { victim, stillSyncing } = await honestPair();
		const budget = victim.mesh.unproven;
		const peak = peakOf(() => budget.heldBytes);
		const attacker = await startNode();
		const target = addressOf(victim.node);

		// A frame announced at 60 MiB is refused at its length prefix (the limit before proof is 16 KiB).
		const huge = await attacker.dialProtocol(target, SYNC_PROTOCOL_ID);
		huge.send(Uint8Array.from([...varint(60 * MiB), ...new Uint8Array(KiB)]));
		expect(await ended(huge, 3000)).not.toBe('open');

		// Frames just under the limit, each left one byte short, on 24 streams of one connection.
		const frame = 15 * KiB;
		const streams: Stream[] = [];
		for (let i = 0; i < 24; i++) {
			const stream = await attacker.dialProtocol(target, SYNC_PROTOCOL_ID);
			stream.send(Uint8Array.from([...varint(frame), ...new Uint8Array(frame - 1)]));
			streams.push(stream);
			await new Promise((resolve) => setTimeout(resolve, 10));
		}
		await waitFor(() => budget.refusals >= 24 - Math.floor(DEFAULT_UNPROVEN_LIMITS.connectionBytes / frame), 'the streams over the budget to be refused');
		const held = peak();
		const open = syncStreams(victim, attacker.peerId.toString()).length;
		console.info(
			`unproven budget: a stranger's 24 unfinished 15 KiB frames held at most ${held} bytes (limit ${DEFAULT_UNPROVEN_LIMITS.connectionBytes}); ` +
				`${budget.refusals} streams refused, ${open} left waiting for their frame`
		);
		// One message may pass the bound before it is refused; nothing more.
		expect(held).toBeLessThanOrEqual(DEFAULT_UNPROVEN_LIMITS.connectionBytes + frame + 16);
		expect(open).toBeLessThanOrEqual(Math.floor(DEFAULT_UNPROVEN_LIMITS.connectionBytes / frame));
		expect(victim.errors.map((e) => e.error.name)).toContain('BudgetExceededError');
		expect(victim.errors.map((e) => e.error.name)).toContain('FrameTooLargeError');

		await stillSyncing('during the attack');
		await attacker.stop();
		await waitFor(() => budget.heldBytes === 0, 'the budget to be given back once the stranger left');
		await stillSyncing('after the attack');
	}, 30_000);

	it('holds a stranger on the model protocol to the same budget the node shares with sync', async () => {
		const { victim, stillSyncing } = await honestPair();
		const errors: string[] = [];
		const host = llmHost({ engines: [], onError: (error) => errors.push(error.name) })({
			node: victim.node,
			keys: (id) => victim.mesh.workspaceKeys(id),
			unproven: victim.mesh.unproven
		});
		await host.start();
		try {
			const attacker = await startNode();
			const target = addressOf(victim.node);
			// A 3 MiB request frame announced before any proof (the model protocol takes 4 MiB once proven).
			const big = await attacker.dialProtocol(target, LLM_PROTOCOL_ID);
			big.send(Uint8Array.from([...varint(3 * MiB), ...new Uint8Array(KiB)]));
			expect(await ended(big, 3000)).not.toBe('open');
			// Unfinished frames on many streams: over the connection's share, streams are reset and counted.
			const before = victim.mesh.unproven.refusals;
			for (let i = 0; i < 12; i++) {
				const stream = await attacker.dialProtocol(target, LLM_PROTOCOL_ID);
				stream.send(Uint8Array.from([...varint(15 * KiB), ...new Uint8Array(15 * KiB - 1)]));
				await new Promise((resolve) => setTimeout(resolve, 10));
			}
			await waitFor(() => victim.mesh.unproven.refusals > before, 'the model host to refuse streams over the shared budget');
			expect(victim.mesh.unproven.heldBytes).toBeLessThanOrEqual(DEFAULT_UNPROVEN_LIMITS.connectionBytes + 16 * KiB);
			expect(errors).toContain('FrameTooLargeError');
			await attacker.stop();
			await waitFor(() => victim.mesh.unproven.heldBytes === 0, 'the budget to be given back');
			await stillSyncing('after the model-protocol attack');
		} finally {
			await host.stop();
		}
	}, 30_000);

	it('holds a stranger posing as a model host to the asker’s unproven budget, until its CHALLENGE proves it', async () => {
		const ws = newWorkspace();
		const asker = await startPeer(ws, { name: 'asker' });
		const keys = asker.mesh.workspaceKeys(ws.id);
		if (keys === undefined) throw new Error('workspace not added');
		const fake = await startNode();
		// The "host" answers HELLO with a 3 MiB frame, then trickles an unfinished one: before its proof.
		await fake.handle(
			LLM_PROTOCOL_ID,
			async (stream) => {
				stream.send(Uint8Array.from([...varint(3 * MiB), ...new Uint8Array(8 * KiB)]));
			},
			{ runOnLimitedConnection: true }
		);
		await asker.node.dial(addressOf(fake));
		const held = peakOf(() => asker.mesh.unproven.heldBytes);
		const engine = new MeshEngine({ node: asker.node, host: fake.peerId, keys, unproven: asker.mesh.unproven, openTimeoutMs: 5000 });
		const started = Date.now();
		const run = async () => {
			for await (const chunk of engine.generate({ model: 'any', messages: [{ role: 'user', content: 'hi' }] })) void chunk;
		};
		const failure = await run().then(
			() => undefined,
			(error: unknown) => error
		);
		expect(String(failure)).toMatch(/did not accept this device|not one itself/);
		/** The names along the failure's chain of causes. */
		const causes: string[] = [];
		for (let e: unknown = failure; e instanceof Error; e = e.cause) causes.push(e.name);
		expect(causes).toContain('FrameTooLargeError');
		// Refused as the prefix arrived, not after the 5 s membership timeout, and never more than a frame's budget held.
		expect(Date.now() - started).toBeLessThan(4000);
		expect(held()).toBeLessThanOrEqual(DEFAULT_UNPROVEN_LIMITS.frameBytes + KiB);
		await waitFor(() => asker.mesh.unproven.heldBytes === 0, 'the asker to give its budget back');
	}, 30_000);

	it('counts every stream of a node against one total, and frees what a stream held when it ends', () => {
		const budget = new UnprovenBudget({ streamBytes: 10, connectionBytes: 15, totalBytes: 20 });
		const a1 = budget.forStream('a');
		const a2 = budget.forStream('a');
		const b1 = budget.forStream('b');
		a1.charge!(8, 8);
		expect(() => a2.charge!(8, 8)).toThrowError(/one connection/); // 16 > 15 for connection a
		a2.charge!(-8, 0); // the stream went, its bytes with it
		b1.charge!(9, 9);
		const c1 = budget.forStream('c');
		expect(() => c1.charge!(5, 5)).toThrowError(/this node/); // 8 + 9 + 5 > 20
		c1.charge!(-5, 0);
		expect(() => b1.charge!(2, 11)).toThrowError(/one stream/); // 11 > 10 on b1
		expect(budget.refusals).toBe(3);
		b1.charge!(-11, 0);
		a1.charge!(-8, 0);
		expect(budget.heldBytes).toBe(0);
	});
});

describe('backpressure', () => {
	it('drops a member that stops reading after one queued answer (a repeated question ends the session: step1Repeat.test.ts)', async () => {
		const { ws, victim, stillSyncing } = await honestPair({ syncStallTimeoutMs: 1500 });
		const big = newId();
		victim.docs.get(big).getText('t').insert(0, 'x'.repeat(2 * MiB));
		await stillSyncing('with the large document');

		const attacker = await startNode();
		const stream = await attacker.dialProtocol(addressOf(victim.node), SYNC_PROTOCOL_ID);
		const frames = frameStream(stream, { maxFrameBytes: 70 * MiB });
		const session = new SyncSession({
			role: 'opener',
			workspace: { id: ws.id, keys: await deriveWorkspaceKeys(ws.id, ws.secret) },
			localPeerId: attacker.peerId.toString(),
			remotePeerId: victim.node.peerId.toString(),
			docs: new MemoryDocs(),
			send: (bytes) => void frames.write(bytes).catch(() => {})
		});
		session.start();
		// Honest through membership and its own digest; then its modified client stops granting
		// the victim any window (yamux WINDOW_UPDATE): nothing more the victim sends can leave.
		const muxed = stream as Stream & { sendWindowUpdate?: () => void };
		expect(typeof muxed.sendWindowUpdate).toBe('function');
		void (async () => {
			try {
				for await (const frame of frames) {
					await session.receive(frame);
					if (session.state !== SessionState.membership) muxed.sendWindowUpdate = () => {};
				}
			} catch {
				/* reset by the victim */
			}
		})();
		await waitFor(() => session.state !== SessionState.membership, 'the member to prove itself');
		const queued = peakOf(() => Math.max(0, ...syncStreams(victim, attacker.peerId.toString()).map((s) => s.writeBufferLength)));
		// A question of 25 bytes for a 2 MiB document made after the digests (asked once: a
		// document is answered once a session).
		const late = newId();
		victim.docs.get(late).getText('t').insert(0, 'y'.repeat(2 * MiB));
		void frames.write(encodeMessage({ type: MessageType.syncStep1, docId: late, stateVector: EMPTY_STATE_VECTOR })).catch(() => {});

		await waitFor(() => victim.errors.some((e) => e.error.name === 'SlowPeerError'), 'the victim to drop the member that stopped reading', 10_000);
		const peak = queued();
		console.info(`backpressure: a question for a 2 MiB document from a member that stopped reading queued at most ${(peak / MiB).toFixed(2)} MiB on the victim before it was dropped`);
		expect(peak).toBeGreaterThan(0); // the answer did wait for the member
		expect(peak).toBeLessThan(2 * 2 * MiB + MiB); // one answer (two at most), not fifty
		await waitFor(() => syncStreams(victim, attacker.peerId.toString()).length === 0, 'the stream to be gone on the victim');
		await stillSyncing('after the member was dropped');
	}, 30_000);
});

/**
 * Two MeshServices on real libp2p nodes over TCP: documents converge on connect, live
 * updates cross within milliseconds, the status reports syncing → live and the peer count,
 * a workspace added later syncs on the existing connection, and a peer with a wrong secret
 * gets nothing while nothing of its own is applied on honest peers (neither through a
 * session nor through envelopes it publishes on the workspace's topic).
 */
import '../../src/lib/mesh/polyfills.node.js'; // before anything that loads libp2p
import { afterEach, describe, expect, it } from 'vitest';
import { newId } from '../../src/lib/doc/ids.js';
import { sealEnvelope } from '../../src/lib/mesh/gossipEnvelope.js';
import type { WorkspaceStatus } from '../../src/lib/mesh/MeshService.js';
import { deriveWorkspaceKeys } from '../../src/lib/mesh/workspaceKeys.js';
import { SYNC_PROTOCOL_ID } from '../../src/lib/mesh/constants.js';
import { MemoryDocs } from '../unit/mesh/memoryDocs.js';
import { quantile, waitFor } from './helpers.js';
import { connect, converged, newWorkspace, startPeer, stopPeers } from './peers.js';

afterEach(stopPeers, 15_000);

describe('MeshService, two peers', () => {
	it('converges on connect, then carries live updates both ways', async () => {
		const ws = newWorkspace();
		const a = await startPeer(ws);
		const b = await startPeer(ws);
		const shared = newId();
		a.docs.get(shared).getText('t').insert(0, 'from a ');
		b.docs.get(shared).getText('t').insert(0, 'from b ');
		a.docs.get(newId()).getMap('m').set('only', 'a');
		b.docs.get(newId()).getArray('a').push(['only b']);
		const statuses: WorkspaceStatus[] = [];
		b.mesh.on('workspace-status', (s) => statuses.push(s));
		const counts: number[] = [];
		b.mesh.on('peer-count', (n) => counts.push(n));

		await connect(a, b);
		await waitFor(() => converged([a, b]), 'the two peers to converge');
		expect(a.docs.docs.size).toBe(3);
		expect(a.docs.get(shared).getText('t').toString()).toContain('from b');
		await waitFor(() => a.mesh.status(ws.id)?.state === 'live' && b.mesh.status(ws.id)?.state === 'live', 'live');
		expect(statuses.map((s) => s.state)).toContain('syncing');
		expect(statuses.at(-1)).toMatchObject({ state: 'live', livePeers: 1, pending: 0 });
		expect(b.mesh.peerCount).toBe(1);
		expect(counts).toContain(1);

		// One-way latency of live updates, one in flight at a time (informational; both peers
		// share this process's event loop, and the first copy wins: session or gossip).
		const latencies: number[] = [];
		for (let i = 0; i < 250; i++) {
			const arrived = new Promise<number>((resolve) => {
				const off = b.docs.onLocalUpdate(() => {
					off();
					resolve(performance.now());
				});
			});
			const start = performance.now();
			a.docs.get(shared).getText('t').insert(0, i === 249 ? 'live ' : '.');
			latencies.push((await arrived) - start);
			await new Promise((resolve) => setTimeout(resolve, 1));
		}
		const sorted = latencies.slice(50).sort((x, y) => x - y);
		console.info(
			`live update a → b, 200 one-character edits: p50 ${quantile(sorted, 0.5).toFixed(3)} ms, ` +
				`p99 ${quantile(sorted, 0.99).toFixed(3)} ms, first ${latencies[0]!.toFixed(3)} ms`
		);
		await waitFor(() => b.docs.get(shared).getText('t').toString().startsWith('live '), 'the live update to arrive');
		b.docs.get(shared).getMap('m').set('back', true);
		await waitFor(() => a.docs.get(shared).getMap('m').get('back') === true, 'the live update back');
		await waitFor(() => converged([a, b]), 'convergence after live updates');
		expect([...a.errors, ...b.errors]).toEqual([]);
	});

	it('drops the gossip copy of an update its live session with the publisher already carried', async () => {
		const ws = newWorkspace();
		const a = await startPeer(ws);
		const b = await startPeer(ws);
		await connect(a, b);
		await waitFor(() => a.mesh.status(ws.id)?.state === 'live' && b.mesh.status(ws.id)?.state === 'live', 'live');
		const origins: string[] = [];
		const apply = b.docs.apply.bind(b.docs);
		b.docs.apply = (docId, update, origin) => {
			origins.push(origin !== null && typeof origin === 'object' && 'gossip' in origin ? 'gossip' : 'other');
			return apply(docId, update, origin);
		};
		const shared = newId();
		for (let i = 0; i < 20; i++) a.docs.get(shared).getText('t').insert(0, `${i} `);
		await waitFor(() => b.docs.get(shared).getText('t').toString().startsWith('19 '), 'the updates over the session');
		// Past gossip's gathering time (200 ms with a live session), the envelope has arrived and been dropped.
		await new Promise((resolve) => setTimeout(resolve, 800));
		expect(origins.length).toBeGreaterThan(0);
		expect(origins).not.toContain('gossip');
		expect([...a.errors, ...b.errors]).toEqual([]);
	});

	it('reports catch-up progress to a joiner (pending of total documents), then live', async () => {
		const ws = newWorkspace();
		// Written before the peer joins the mesh: edits made on it would also go out on gossip, and
		// gossipsub offers recent messages (IHAVE) to a peer that subscribes seconds later, so a
		// slow joiner could get them all before its session compared digests.
		const docs = new MemoryDocs();
		for (let i = 0; i < 60; i++) docs.get(newId()).getText('t').insert(0, `document ${i}`);
		const full = await startPeer(ws, { docs });
		const joiner = await startPeer(ws);
		const statuses: WorkspaceStatus[] = [];
		joiner.mesh.on('workspace-status', (s) => statuses.push(s));
		await connect(joiner, full);
		await waitFor(() => joiner.mesh.status(ws.id)?.state === 'live', 'the joiner to be live');
		expect(converged([joiner, full])).toBe(true);
		const syncing = statuses.filter((s) => s.state === 'syncing' && s.total > 0);
		expect(syncing[0]).toMatchObject({ total: 60, pending: 60 });
		expect(syncing.map((s) => s.pending)).toEqual([...syncing.map((s) => s.pending)].sort((x, y) => y - x));
		expect(statuses.at(-1)).toMatchObject({ state: 'live', pending: 0, livePeers: 1 });
	});

	it('stops syncing when stopped, and catches up over the same connection when started again', async () => {
		const ws = newWorkspace();
		const a = await startPeer(ws);
		const b = await startPeer(ws);
		await connect(b, a); // b dialled: a only answers, until its own start() opens sessions
		const doc = newId();
		b.docs.get(doc).getText('t').insert(0, 'before');
		await waitFor(() => converged([a, b]) && a.docs.docs.has(doc), 'the first sync');
		await a.mesh.stop();
		await waitFor(() => b.mesh.status(ws.id)?.state === 'idle', 'b to see no session');
		b.docs.get(doc).getText('t').insert(0, 'while stopped ');
		await new Promise((resolve) => setTimeout(resolve, 200));
		expect(a.docs.get(doc).getText('t').toString()).toBe('before');
		await a.mesh.start();
		await waitFor(() => a.docs.get(doc).getText('t').toString() === 'while stopped before', 'the catch-up after start');
		expect(b.node.getConnections(a.node.peerId)).toHaveLength(1);
		expect([...a.errors, ...b.errors]).toEqual([]);
	});

	it('opens its session again soon when the one it opened fails on a connection that stays open', async () => {
		const ws = newWorkspace();
		const a = await startPeer(ws);
		const b = await startPeer(ws); // anti-entropy off: only the reopen can bring a session back
		await connect(b, a); // b opens
		await waitFor(() => b.mesh.status(ws.id)?.livePeers === 1, 'the first session');
		const syncStreams = (peer: typeof a, other: typeof b) =>
			peer.node.getConnections(other.node.peerId).flatMap((c) => c.streams.filter((s) => s.protocol === SYNC_PROTOCOL_ID && s.status === 'open'));
		// The answering side's stream breaks (a fault there, or a bad frame from b's side).
		for (const stream of syncStreams(a, b)) stream.abort(new Error('a fault on the answering side'));
		await waitFor(() => b.errors.some((e) => e.error.name === 'StreamResetError'), 'b to see its session fail');
		await waitFor(() => b.mesh.status(ws.id)?.livePeers === 1, 'a new session, over the same connection', 5000);
		expect(b.node.getConnections(a.node.peerId)).toHaveLength(1);
		expect(syncStreams(b, a)).toHaveLength(1);
		const doc = newId();
		a.docs.get(doc).getText('t').insert(0, 'after the fault');
		await waitFor(() => b.docs.docs.get(doc)?.getText('t').toString() === 'after the fault', 'a live update over it');
	});

	it('opens its session again when the answering side resets the stream before any frame (not a clean end)', async () => {
		const ws = newWorkspace();
		const a = await startPeer(ws);
		const b = await startPeer(ws, { mesh: { reopenDelaysMs: [50, 50, 50] } });
		// a answers no sync stream: each one is reset the moment it opens, before a frame is read.
		let answered = 0;
		await a.node.handle(SYNC_PROTOCOL_ID, (stream) => {
			answered++;
			stream.abort(new Error('reset at once'));
		}, { force: true });
		await connect(b, a);
		await waitFor(() => answered >= 2, 'a second session after the first was reset', 3000);
		await new Promise((resolve) => setTimeout(resolve, 500));
		expect(answered).toBe(4); // the first and three reopens, then anti-entropy (off here) is the next try
	});

	it('reopens a failing session only as many times as it allows on one connection', async () => {
		const ws = newWorkspace();
		const a = await startPeer(ws);
		const b = await startPeer(ws, { mesh: { reopenDelaysMs: [50, 50, 50] } });
		// The answering side breaks every sync session once it is live, as a hostile peer could.
		const opened = () => b.node.getConnections(a.node.peerId).flatMap((c) => c.streams.filter((s) => s.protocol === SYNC_PROTOCOL_ID));
		let broken = 0;
		const breaker = setInterval(() => {
			if (b.mesh.status(ws.id)?.livePeers !== 1) return;
			for (const stream of a.node.getConnections(b.node.peerId).flatMap((c) => c.streams.filter((s) => s.protocol === SYNC_PROTOCOL_ID && s.status === 'open'))) {
				stream.abort(new Error('broken on purpose'));
				broken++;
			}
		}, 5);
		try {
			await connect(b, a);
			await waitFor(() => broken >= 4, 'the first session and three reopens broken');
			await new Promise((resolve) => setTimeout(resolve, 500));
			expect(broken).toBe(4); // no fifth stream: anti-entropy (off here) would be the next try
			expect(opened()).toHaveLength(0);
		} finally {
			clearInterval(breaker);
		}
	});

	it('syncs a workspace added while already connected, and stops syncing a removed one', async () => {
		const first = newWorkspace();
		const later = newWorkspace();
		const a = await startPeer(first);
		const b = await startPeer(first);
		await connect(a, b);
		const aLater = new MemoryDocs();
		const bLater = new MemoryDocs();
		aLater.get(newId()).getText('t').insert(0, 'added later');
		await a.mesh.addWorkspace({ ...later, docs: aLater });
		await b.mesh.addWorkspace({ ...later, docs: bLater });
		await waitFor(() => bLater.docs.size === 1, 'the later workspace to sync');
		expect([...bLater.docs.values()][0]!.getText('t').toString()).toBe('added later');

		await b.mesh.removeWorkspace(later.id);
		expect(b.mesh.status(later.id)).toBeUndefined();
		const id = newId();
		aLater.get(id).getText('t').insert(0, 'after removal');
		const firstId = newId();
		a.docs.get(firstId).getText('t').insert(0, 'still synced');
		await waitFor(() => b.docs.docs.has(firstId), 'the other workspace to go on');
		expect(bLater.docs.has(id)).toBe(false);
	});

	it('repairs lost updates with anti-entropy rounds, keeping one session per peer', async () => {
		const ws = newWorkspace();
		/** Docs that silently drop remote updates while `lossy` is set (lost messages). */
		class LossyDocs extends MemoryDocs {
			lossy = false;
			override apply(docId: string, update: Uint8Array, origin: unknown): void {
				if (!this.lossy) super.apply(docId, update, origin);
			}
		}
		const lossy = new LossyDocs();
		const a = await startPeer(ws, { mesh: { antiEntropyIntervalMs: 250 } });
		const b = await startPeer(ws, { docs: lossy, mesh: { antiEntropyIntervalMs: 250 } });
		const doc = newId();
		a.docs.get(doc).getText('t').insert(0, 'first');
		await connect(a, b);
		await waitFor(() => converged([a, b]), 'the first sync');
		lossy.lossy = true;
		for (let i = 0; i < 20; i++) a.docs.get(doc).getText('t').insert(0, `${i} `);
		await new Promise((resolve) => setTimeout(resolve, 100));
		expect(lossy.get(doc).getText('t').toString()).toBe('first'); // every copy was lost
		lossy.lossy = false;
		await waitFor(() => converged([a, b]), 'an anti-entropy round to repair', 3000);
		await new Promise((resolve) => setTimeout(resolve, 600)); // a few more rounds
		expect(a.mesh.status(ws.id)).toMatchObject({ state: 'live', livePeers: 1 });
		expect(b.mesh.status(ws.id)).toMatchObject({ state: 'live', livePeers: 1 });
		expect([...a.errors, ...b.errors]).toEqual([]);
	});

	it('gives a wrong-secret peer nothing and applies nothing of it', async () => {
		const ws = newWorkspace();
		const a = await startPeer(ws, { mesh: { antiEntropyIntervalMs: 300 } });
		const b = await startPeer(ws, { mesh: { antiEntropyIntervalMs: 300 } });
		const impostor = await startPeer({ id: ws.id, secret: newWorkspace().secret }, { mesh: { antiEntropyIntervalMs: 300 } });
		const doc = newId();
		a.docs.get(doc).getText('t').insert(0, 'members only');
		const impostorDoc = newId();
		impostor.docs.get(impostorDoc).getText('t').insert(0, 'let me in');
		impostor.docs.get(doc).getText('t').insert(0, 'overwrite ');

		await connect(impostor, a); // the impostor opens towards a
		await connect(b, impostor); // b opens towards the impostor
		await connect(a, b);
		await waitFor(() => converged([a, b]) && b.docs.docs.has(doc), 'the members to sync');
		// Live updates and anti-entropy rounds (every 300 ms) go on for a while.
		a.docs.get(doc).getText('t').insert(0, 'more ');
		await waitFor(() => b.docs.get(doc).getText('t').toString().startsWith('more '), 'a live update between members');
		await new Promise((resolve) => setTimeout(resolve, 1000));

		expect(impostor.docs.applied).toBe(0);
		expect([...impostor.docs.docs.keys()].sort()).toEqual([doc, impostorDoc].sort());
		expect(impostor.docs.get(doc).getText('t').toString()).toBe('overwrite ');
		for (const member of [a, b]) {
			expect(member.docs.docs.has(impostorDoc)).toBe(false);
			expect(member.docs.get(doc).getText('t').toString()).not.toContain('overwrite');
		}
		const denied = (errors: typeof a.errors) => errors.filter((e) => e.error.name === 'MembershipDeniedError');
		expect(denied(a.errors).length).toBeGreaterThan(0);
		expect(denied(b.errors).length).toBeGreaterThan(0);
		expect(denied(impostor.errors).length).toBeGreaterThan(0);
		// A refused pair is not retried on the same connection, anti-entropy or not.
		expect(denied(b.errors).length).toBeLessThan(3);

		// The impostor learns the members' topic (it is visible in SUBSCRIBE messages) and
		// publishes envelopes there sealed with its own key: they do not open.
		const membersTopic = (await deriveWorkspaceKeys(ws.id, ws.secret)).topic;
		const wrongKeys = await deriveWorkspaceKeys(ws.id, newWorkspace().secret);
		impostor.node.services.pubsub.subscribe(membersTopic);
		await waitFor(
			() => a.node.services.pubsub.getSubscribers(membersTopic).some((p) => p.equals(impostor.node.peerId)),
			'the impostor to subscribe'
		);
		const before = a.errors.length;
		const forged = await sealEnvelope(wrongKeys, doc, new Uint8Array([0, 0]));
		await impostor.node.services.pubsub.publish(membersTopic, forged);
		await impostor.node.services.pubsub.publish(membersTopic, new Uint8Array([1, 2, 3]));
		await waitFor(() => a.errors.slice(before).filter((e) => e.error.name === 'EnvelopeError').length >= 2, 'a to refuse both');
		expect(a.docs.get(doc).getText('t').toString()).toBe(b.docs.get(doc).getText('t').toString());
		expect(converged([a, b])).toBe(true);
	});
});

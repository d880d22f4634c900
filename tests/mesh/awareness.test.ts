/**
 * Presence over the mesh: MeshServices on real libp2p nodes share their y-protocols
 * Awareness through sealed envelopes on the workspace's topic, through a relay that is not
 * a member and only follows topics. States and their changes arrive within a bounded wait;
 * a peer with the wrong secret sees nothing and what it sends is refused; a late joiner sees
 * who is present at once (not at the next 15 s renewal); leaving withdraws the state at once
 * (not after the 30 s timeout); malformed awareness from a member is reported and dropped.
 */
import '../../src/lib/mesh/polyfills.node.js'; // before anything that loads libp2p
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { Awareness, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness';
import { newId } from '../../src/lib/doc/ids.js';
import { sealAwarenessEnvelope } from '../../src/lib/mesh/gossipEnvelope.js';
import { followTopics } from '../../src/lib/mesh/topicRelay.js';
import { deriveWorkspaceKeys } from '../../src/lib/mesh/workspaceKeys.js';
import { waitFor } from './helpers.js';
import { connect, newWorkspace, startPeer, stopPeers, type Peer, type TestWorkspace } from './peers.js';

/** A test peer whose workspace shares an awareness. */
interface PresentPeer extends Peer {
	awareness: Awareness;
}

const awarenesses: Awareness[] = [];
const unfollows: Array<() => void> = [];

afterEach(async () => {
	for (const stop of unfollows.splice(0)) stop();
	await stopPeers();
	for (const awareness of awarenesses.splice(0)) awareness.destroy();
}, 15_000);

/** Far below awareness's own 15 s renewal and 30 s timeout. */
const PROMPT_MS = 4000;

async function presentPeer(ws: TestWorkspace, name: string): Promise<PresentPeer> {
	const peer = await startPeer(undefined, { name });
	const awareness = new Awareness(new Y.Doc());
	awarenesses.push(awareness);
	await peer.mesh.addWorkspace({ ...ws, docs: peer.docs, awareness });
	return { ...peer, awareness };
}

/** A relay that serves no workspace and follows the topics its peers use. */
async function relayPeer(): Promise<Peer> {
	const relay = await startPeer(undefined, { name: 'relay' });
	unfollows.push(followTopics(relay.node.services.pubsub));
	return relay;
}

/** What `observer` knows of `subject`'s state. */
function seen(observer: PresentPeer, subject: PresentPeer): Record<string, unknown> | undefined {
	return observer.awareness.getStates().get(subject.awareness.clientID);
}

function meshPeers(peer: Peer, topic: string): string[] {
	return (peer.node.services.pubsub as unknown as { getMeshPeers(t: string): string[] }).getMeshPeers(topic);
}

async function topicOf(ws: TestWorkspace): Promise<string> {
	return (await deriveWorkspaceKeys(ws.id, ws.secret)).topic;
}

describe('presence through awareness envelopes', () => {
	it('carries state and its changes to every member through a relay that is not one', async () => {
		const ws = newWorkspace();
		const relay = await relayPeer();
		const [a, b, c] = [await presentPeer(ws, 'a'), await presentPeer(ws, 'b'), await presentPeer(ws, 'c')];
		for (const peer of [a, b, c]) await connect(peer, relay);
		const topic = await topicOf(ws);
		await waitFor(() => meshPeers(relay, topic).length === 3, 'the gossip mesh through the relay');

		const channel = newId();
		a.awareness.setLocalState({ name: 'Ada', typing: channel });
		await waitFor(
			() => [b, c].every((p) => seen(p, a)?.name === 'Ada' && seen(p, a)?.typing === channel),
			'b and c to see Ada typing',
			PROMPT_MS
		);
		a.awareness.setLocalStateField('typing', null);
		await waitFor(() => [b, c].every((p) => seen(p, a)?.typing === null), 'b and c to see Ada stop typing', PROMPT_MS);
		expect(seen(b, a)).toEqual({ name: 'Ada', typing: null });
		// Everyone sees everyone, the relay took part in no session, and nobody complained.
		await waitFor(() => [a, b, c].every((p) => p.awareness.getStates().size === 3), 'everyone to see everyone', PROMPT_MS);
		expect(a.mesh.status(ws.id)?.state).toBe('idle');
		expect([...a.errors, ...b.errors, ...c.errors].filter((e) => e.error.name !== 'MembershipDeniedError')).toEqual([]);
	}, 30_000);

	it('shows a wrong-secret peer nothing and refuses what it sends', async () => {
		const ws = newWorkspace();
		const relay = await relayPeer();
		const [a, b] = [await presentPeer(ws, 'a'), await presentPeer(ws, 'b')];
		const eve = await presentPeer({ id: ws.id, secret: newWorkspace().secret }, 'eve');
		eve.awareness.setLocalState({ name: 'Eve' });
		for (const peer of [a, b, eve]) await connect(peer, relay);
		a.awareness.setLocalState({ name: 'Ada' });
		await waitFor(() => seen(b, a)?.name === 'Ada', 'b to see Ada', PROMPT_MS);

		// Eve knows the members' topic (it is visible in SUBSCRIBE messages) and publishes
		// awareness sealed with her own key, and garbage of the awareness kind.
		const topic = await topicOf(ws);
		eve.node.services.pubsub.subscribe(topic);
		await waitFor(() => meshPeers(relay, topic).includes(eve.node.peerId.toString()), 'eve to join the topic');
		const before = a.errors.length;
		const forged = await sealAwarenessEnvelope(
			await deriveWorkspaceKeys(ws.id, newWorkspace().secret),
			encodeAwarenessUpdate(eve.awareness, [eve.awareness.clientID])
		);
		await eve.node.services.pubsub.publish(topic, forged);
		await eve.node.services.pubsub.publish(topic, Uint8Array.from([2, 12, 1, 2, 3]));
		await waitFor(
			() => a.errors.slice(before).filter((e) => e.error.name === 'EnvelopeError').length >= 2,
			'a to refuse both',
			PROMPT_MS
		);
		await new Promise((resolve) => setTimeout(resolve, 500)); // everything Eve sent has arrived
		for (const member of [a, b]) {
			expect(seen(member, eve)).toBeUndefined();
			expect(member.awareness.getStates().size).toBe(2);
		}
		expect(seen(eve, a)).toBeUndefined();
		expect(eve.awareness.getStates().size).toBe(1);
	}, 30_000);

	it('reports and drops malformed awareness from a member, and goes on', async () => {
		const ws = newWorkspace();
		const relay = await relayPeer();
		const [a, b] = [await presentPeer(ws, 'a'), await presentPeer(ws, 'b')];
		for (const peer of [a, b]) await connect(peer, relay);
		const topic = await topicOf(ws);
		await waitFor(() => meshPeers(relay, topic).length === 2, 'the gossip mesh through the relay');
		// Sealed with the right key (the relay is told the secret here) but not an awareness update.
		const keys = await deriveWorkspaceKeys(ws.id, ws.secret);
		const text = new TextEncoder().encode('{"name":');
		await relay.node.services.pubsub.publish(topic, await sealAwarenessEnvelope(keys, Uint8Array.from([1, 9, 5, text.length, ...text])));
		await waitFor(() => b.errors.some((e) => e.error.name === 'AwarenessRejectedError'), 'b to refuse it', PROMPT_MS);
		expect(b.awareness.getStates().has(9)).toBe(false);
		a.awareness.setLocalState({ name: 'Ada' });
		await waitFor(() => seen(b, a)?.name === 'Ada', 'b to see Ada after that', PROMPT_MS);
	}, 30_000);

	it("lets a member speak for itself only: another client's entry, several entries, or a state in another peer's name are refused", async () => {
		const ws = newWorkspace();
		const relay = await relayPeer();
		const [a, b, m] = [await presentPeer(ws, 'a'), await presentPeer(ws, 'b'), await presentPeer(ws, 'mallory')];
		for (const peer of [a, b, m]) await connect(peer, relay);
		const topic = await topicOf(ws);
		await waitFor(() => meshPeers(relay, topic).length === 3, 'the gossip mesh through the relay');
		const ada = a.node.peerId.toString();
		a.awareness.setLocalState({ peer: ada, name: 'Ada' });
		await waitFor(() => seen(b, a)?.name === 'Ada', 'b to see Ada', PROMPT_MS);

		// Mallory holds the workspace's keys (a member) and publishes, signed as herself:
		const keys = await deriveWorkspaceKeys(ws.id, ws.secret);
		const entry = (clientId: number, clock: number, state: Record<string, unknown>): number[] => {
			const json = [...new TextEncoder().encode(JSON.stringify(state))];
			return [clientId & 0x7f, clock, json.length, ...json]; // one-byte varuints: ids and clocks below 128
		};
		const publish = async (entries: number[][]) =>
			m.node.services.pubsub.publish(topic, await sealAwarenessEnvelope(keys, Uint8Array.from([entries.length, ...entries.flat()])));
		const forged = new Awareness(new Y.Doc());
		awarenesses.push(forged);
		forged.clientID = a.awareness.clientID;
		forged.setLocalState({ name: 'Ada', typing: newId() }); // no peer field: refused as another publisher's client
		forged.meta.set(forged.clientID, { clock: 1000, lastUpdated: Date.now() });
		await m.node.services.pubsub.publish(topic, await sealAwarenessEnvelope(keys, encodeAwarenessUpdate(forged, [forged.clientID])));
		await waitFor(() => b.errors.filter((e) => e.error.name === 'AwarenessRejectedError').length >= 1, 'b to refuse the takeover', PROMPT_MS);
		await publish([entry(5, 1, { name: 'one' }), entry(6, 1, { name: 'two' })]);
		await waitFor(() => b.errors.filter((e) => e.error.name === 'AwarenessRejectedError').length >= 2, 'b to refuse two entries at once', PROMPT_MS);
		await publish([entry(7, 1, { peer: ada, name: 'Ada (2)' })]);
		await waitFor(() => b.errors.filter((e) => e.error.name === 'AwarenessRejectedError').length >= 3, "b to refuse a state in Ada's name", PROMPT_MS);
		expect(seen(b, a)).toEqual({ peer: ada, name: 'Ada' });
		for (const id of [5, 6, 7]) expect(b.awareness.getStates().has(id)).toBe(false);

		// Her own state, in her own name, still shows.
		m.awareness.setLocalState({ peer: m.node.peerId.toString(), name: 'Mallory' });
		await waitFor(() => seen(b, m)?.name === 'Mallory', 'b to see Mallory herself', PROMPT_MS);
	}, 30_000);

	it('lets a late joiner see who is present at once, through the relay or a direct member', async () => {
		const ws = newWorkspace();
		const relay = await relayPeer();
		const [a, b] = [await presentPeer(ws, 'a'), await presentPeer(ws, 'b')];
		a.awareness.setLocalState({ name: 'Ada' });
		b.awareness.setLocalState({ name: 'Bob' });
		for (const peer of [a, b]) await connect(peer, relay);
		await waitFor(() => seen(a, b)?.name === 'Bob' && seen(b, a)?.name === 'Ada', 'a and b to see each other', PROMPT_MS);

		// Nobody changes state from now on: what the joiner sees was sent again for it.
		const late = await presentPeer(ws, 'late');
		late.awareness.setLocalState({ name: 'Late' });
		const joined = Date.now();
		await connect(late, relay);
		await waitFor(() => seen(late, a)?.name === 'Ada' && seen(late, b)?.name === 'Bob', 'the joiner to see both', PROMPT_MS);
		await waitFor(() => seen(a, late)?.name === 'Late' && seen(b, late)?.name === 'Late', 'both to see the joiner', PROMPT_MS);
		console.info(`late joiner through the relay saw everyone after ${Date.now() - joined} ms`);

		// A joiner that reaches one member directly (a sync session, no relay).
		const direct = await presentPeer(ws, 'direct');
		await connect(direct, a);
		const direct0 = Date.now();
		await waitFor(() => seen(direct, a)?.name === 'Ada', 'the direct joiner to see Ada', PROMPT_MS);
		console.info(`late joiner direct to a saw Ada after ${Date.now() - direct0} ms`);
		expect([...a.errors, ...b.errors, ...late.errors, ...direct.errors].filter((e) => e.error.name !== 'MembershipDeniedError')).toEqual([]);
	}, 30_000);

	it('withdraws a state at once when its workspace is removed or the service stops, and announces it again', async () => {
		const ws = newWorkspace();
		const relay = await relayPeer();
		const [a, b, c] = [await presentPeer(ws, 'a'), await presentPeer(ws, 'b'), await presentPeer(ws, 'c')];
		for (const peer of [a, b, c]) await connect(peer, relay);
		a.awareness.setLocalState({ name: 'Ada' });
		c.awareness.setLocalState({ name: 'Cy' });
		await waitFor(() => seen(b, a)?.name === 'Ada' && seen(b, c)?.name === 'Cy', 'b to see Ada and Cy', PROMPT_MS);

		await a.mesh.removeWorkspace(ws.id);
		await waitFor(() => seen(b, a) === undefined, 'Ada to disappear on b', PROMPT_MS);
		expect(seen(c, a)).toBeUndefined();
		expect(a.awareness.getLocalState()).toEqual({ name: 'Ada' }); // the app's state is left alone

		// Back again with the same awareness, having timed the others out meanwhile (as after
		// 30 s away): announced with a newer clock, so it is applied, and the others, seeing
		// Ada back, send their states again at once (not at their next 15 s renewal).
		removeAwarenessStates(a.awareness, [b.awareness.clientID, c.awareness.clientID], 'timeout');
		await a.mesh.addWorkspace({ ...ws, docs: a.docs, awareness: a.awareness });
		await waitFor(() => seen(b, a)?.name === 'Ada', 'Ada to come back on b', PROMPT_MS);
		await waitFor(() => seen(a, c)?.name === 'Cy' && seen(a, b) !== undefined, 'Ada to see the others again', PROMPT_MS);

		await c.mesh.stop();
		await waitFor(() => seen(b, c) === undefined && seen(a, c) === undefined, 'Cy to disappear', PROMPT_MS);
		expect(seen(b, a)?.name).toBe('Ada');
	}, 30_000);
});

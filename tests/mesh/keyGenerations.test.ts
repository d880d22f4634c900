/**
 * Key generations over the mesh: three members on real libp2p nodes, joined only through a
 * relay that is not a member (so gossip is their only path), seal gossip with their team's
 * current key generation. After Bob is removed and the key rotated, the others still read
 * each other's updates and presence; Bob, who still follows the topic and holds the old
 * generation, reads nothing more (each envelope is reported as an EnvelopeError).
 */
import '../../src/lib/mesh/polyfills.node.js'; // before anything that loads libp2p
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { Awareness } from 'y-protocols/awareness';
import { newId } from '../../src/lib/doc/ids.js';
import { GossipKeyring } from '../../src/lib/mesh/keyring.js';
import { newSecret } from '../../src/lib/mesh/secret.js';
import { followTopics } from '../../src/lib/mesh/topicRelay.js';
import { deriveWorkspaceKeys } from '../../src/lib/mesh/workspaceKeys.js';
import { device, TestTeam, type Device } from '../unit/mesh/team.js';
import { waitFor } from './helpers.js';
import { connect, connected, startPeer, stopPeers, type Peer } from './peers.js';

interface Member extends Peer {
	device: Device;
	keyring: GossipKeyring;
	awareness: Awareness;
}

const awarenesses: Awareness[] = [];
const unfollows: Array<() => void> = [];

afterEach(async () => {
	for (const stop of unfollows.splice(0)) stop();
	await stopPeers();
	for (const awareness of awarenesses.splice(0)) awareness.destroy();
}, 15_000);

const PROMPT_MS = 4000;

describe('gossip under key generations', () => {
	it('a member removed before a rotation reads no gossip sealed after it', async () => {
		const [owner, carol, bob] = await Promise.all([device(), device(), device()]);
		const team = await TestTeam.create(owner);
		await team.write(owner, { t: 'add', member: carol.id, role: 'member', name: 'Carol' });
		await team.write(owner, { t: 'add', member: bob.id, role: 'member', name: 'Bob' });
		const a = await team.rotate(owner);
		const secret = newSecret();
		const ws = { id: team.ws, secret };

		const relay = await startPeer(undefined, { name: 'relay' });
		unfollows.push(followTopics(relay.node.services.pubsub));
		const join = async (who: Device, name: string): Promise<Member> => {
			const peer = await startPeer(undefined, { name, privateKey: who.key });
			const keyring = await GossipKeyring.fromSecret(ws.id, secret);
			await keyring.update(team.fold(), who.key, who.id);
			const awareness = new Awareness(new Y.Doc());
			awarenesses.push(awareness);
			await peer.mesh.addWorkspace({ ...ws, docs: peer.docs, awareness, keyring });
			return { ...peer, device: who, keyring, awareness };
		};
		const members = [await join(owner, 'owner'), await join(carol, 'carol'), await join(bob, 'bob')];
		const [o, c, b] = members as [Member, Member, Member];
		expect(members.every((m) => m.keyring.current().id === a)).toBe(true);
		for (const m of members) await connect(m, relay);
		const topic = (await deriveWorkspaceKeys(ws.id, secret)).topic;
		const meshPeers = (p: Peer) => (p.node.services.pubsub as unknown as { getMeshPeers(t: string): string[] }).getMeshPeers(topic);
		await waitFor(() => meshPeers(relay).length === 3, 'the gossip mesh through the relay');

		// Generation A: everyone reads everyone.
		const doc = newId();
		o.docs.get(doc).getText('t').insert(0, 'A');
		await waitFor(() => [c, b].every((m) => m.docs.docs.get(doc)?.getText('t').toString() === 'A'), 'A to reach everyone', PROMPT_MS);

		// Bob is removed and the key rotated; every member (Bob too) folds the new team.
		await team.write(owner, { t: 'remove', member: bob.id });
		const gen = await team.rotate(owner);
		for (const m of members) await m.keyring.update(team.fold(), m.device.key, m.device.id);
		expect(o.keyring.current().id).toBe(gen);
		expect(c.keyring.current().id).toBe(gen);
		expect(b.keyring.get(gen)).toBeUndefined();

		o.docs.get(doc).getText('t').insert(1, 'B');
		o.awareness.setLocalState({ name: 'Owner' });
		await waitFor(() => c.docs.docs.get(doc)?.getText('t').toString() === 'AB', 'B to reach Carol', PROMPT_MS);
		await waitFor(() => c.awareness.getStates().get(o.awareness.clientID)?.name === 'Owner', 'Carol to see the owner', PROMPT_MS);
		await waitFor(() => b.errors.some((e) => e.error.name === 'EnvelopeError'), 'Bob to refuse what he cannot open', PROMPT_MS);
		expect(b.docs.docs.get(doc)?.getText('t').toString()).toBe('A');
		// Gossip was the only path: no member reached another directly.
		expect(connected(o, c) || connected(o, b) || connected(c, b)).toBe(false);
		expect(b.awareness.getStates().get(o.awareness.clientID)).toBeUndefined();
		expect(b.errors.every((e) => e.error.name === 'EnvelopeError' || e.error.name === 'MembershipDeniedError' || e.error.name === 'GossipKeyUnavailableError')).toBe(true);
		expect([...o.errors, ...c.errors].filter((e) => e.error.name !== 'MembershipDeniedError')).toEqual([]);
	}, 30_000);
});

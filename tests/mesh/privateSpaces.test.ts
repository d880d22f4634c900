/**
 * Private spaces (private channels, direct conversations) on the mesh, with real libp2p nodes
 * in one process running the workspace core. A space's document reaches its members' devices
 * only: a member outside it never receives it (not in a digest, not forwarded, not on
 * gossip), even with a modified client that offers and asks for everything; what such a client
 * pushes into the space is refused; a member added later gets the history; a member removed
 * gets nothing new.
 */
import { newSpaceId } from '../../src/lib/doc/team/teamId.js';
import '../../src/lib/mesh/polyfills.node.js';
import { afterEach, describe, expect, it } from 'vitest';
import { newId } from '../../src/lib/doc/ids.js';
import { waitFor } from './helpers.js';
import { openSpaceKeys, spaceDevicesWithoutKey, spaceNeedsKey } from '../../src/lib/core/spaceKeys.js';
import { connect, partition, stopPeers } from './peers.js';
import { createTeamWorkspace, has, invite, listedDoc, newKey, post, startJoiner, stopTeamPeers, teamOfThree, type TeamPeer } from './teamPeers.js';

afterEach(async () => {
	await stopTeamPeers();
	await stopPeers();
});


/** Creates a private space of `members` (creator first) and posts `first` in it. */
async function space(creator: TeamPeer, members: TeamPeer[], first: string): Promise<string> {
	const { space: id, nonce } = newSpaceId(creator.authority.workspaceId, creator.peerId);
	await creator.authority.write({ t: 'space', space: id, nonce, kind: 'private', members: members.map((m) => m.peerId) });
	post(creator, id, first);
	return id;
}

/**
 * Waits until `peer` has a message posted afterwards in a public document by `from`: every
 * path that could have carried the space's message to it has carried later ones.
 */
async function barrier(from: TeamPeer, peer: TeamPeer): Promise<void> {
	const doc = listedDoc(from, from.authority.workspaceId);
	post(from, doc, 'later');
	await waitFor(() => has(peer, doc, 'later'), `${peer.name} gets a later public message`);
}

describe('private spaces on the mesh', () => {
	it('reach their members only; a member added later gets the history, a member removed nothing new', async () => {
		const { owner, mallory, bob } = await teamOfThree();
		const id = await space(owner, [owner, bob], 'for bob only');
		await waitFor(() => has(bob, id, 'for bob only'), 'bob gets the private message');
		post(bob, id, 'from bob');
		await waitFor(() => has(owner, id, 'from bob'), 'the owner gets bob’s reply');
		await barrier(owner, mallory);
		await barrier(bob, mallory);
		expect(mallory.docs.docs.has(id)).toBe(false);

		// Added: the whole history arrives over the sessions already open.
		await owner.authority.write({ t: 'space-members', space: id, add: [mallory.peerId], remove: [] });
		await waitFor(() => has(mallory, id, 'for bob only') && has(mallory, id, 'from bob'), 'mallory gets the history once added');

		// Removed: nothing new reaches her, from anyone.
		await owner.authority.write({ t: 'space-members', space: id, add: [], remove: [mallory.peerId] });
		await waitFor(() => mallory.authority.spaceAccess(id)?.local === false && bob.authority.spaceAccess(id)?.reads(mallory.peerId) === false, 'the removal folded');
		post(owner, id, 'after she left');
		post(bob, id, 'bob after she left');
		await waitFor(() => has(bob, id, 'after she left') && has(owner, id, 'bob after she left'), 'the members still sync');
		await barrier(owner, mallory);
		await barrier(bob, mallory);
		expect(has(mallory, id, 'after she left') || has(mallory, id, 'bob after she left')).toBe(false);

		// The space's own key: made new after she left, held by both members, not by her.
		const current = () => owner.authority.team.spaces.get(id)?.currentKey;
		await waitFor(() => {
			const team = bob.authority.team;
			const space = team.spaces.get(id);
			return space !== undefined && !spaceNeedsKey(team, space) && spaceDevicesWithoutKey(team, space).length === 0 && space.currentKey === current();
		}, 'a space key generation without her, held by both members');
		const keyOf = (peer: TeamPeer) => openSpaceKeys(peer.authority.team, peer.key, peer.peerId).get(id)?.keys.get(current()!);
		expect(keyOf(owner)).toBeDefined();
		expect(keyOf(bob)).toEqual(keyOf(owner));
		await waitFor(() => mallory.authority.team.spaces.get(id)?.currentKey === current(), 'mallory folds the new generation');
		expect(keyOf(mallory)).toBeUndefined();
	});

	it('a modified client that offers, asks for and publishes everything gets nothing of a space and changes nothing in it', async () => {
		const { ws, owner } = await createTeamWorkspace((await newKey()).key);
		const bob = await startJoiner(ws, (await newKey()).key, 'bob', await invite(owner, 'member'));
		const mallory = await startJoiner(ws, (await newKey()).key, 'mallory', await invite(owner, 'member'), { ignoreSpaces: true });
		await connect(bob, owner);
		await connect(mallory, owner);
		for (const p of [owner, bob, mallory]) {
			await waitFor(() => p.authority.joined && p.authority.team.members.size === 3, `${p.name} folds three members`);
		}
		// Mallory reaches the owner through bob alone: the owner's gossip comes to her through him.
		await partition(mallory, owner);
		await connect(mallory, bob);
		const id = await space(owner, [owner, bob], 'secret plans');
		await waitFor(() => has(bob, id, 'secret plans'), 'bob gets the private message');
		await waitFor(() => mallory.authority.team.spaces.has(id), 'mallory folds the space (its id is no secret)');
		// Her client holds the id, names it in its digests and asks for it: nothing comes.
		post(mallory, id, 'forged by mallory');
		post(owner, id, 'more plans');
		await waitFor(() => has(bob, id, 'more plans'), 'bob gets the next private message');
		await barrier(owner, mallory);
		expect(has(mallory, id, 'secret plans') || has(mallory, id, 'more plans')).toBe(false);
		// What she pushed (on her session with bob, and on gossip to the owner) is refused.
		const refused = (peer: TeamPeer, reason: string) =>
			peer.errors.some((e) => e.error.name === 'UpdateRejectedError' && e.error.message.includes(id) && e.error.message.includes(reason));
		await waitFor(() => refused(bob, 'not in'), 'bob to refuse her session update');
		await waitFor(() => refused(owner, 'on gossip'), 'the owner to refuse her gossip update');
		await barrier(mallory, owner);
		expect(has(owner, id, 'forged by mallory') || has(bob, id, 'forged by mallory')).toBe(false);
	});
});

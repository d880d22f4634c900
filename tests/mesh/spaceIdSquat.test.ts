/**
 * A public channel a member listed under a space id of her own stays everyone's on the mesh
 * (found in review: she then claimed the id as a space, and every replica, the relay's too,
 * stopped offering the channel to anyone she had not put in it). In a workspace made now only
 * marked ids are spaces (teamId.ts `marksSpaceIds`), and the root lists none (rootPolicy.ts),
 * so her claim of an id of the old form is refused on every replica and the channel goes on
 * syncing. Real libp2p nodes running the workspace core, a team signed with real keys.
 */
import '../../src/lib/mesh/polyfills.node.js';
import { afterEach, describe, expect, it } from 'vitest';
import { signTeamOp } from '../../src/lib/doc/team/sign.js';
import { legacySpaceId, newTeamNonce, newWorkspaceNonce, teamRosterId, teamWorkspaceId } from '../../src/lib/doc/team/teamId.js';
import { WorkspaceDoc } from '../../src/lib/doc/WorkspaceDoc.js';
import { newSecret } from '../../src/lib/mesh/secret.js';
import { waitFor } from './helpers.js';
import { connect, stopPeers } from './peers.js';
import { has, invite, newKey, post, startJoiner, startTeamPeer, stopTeamPeers } from './teamPeers.js';

afterEach(async () => {
	await stopTeamPeers();
	await stopPeers();
});

/** A workspace made now (its root marks space ids) with Mallory and Bob, members, all connected. */
async function markedTeam() {
	const { key, peerId } = await newKey();
	const nonce = newWorkspaceNonce();
	const id = teamWorkspaceId(peerId, nonce);
	const ws = { id, secret: newSecret(), rosterId: teamRosterId(id) };
	const create = await signTeamOp(key, peerId, { ws: id, prev: [], at: Date.now() }, { t: 'create', nonce, name: 'owner' });
	const owner = await startTeamPeer(ws, key, 'owner', [create]);
	const invM = await invite(owner, 'member');
	const invB = await invite(owner, 'member');
	const mallory = await startJoiner(ws, (await newKey()).key, 'mallory', invM);
	const bob = await startJoiner(ws, (await newKey()).key, 'bob', invB);
	await connect(mallory, owner);
	await connect(bob, owner);
	await waitFor(() => owner.authority.isMember(mallory.peerId) && owner.authority.isMember(bob.peerId), 'admissions on the owner');
	await connect(bob, mallory);
	for (const p of [owner, mallory, bob]) await waitFor(() => p.authority.joined && p.authority.team.members.size === 3, `${p.name} folds three members`);
	return { ws, owner, mallory, bob };
}

describe('a channel under a space id of its creator', () => {
	it('keeps syncing to every member after she claims it as a space', async () => {
		const { ws, owner, mallory, bob } = await markedTeam();
		// Mallory derives a space id of the old form from her own device and lists a channel under it.
		const nonce = newTeamNonce();
		const channel = legacySpaceId(ws.id, mallory.peerId, nonce);
		new WorkspaceDoc(mallory.docs.get(ws.id)).createChannel({ id: channel, name: 'plans', topic: '', private: false, readOnly: false, archived: false, createdAt: Date.now(), createdBy: mallory.peerId });
		post(mallory, channel, 'everyone, post your plans here');
		post(owner, channel, 'my plans'); // once it reached the owner
		await waitFor(() => has(bob, channel, 'my plans') && has(mallory, channel, 'my plans'), 'the channel reaches everyone');

		// Then she claims it as a space of hers alone.
		const claim = await mallory.authority.write({ t: 'space', space: channel, nonce, kind: 'private', members: [mallory.peerId] });
		for (const p of [owner, bob]) await waitFor(() => p.authority.team.accepted.includes(claim.id) || p.authority.team.rejected.has(claim.id), `${p.name} folds the claim`);
		post(owner, channel, 'still here');
		await waitFor(() => has(bob, channel, 'still here') && has(mallory, channel, 'still here'), 'the channel still reaches everyone');
		for (const p of [owner, bob, mallory]) {
			expect(p.authority.team.rejected.get(claim.id)).toMatch(/not its author's/);
			expect(p.authority.spaceAccess(channel)).toBeUndefined();
		}
	});
});

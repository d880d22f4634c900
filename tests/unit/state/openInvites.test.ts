/**
 * The invitations a removal leaves open (TeamState.openInvitesOf): the members dialog offers to
 * revoke the link a removed member came in by, since the fold keeps only that member's own
 * devices out and a fresh key could still use the link. Real team operations, signed and
 * folded by a TeamAuthority over one roster document.
 */
import 'fake-indexeddb/auto';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { TeamAuthority } from '../../../src/lib/core/TeamAuthority.js';
import { newId } from '../../../src/lib/doc/ids.js';
import { admitProof, signTeamOp } from '../../../src/lib/doc/team/sign.js';
import { newTeamNonce, teamWorkspaceId } from '../../../src/lib/doc/team/teamId.js';
import { TeamState } from '../../../src/lib/state/TeamState.svelte.js';
import { OutpostDb } from '../../../src/lib/store/db.js';

async function device() {
	const privateKey = await generateKeyPair('Ed25519');
	return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() };
}

const HOUR = 3_600_000;

describe('invitations a removal leaves open', () => {
	it('names the open link each removed device came in by, with its uses left, and none once revoked, used up or for a device', async () => {
		const [owner, bea, cal] = [await device(), await device(), await device()];
		const nonce = newTeamNonce();
		const ws = teamWorkspaceId(owner.peerId, nonce);
		const doc = new Y.Doc();
		const own = new TeamAuthority({ workspaceId: ws, doc, device: owner });
		await own.add(await signTeamOp(owner.privateKey, owner.peerId, { ws, prev: [], at: Date.now() }, { t: 'create', nonce, name: 'owner' }));
		const team = new TeamState(own, new OutpostDb(`outpost-open-invites-${newId()}`));

		const shared = await team.createInvite({ role: 'member', uses: 5, validForMs: HOUR });
		const single = await team.createInvite({ role: 'member', uses: 1, validForMs: HOUR });
		const join = async (who: typeof bea, token: typeof shared, name: string) => {
			const joiner = new TeamAuthority({ workspaceId: ws, doc, device: who });
			await joiner.ready;
			await joiner.writeAfter([token.opId], { t: 'admit', invite: token.id, proof: admitProof(token.seed, ws, token.id, who.peerId), name });
			await own.settled();
		};
		await join(bea, shared, 'bea');
		await join(cal, single, 'cal');
		expect(team.members.map((m) => m.name).sort()).toEqual(['bea', 'cal', 'owner']);

		expect(team.openInvitesOf([bea.peerId])).toEqual([{ id: shared.id, left: 4 }]);
		expect(team.openInvitesOf([cal.peerId])).toEqual([]); // its one use is spent: nothing left open
		expect(team.openInvitesOf([owner.peerId])).toEqual([]); // the founder came in by none

		// An invitation for a device of one member is not offered (one use, that member only).
		await team.createDeviceInvite();
		expect(team.openInvitesOf([bea.peerId, owner.peerId])).toEqual([{ id: shared.id, left: 4 }]);

		await team.remove(team.members.find((m) => m.name === 'bea')!.id);
		expect(team.openInvitesOf([bea.peerId])).toEqual([{ id: shared.id, left: 4 }]); // removal alone leaves the link open
		await team.revokeInvite(shared.id);
		expect(team.openInvitesOf([bea.peerId])).toEqual([]);
	});
});

/**
 * Invitations for a relay (TeamState): the Invite dialog offers the role Relay, whose link
 * `npm run relay -- join` takes, and the Members panel can set a relay joined with a person's
 * invitation right. Real team operations, signed and folded by a TeamAuthority over one roster
 * document; the role is the fold's, not the UI's.
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
import type { InviteToken } from '../../../src/lib/mesh/invite.js';
import { inviteRoles, TeamState } from '../../../src/lib/state/TeamState.svelte.js';
import { OutpostDb } from '../../../src/lib/store/db.js';

async function device() {
	const privateKey = await generateKeyPair('Ed25519');
	return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() };
}

const HOUR = 3_600_000;

describe('invitations for a relay', () => {
	it('offers Relay among the roles an admin invites with, after member, admin and guest, and nothing to a device outside the team', () => {
		expect(inviteRoles('owner')).toEqual(['member', 'admin', 'guest', 'relay']);
		expect(inviteRoles('admin')).toEqual(['member', 'admin', 'guest', 'relay']);
		expect(inviteRoles(undefined)).toEqual([]);
	});

	it('admits the device that joins with it as a relay, and lets an admin make a member joined by a person\'s link a relay', async () => {
		const [owner, relay, other] = [await device(), await device(), await device()];
		const nonce = newTeamNonce();
		const ws = teamWorkspaceId(owner.peerId, nonce);
		const doc = new Y.Doc();
		const own = new TeamAuthority({ workspaceId: ws, doc, device: owner });
		await own.add(await signTeamOp(owner.privateKey, owner.peerId, { ws, prev: [], at: Date.now() }, { t: 'create', nonce, name: 'owner' }));
		const team = new TeamState(own, new OutpostDb(`outpost-relay-invite-${newId()}`));
		const join = async (who: typeof relay, token: InviteToken, name: string) => {
			const joiner = new TeamAuthority({ workspaceId: ws, doc, device: who });
			await joiner.ready;
			await joiner.writeAfter([token.opId], { t: 'admit', invite: token.id, proof: admitProof(token.seed, ws, token.id, who.peerId), name });
			await own.settled();
		};

		await join(relay, await team.createInvite({ role: 'relay', uses: 1, validForMs: HOUR }), 'Relay');
		expect(own.roleOf(relay.peerId)).toBe('relay');
		expect(team.members.find((m) => m.name === 'Relay')?.role).toBe('relay');

		// A relay joined with a member's link: the Members panel offers Relay for it, and the fold takes it.
		await join(other, await team.createInvite({ role: 'member', uses: 1, validForMs: HOUR }), 'Ship relay');
		const member = team.members.find((m) => m.name === 'Ship relay')!;
		expect(member.role).toBe('member');
		expect(team.rolesFor(member)).toContain('relay');
		await team.setRole(member.id, 'relay');
		expect(own.roleOf(other.peerId)).toBe('relay');
	});
});

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
import { admitProof, invitePublicKey, newInviteSeed, signTeamOp } from '../../../src/lib/doc/team/sign.js';
import { newTeamNonce, teamInviteId, teamWorkspaceId } from '../../../src/lib/doc/team/teamId.js';
import type { InviteToken } from '../../../src/lib/mesh/invite.js';
import { inviteRoles, TeamState } from '../../../src/lib/state/TeamState.svelte.js';
import { OutpostDb } from '../../../src/lib/store/db.js';

async function device() {
	const privateKey = await generateKeyPair('Ed25519');
	return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() };
}

const HOUR = 3_600_000;

describe('invitations for a relay', () => {
	it('offers Relay among the roles an admin invites with, after member, admin and guest; nothing to members, who do not invite', () => {
		expect(inviteRoles('owner')).toEqual(['member', 'admin', 'guest', 'relay']);
		expect(inviteRoles('admin')).toEqual(['member', 'admin', 'guest', 'relay']);
		expect(inviteRoles('member')).toEqual([]);
		expect(inviteRoles(undefined)).toEqual([]);
	});

	it('admits one device with it, as a relay; a relay joined with a person\'s link is removed and joins again with one', async () => {
		const [owner, relay, other] = [await device(), await device(), await device()];
		const nonce = newTeamNonce();
		const ws = teamWorkspaceId(owner.peerId, nonce);
		const doc = new Y.Doc();
		const own = new TeamAuthority({ workspaceId: ws, doc, device: owner });
		await own.add(await signTeamOp(owner.privateKey, owner.peerId, { ws, prev: [], at: Date.now() }, { t: 'create', nonce, name: 'owner' }));
		const team = new TeamState(own, new OutpostDb(`outpost-relay-invite-${newId()}`));
		/** `who` writes its admission on a roster of its own (holding only what it was given), then the owner folds it. */
		const join = async (who: typeof relay, token: InviteToken, name: string, own?: Y.Doc) => {
			const joiner = new TeamAuthority({ workspaceId: ws, doc: own ?? doc, device: who });
			await joiner.ready;
			const op = await joiner.writeAfter([token.opId], { t: 'admit', invite: token.id, proof: admitProof(token.seed, ws, token.id, who.peerId), name });
			return { joiner, op };
		};

		// Asked for five, an invitation for a relay admits one; a modified client's for five is refused by the fold.
		const forRelay = await team.createInvite({ role: 'relay', uses: 5, validForMs: HOUR });
		expect(own.team.invites.get(forRelay.id)?.uses).toBe(1);
		const seed = newInviteSeed();
		const key = invitePublicKey(seed);
		const forFive = await own.write({ t: 'invite', invite: teamInviteId(ws, owner.peerId, key), key, role: 'relay', uses: 5, expires: Date.now() + HOUR });
		expect(own.team.rejected.get(forFive.id)).toMatch(/admits one/);
		await join(relay, forRelay, 'Relay');
		await own.settled();
		expect(own.roleOf(relay.peerId)).toBe('relay');
		expect(team.members.find((m) => m.name === 'Relay')?.role).toBe('relay');

		// A relay joined with a member's link: the Members panel does not offer to make it a relay (a
		// relay is trusted with more than a member). The admin removes it and makes an invitation for a relay.
		await join(other, await team.createInvite({ role: 'member', uses: 1, validForMs: HOUR }), 'Ship relay');
		await own.settled();
		const member = team.members.find((m) => m.name === 'Ship relay')!;
		expect(team.rolesFor(member)).not.toContain('relay');
		await team.remove(member.id);
		// The relay's roster has its removal but not the new invitation: it is joining again, not shut out.
		const relayRoster = new Y.Doc();
		Y.applyUpdate(relayRoster, Y.encodeStateAsUpdate(doc));
		const again = await team.createInvite({ role: 'relay', uses: 1, validForMs: HOUR });
		const { joiner, op } = await join(other, again, 'Ship relay', relayRoster);
		await joiner.settled();
		expect(joiner.joined).toBe(false);
		expect(joiner.excluded).toBe(false);
		expect(joiner.admission()).toEqual(op.bytes); // what its HELLO shows: the new admission, not the old one
		expect(await own.admits(other.peerId, op.bytes)).toBe('ok');
		expect(own.roleOf(other.peerId)).toBe('relay');
	});
});

/**
 * Removing someone while multi-use links are open (TeamState.linksOpenAtRemoval, remove,
 * removeDevice): the fold keeps the removed devices out, not the person, who can join again
 * with a new key through any open link it saw. The Members dialog offers to revoke every link
 * more than one person can still use, and the removal revokes them by signed operations.
 * Real team operations, signed and folded by TeamAuthority replicas over one roster document.
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
import { TeamState } from '../../../src/lib/state/TeamState.svelte.js';
import { OutpostDb } from '../../../src/lib/store/db.js';

async function device() {
	const privateKey = await generateKeyPair('Ed25519');
	return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() };
}
type Device = Awaited<ReturnType<typeof device>>;

const HOUR = 3_600_000;

/** A workspace of `owner`; `join` admits a device with a link, as the joining app writes it. */
async function workspace() {
	const owner = await device();
	const nonce = newTeamNonce();
	const ws = teamWorkspaceId(owner.peerId, nonce);
	const doc = new Y.Doc();
	const own = new TeamAuthority({ workspaceId: ws, doc, device: owner });
	await own.add(await signTeamOp(owner.privateKey, owner.peerId, { ws, prev: [], at: Date.now() }, { t: 'create', nonce, name: 'owner' }));
	const team = new TeamState(own, new OutpostDb(`outpost-removal-links-${newId()}`));
	const join = async (who: Device, token: InviteToken, name: string) => {
		const joiner = new TeamAuthority({ workspaceId: ws, doc, device: who });
		await joiner.ready;
		await joiner.writeAfter([token.opId], { t: 'admit', invite: token.id, proof: admitProof(token.seed, ws, token.id, who.peerId), name });
		await own.settled();
		return joiner;
	};
	return { ws, doc, owner, own, team, join };
}

describe('removing a member while multi-use links are open', () => {
	it('offers every link more than one person can still use, the one the member came in by first, and revokes them with the removal', async () => {
		const { team, join } = await workspace();
		const [bea, cal, fresh] = [await device(), await device(), await device()];
		const beasLink = await team.createInvite({ role: 'member', uses: 5, validForMs: HOUR });
		const classLink = await team.createInvite({ role: 'guest', uses: 30, validForMs: HOUR });
		const single = await team.createInvite({ role: 'member', uses: 1, validForMs: HOUR });
		const calsLink = await team.createInvite({ role: 'member', uses: 1, validForMs: HOUR });
		await team.createDeviceInvite();
		await join(bea, beasLink, 'bea');
		await join(cal, calsLink, 'cal');
		const beaView = team.members.find((m) => m.name === 'bea')!;

		const offered = team.linksOpenAtRemoval(beaView.id, beaView.devices, true);
		// Bea saw the class link too (a link is shared where many see it); a single-use link nobody
		// used, a used-up one and a device invitation are not offered.
		expect(offered).toEqual([
			{ id: beasLink.id, left: 4, joinedWith: true },
			{ id: classLink.id, left: 30, joinedWith: false }
		]);
		// Leaving offers nothing: nobody is kept out.
		expect(team.linksOpenAtRemoval(team.members.find((m) => m.isMe)!.id, [team.me], true)).toEqual([]);

		await team.remove(beaView.id, offered.map((l) => l.id));
		const status = new Map(team.invites.map((i) => [i.id, i.status]));
		expect(status.get(beasLink.id)).toBe('revoked');
		expect(status.get(classLink.id)).toBe('revoked');
		expect(status.get(single.id)).toBe('active');
		expect(team.members.map((m) => m.name).sort()).toEqual(['cal', 'owner']);

		// Bea, with a fresh key, tries both links she saw: the team does not take her back.
		for (const link of [classLink, beasLink]) expect((await join(fresh, link, 'bea again')).team.devices.has(fresh.peerId)).toBe(false);
		expect(team.members.map((m) => m.name).sort()).toEqual(['cal', 'owner']);
	});

	it('without the revocations, the removed person joins again with a new key (why the dialog offers them)', async () => {
		const { team, join } = await workspace();
		const [bea, fresh] = [await device(), await device()];
		const link = await team.createInvite({ role: 'member', uses: 5, validForMs: HOUR });
		await join(bea, link, 'bea');
		await team.remove(team.members.find((m) => m.name === 'bea')!.id);
		await join(fresh, link, 'bea again');
		expect(team.members.map((m) => m.name).sort()).toEqual(['bea again', 'owner']);
	});

	it("leaves out the removed admin's own links (the fold closes them) and, for a device, offers the same links", async () => {
		const { team, join, own } = await workspace();
		const [ann, annPhone] = [await device(), await device()];
		const adminLink = await team.createInvite({ role: 'admin', uses: 1, validForMs: HOUR });
		const open = await team.createInvite({ role: 'member', uses: 3, validForMs: HOUR });
		const ann1 = await join(ann, adminLink, 'ann');
		const annsState = new TeamState(ann1, new OutpostDb(`outpost-removal-links-${newId()}`));
		const annsLink = await annsState.createInvite({ role: 'member', uses: 10, validForMs: HOUR });
		const phoneLink = await annsState.createDeviceInvite();
		await join(annPhone, phoneLink, 'ann');
		await own.settled();
		const annView = team.members.find((m) => m.name === 'ann')!;
		expect(annView.devices).toHaveLength(2);

		expect(team.linksOpenAtRemoval(annView.id, annView.devices, true).map((l) => l.id)).toEqual([open.id]);
		const forDevice = team.linksOpenAtRemoval(annView.id, [annPhone.peerId], false).map((l) => l.id).sort();
		expect(forDevice).toEqual([open.id, annsLink.id].sort());
		// Ann removing her own lost phone is offered the same links (leaving is offered none).
		expect(annsState.linksOpenAtRemoval(annView.id, [annPhone.peerId], false).map((l) => l.id).sort()).toEqual(forDevice);
		expect(annsState.linksOpenAtRemoval(annView.id, annView.devices, true)).toEqual([]);
		await team.removeDevice(annPhone.peerId, forDevice);
		const status = new Map(team.invites.map((i) => [i.id, i.status]));
		expect(status.get(open.id)).toBe('revoked');
		expect(status.get(annsLink.id)).toBe('revoked');
		expect(team.members.find((m) => m.name === 'ann')?.devices).toEqual([ann.peerId]);

		// Removing Ann herself closes the links she made, revocation or not (fold.ts closeInvites).
		const another = await annsState.createInvite({ role: 'member', uses: 4, validForMs: HOUR });
		await own.settled();
		await team.remove(annView.id);
		expect(team.invites.find((i) => i.id === another.id)?.status).toBe('revoked');
	});
});

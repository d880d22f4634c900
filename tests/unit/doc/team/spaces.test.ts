/**
 * Private spaces and model access in the team fold, against members with modified clients:
 * each operation is signed with a real device key, and what the rules refuse has no effect.
 */
import { newSpaceId, newTeamNonce, teamRosterId } from '../../../../src/lib/doc/team/teamId.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { foldTeam } from '../../../../src/lib/doc/team/fold.js';
import { newId } from '../../../../src/lib/doc/ids.js';
import { roleMayUseModel } from '../../../../src/lib/doc/team/modelAccess.js';
import type { TeamOp } from '../../../../src/lib/doc/team/ops.js';
import { deviceMayRead, findDirect, memberMayRead, spacesOf } from '../../../../src/lib/doc/team/spaces.js';
import { createWorkspace, newDevice, write, type Device } from './teamKit.js';

let owner: Device, admin: Device, ann: Device, bob: Device, guest: Device;

beforeAll(async () => {
	[owner, admin, ann, bob, guest] = await Promise.all([newDevice(), newDevice(), newDevice(), newDevice(), newDevice()]);
});

async function baseTeam(): Promise<{ ws: string; ops: TeamOp[] }> {
	const { ws, create } = await createWorkspace(owner);
	const ops = [create];
	ops.push(await write(owner, ws, ops, { t: 'add', member: admin.peerId, role: 'admin', name: 'admin' }));
	ops.push(await write(owner, ws, ops, { t: 'add', member: ann.peerId, role: 'member', name: 'ann' }));
	ops.push(await write(owner, ws, ops, { t: 'add', member: bob.peerId, role: 'member', name: 'bob' }));
	ops.push(await write(owner, ws, ops, { t: 'add', member: guest.peerId, role: 'guest', name: 'guest' }));
	return { ws, ops };
}

describe('private spaces', () => {
	it('only the space members read its document; other documents stay open to every member', async () => {
		const { ws, ops } = await baseTeam();
		const { space, nonce } = newSpaceId(ws, ann.peerId);
		ops.push(await write(ann, ws, ops, { t: 'space', space, nonce, kind: 'private', members: [ann.peerId, guest.peerId] }));
		const team = foldTeam(ws, ops);
		expect(deviceMayRead(team, ann.peerId, space)).toBe(true);
		expect(deviceMayRead(team, guest.peerId, space)).toBe(true);
		expect(deviceMayRead(team, bob.peerId, space)).toBe(false);
		expect(deviceMayRead(team, owner.peerId, space)).toBe(false); // not even the owner, unless added
		expect(deviceMayRead(team, bob.peerId, newId())).toBe(true);
		expect(memberMayRead(team, 'stranger', newId())).toBe(false);
		expect(spacesOf(team, guest.peerId).map((s) => s.id)).toEqual([space]);
	});

	it('a guest cannot create a space, nor a member one it is not in', async () => {
		const { ws, ops } = await baseTeam();
		const byGuest = await write(guest, ws, ops, { t: 'space', ...newSpaceId(ws, guest.peerId), kind: 'private', members: [guest.peerId] });
		const without = await write(bob, ws, ops, { t: 'space', ...newSpaceId(ws, bob.peerId), kind: 'private', members: [ann.peerId] });
		const team = foldTeam(ws, [...ops, byGuest, without]);
		expect(team.spaces.size).toBe(0);
		expect(team.rejected.get(byGuest.id)).toMatch(/only members/);
		expect(team.rejected.get(without.id)).toMatch(/author must be a member/);
	});

	it('an outsider cannot add itself to a private space, and a member cannot remove others', async () => {
		const { ws, ops } = await baseTeam();
		const { space, nonce } = newSpaceId(ws, ann.peerId);
		ops.push(await write(ann, ws, ops, { t: 'space', space, nonce, kind: 'private', members: [ann.peerId, admin.peerId] }));
		const join = await write(bob, ws, ops, { t: 'space-members', space, add: [bob.peerId], remove: [] });
		const kick = await write(admin, ws, ops, { t: 'space-members', space, add: [], remove: [ann.peerId] });
		const team = foldTeam(ws, [...ops, join]);
		expect(team.spaces.get(space)?.members.has(bob.peerId)).toBe(false);
		expect(team.rejected.get(join.id)).toMatch(/may not add/);
		// An admin manages every space (it may remove the creator); the creator adds and removes.
		const managed = foldTeam(ws, [...ops, kick]);
		expect(managed.spaces.get(space)?.members.has(ann.peerId)).toBe(false);
	});

	it('the creator adds and removes; a member leaves; a removed team member leaves every space', async () => {
		const { ws, ops } = await baseTeam();
		const { space, nonce } = newSpaceId(ws, ann.peerId);
		ops.push(await write(ann, ws, ops, { t: 'space', space, nonce, kind: 'private', members: [ann.peerId] }));
		ops.push(await write(ann, ws, ops, { t: 'space-members', space, add: [bob.peerId, guest.peerId], remove: [] }));
		ops.push(await write(bob, ws, ops, { t: 'space-members', space, add: [], remove: [bob.peerId] }));
		ops.push(await write(owner, ws, ops, { t: 'remove', member: guest.peerId }));
		const team = foldTeam(ws, ops);
		expect([...team.spaces.get(space)!.members]).toEqual([ann.peerId]);
	});

	it('a creator taken out of its space by an admin cannot add itself back (found in review)', async () => {
		const { ws, ops } = await baseTeam();
		const { space, nonce } = newSpaceId(ws, ann.peerId);
		ops.push(await write(ann, ws, ops, { t: 'space', space, nonce, kind: 'private', members: [ann.peerId, bob.peerId] }));
		ops.push(await write(admin, ws, ops, { t: 'space-members', space, add: [], remove: [ann.peerId] }));
		const back = await write(ann, ws, ops, { t: 'space-members', space, add: [ann.peerId], remove: [] });
		const team = foldTeam(ws, [...ops, back]);
		expect(team.rejected.get(back.id)).toMatch(/may not add/);
		expect(team.spaces.get(space)?.members).toEqual(new Set([bob.peerId]));
		// An admin may bring it back.
		ops.push(await write(admin, ws, ops, { t: 'space-members', space, add: [ann.peerId], remove: [] }));
		expect(foldTeam(ws, ops).spaces.get(space)?.members.has(ann.peerId)).toBe(true);
	});

	it("a space's creator cannot fend off an admin's removal by removing the admin, who is not in the space (found in review)", async () => {
		const { ws, ops } = await baseTeam();
		const { space, nonce } = newSpaceId(ws, ann.peerId);
		ops.push(await write(ann, ws, ops, { t: 'space', space, nonce, kind: 'private', members: [ann.peerId, bob.peerId] }));
		const created = [...ops];
		ops.push(await write(admin, ws, ops, { t: 'space-members', space, add: [], remove: [ann.peerId] }));
		for (let at = 1_001; at < 1_011; at++) {
			const counter = await write(ann, ws, created, { t: 'space-members', space, add: [], remove: [admin.peerId] }, at);
			const team = foldTeam(ws, [...ops, counter]);
			expect(team.spaces.get(space)?.members).toEqual(new Set([bob.peerId]));
		}
	});

	it("no member squats the id of a space's next key generation with a generation of its own space (found in review)", async () => {
		const { ws, ops } = await baseTeam();
		const s1 = newSpaceId(ws, bob.peerId);
		ops.push(await write(bob, ws, ops, { t: 'space', ...s1, kind: 'private', members: [bob.peerId, ann.peerId] }));
		const s2 = newSpaceId(ws, ann.peerId);
		ops.push(await write(ann, ws, ops, { t: 'space', ...s2, kind: 'private', members: [ann.peerId] }));
		const [g1, g2] = [newId(), newId()];
		ops.push(await write(bob, ws, ops, { t: 'keys', gen: g1, boxes: {}, space: s1.space }));
		ops.push(await write(bob, ws, ops, { t: 'space-members', space: s1.space, add: [], remove: [ann.peerId] }));
		const before = [...ops];
		const rotation = await write(bob, ws, ops, { t: 'keys', gen: g2, boxes: {}, space: s1.space });
		ops.push(rotation);
		for (let at = 1_001; at < 1_011; at++) {
			const squat = await write(ann, ws, before, { t: 'keys', gen: g2, boxes: {}, space: s2.space }, at);
			const team = foldTeam(ws, [...ops, squat]);
			expect(team.rejected.has(rotation.id)).toBe(false);
			expect(team.spaces.get(s1.space)?.currentKey).toBe(g2);
		}
	});

	it('a direct conversation has two members or more; any of them may add another', async () => {
		const { ws, ops } = await baseTeam();
		const lone = await write(ann, ws, ops, { t: 'space', ...newSpaceId(ws, ann.peerId), kind: 'dm', members: [ann.peerId] });
		const { space: dm, nonce: dmNonce } = newSpaceId(ws, ann.peerId);
		ops.push(await write(ann, ws, ops, { t: 'space', space: dm, nonce: dmNonce, kind: 'dm', members: [ann.peerId, bob.peerId] }));
		ops.push(await write(bob, ws, ops, { t: 'space-members', space: dm, add: [admin.peerId], remove: [] }));
		const team = foldTeam(ws, [...ops, lone]);
		expect(team.rejected.get(lone.id)).toMatch(/two members/);
		expect(findDirect(team, [ann.peerId, bob.peerId, admin.peerId])?.id).toBe(dm);
		expect(findDirect(team, [ann.peerId, bob.peerId])).toBeUndefined();
	});

	it('an admin outside a direct conversation cannot add itself (or anyone) to it, nor remove its people; it can in a private channel (found in review)', async () => {
		const { ws, ops } = await baseTeam();
		const { space: dm, nonce: dmNonce } = newSpaceId(ws, ann.peerId);
		ops.push(await write(ann, ws, ops, { t: 'space', space: dm, nonce: dmNonce, kind: 'dm', members: [ann.peerId, bob.peerId] }));
		const { space: room, nonce: roomNonce } = newSpaceId(ws, ann.peerId);
		ops.push(await write(ann, ws, ops, { t: 'space', space: room, nonce: roomNonce, kind: 'private', members: [ann.peerId, bob.peerId] }));
		const joinDm = await write(admin, ws, ops, { t: 'space-members', space: dm, add: [admin.peerId], remove: [] });
		const dropBob = await write(owner, ws, ops, { t: 'space-members', space: dm, add: [], remove: [bob.peerId] });
		const joinRoom = await write(admin, ws, ops, { t: 'space-members', space: room, add: [admin.peerId], remove: [] });
		const team = foldTeam(ws, [...ops, joinDm, dropBob, joinRoom]);
		expect(team.rejected.has(joinDm.id)).toBe(true);
		expect(team.rejected.has(dropBob.id)).toBe(true);
		expect(deviceMayRead(team, admin.peerId, dm)).toBe(false);
		expect([...team.spaces.get(dm)!.members].sort()).toEqual([ann.peerId, bob.peerId].sort());
		expect(deviceMayRead(team, admin.peerId, room)).toBe(true);
	});

	it('a space id cannot be taken over by a second space operation', async () => {
		const { ws, ops } = await baseTeam();
		const { space, nonce } = newSpaceId(ws, ann.peerId);
		ops.push(await write(ann, ws, ops, { t: 'space', space, nonce, kind: 'private', members: [ann.peerId] }));
		const takeover = await write(bob, ws, ops, { t: 'space', space, nonce, kind: 'private', members: [bob.peerId] });
		const team = foldTeam(ws, [...ops, takeover]);
		expect(team.spaces.get(space)?.creator).toBe(ann.peerId);
		expect(team.rejected.get(takeover.id)).toMatch(/not its author's/);
	});

	it("a space's id is derived from its author and nonce: no member claims the roster, the root or a channel as its space", async () => {
		const { ws, ops } = await baseTeam();
		const channel = newId();
		const claims = await Promise.all(
			[ws, teamRosterId(ws), channel].map((space) => write(bob, ws, ops, { t: 'space', space, nonce: newTeamNonce(), kind: 'private', members: [bob.peerId] }))
		);
		const team = foldTeam(ws, [...ops, ...claims]);
		expect(team.spaces.size).toBe(0);
		for (const claim of claims) expect(team.rejected.get(claim.id)).toMatch(/not its author's/);
		const own = newSpaceId(ws, bob.peerId);
		const honest = await write(bob, ws, ops, { t: 'space', ...own, kind: 'private', members: [bob.peerId] });
		expect(foldTeam(ws, [...ops, honest]).spaces.has(own.space)).toBe(true);
	});

	it("a member listed in a space whose team removal is ordered first is left out of it: the space stands (found in review)", async () => {
		const { ws, ops } = await baseTeam();
		const { space, nonce } = newSpaceId(ws, ann.peerId);
		const spaceOp = await write(ann, ws, ops, { t: 'space', space, nonce, kind: 'private', members: [ann.peerId, bob.peerId] });
		// Bob signs removals of himself that saw only the base team, so they are concurrent with
		// the space; some order before it, some after.
		for (let at = 1_001; at < 1_021; at++) {
			const leave = await write(bob, ws, ops, { t: 'remove', member: bob.peerId }, at);
			const team = foldTeam(ws, [...ops, spaceOp, leave]);
			expect(team.spaces.get(space)?.members).toEqual(new Set([ann.peerId]));
			expect(memberMayRead(team, ann.peerId, space)).toBe(true);
		}
	});

	it('a space whose operation is dropped keeps its document private, with no readers', async () => {
		const { ws, ops } = await baseTeam();
		const { space, nonce } = newSpaceId(ws, ann.peerId);
		// Ann makes a space while the owner removes her: her concurrent operation is dropped.
		const spaceOp = await write(ann, ws, ops, { t: 'space', space, nonce, kind: 'private', members: [ann.peerId, bob.peerId] });
		const removal = await write(owner, ws, ops, { t: 'remove', member: ann.peerId });
		const team = foldTeam(ws, [...ops, spaceOp, removal]);
		expect(team.rejected.has(spaceOp.id)).toBe(true);
		expect(team.spaces.has(space)).toBe(false);
		for (const d of [owner, admin, bob, guest]) expect(deviceMayRead(team, d.peerId, space), d.peerId).toBe(false);
		expect(deviceMayRead(team, bob.peerId, newId())).toBe(true);
	});

	it('a member removed from a space cannot backdate an addition past its removal (found in review)', async () => {
		const { ws, ops } = await baseTeam();
		const { space: dm, nonce } = newSpaceId(ws, bob.peerId);
		ops.push(await write(bob, ws, ops, { t: 'space', space: dm, nonce, kind: 'dm', members: [bob.peerId, owner.peerId, ann.peerId] }));
		const created = [...ops];
		ops.push(await write(ann, ws, ops, { t: 'space-members', space: dm, add: [admin.peerId], remove: [] })); // seen by her removal: stands
		ops.push(await write(bob, ws, ops, { t: 'space-members', space: dm, add: [], remove: [ann.peerId] }));
		// Ann signs an addition of the guest that saw only the conversation's creation.
		for (let at = 1_001; at < 1_011; at++) {
			const backdated = await write(ann, ws, created, { t: 'space-members', space: dm, add: [guest.peerId], remove: [] }, at);
			const team = foldTeam(ws, [...ops, backdated]);
			expect(team.rejected.get(backdated.id)).toBe('dropped: written by a removed member');
			expect(team.spaces.get(dm)?.members).toEqual(new Set([bob.peerId, owner.peerId, admin.peerId]));
		}
	});
});

describe('model access', () => {
	it('members use models with no rule, guests do not; an admin sets the roles; a member cannot', async () => {
		const { ws, ops } = await baseTeam();
		let team = foldTeam(ws, ops);
		expect(roleMayUseModel(team, 'member', 'tiny')).toBe(true);
		expect(roleMayUseModel(team, 'guest', 'tiny')).toBe(false);
		expect(roleMayUseModel(team, undefined, 'tiny')).toBe(false);
		ops.push(await write(admin, ws, ops, { t: 'model-access', model: 'tiny', roles: ['owner', 'admin'] }));
		const forged = await write(ann, ws, ops, { t: 'model-access', model: 'tiny', roles: ['member', 'guest'] });
		team = foldTeam(ws, [...ops, forged]);
		expect(roleMayUseModel(team, 'member', 'tiny')).toBe(false);
		expect(roleMayUseModel(team, 'admin', 'tiny')).toBe(true);
		expect(roleMayUseModel(team, 'member', 'other')).toBe(true);
		expect(team.rejected.get(forged.id)).toMatch(/only admins/);
	});
});

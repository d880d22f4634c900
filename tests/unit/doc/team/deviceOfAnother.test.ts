/**
 * Found in review. An admin may not act for an owner: `role` and `remove-device` refuse it (rank checks), but an
 * `invite` with `member` set to the owner is accepted from any admin, and the admitted device
 * is a device of the owner's member, so it signs as the owner (promotes the admin, removes the
 * real owner).
 */
import { describe, expect, it } from 'vitest';
import { foldTeam } from '../../../../src/lib/doc/team/fold.js';
import type { TeamOp } from '../../../../src/lib/doc/team/ops.js';
import { admission, createWorkspace, invitation, newDevice, write } from './teamKit.js';

describe('device invitations for a higher-ranked member', () => {
	it('an admin cannot invite a device onto the owner, and so cannot take the workspace', async () => {
		const [owner, alice, aliceSecond] = await Promise.all([newDevice(), newDevice(), newDevice()]);
		const { ws, create } = await createWorkspace(owner);
		const ops: TeamOp[] = [create];
		ops.push(await write(owner, ws, ops, { t: 'add', member: alice.peerId, role: 'admin', name: 'alice' }));
		// Alice (admin) invites a "device of the owner" and admits a key she holds with it.
		const inv = invitation('member', 1, 10_000_000, owner.peerId);
		const inviteOp = await write(alice, ws, ops, inv.body);
		ops.push(inviteOp);
		const admit = await admission(aliceSecond, ws, ops, inv);
		ops.push(admit);
		// Her key, now speaking as the owner, makes alice an owner and removes the real one.
		const promote = await write(aliceSecond, ws, ops, { t: 'role', member: alice.peerId, role: 'owner' });
		ops.push(promote);
		const ousted = await write(alice, ws, ops, { t: 'remove', member: owner.peerId });
		ops.push(ousted);
		const team = foldTeam(ws, ops);
		// Before the fix: the owner was removed and alice was the only owner.
		expect({ owner: team.members.get(owner.peerId)?.role, alice: team.members.get(alice.peerId)?.role }).toEqual({ owner: 'owner', alice: 'admin' });
		// The invitation (or at least the admission) should be refused.
		expect(team.rejected.has(inviteOp.id) || team.rejected.has(admit.id)).toBe(true);
		expect(team.devices.get(aliceSecond.peerId)).not.toBe(owner.peerId);
	});

	it('nor a device onto a member’s account (it would read their direct messages), while the member still adds its own', async () => {
		const [owner, alice, bob, bobPhone, aliceKey] = await Promise.all([newDevice(), newDevice(), newDevice(), newDevice(), newDevice()]);
		const { ws, create } = await createWorkspace(owner);
		const ops: TeamOp[] = [create];
		ops.push(await write(owner, ws, ops, { t: 'add', member: alice.peerId, role: 'admin', name: 'alice' }));
		ops.push(await write(owner, ws, ops, { t: 'add', member: bob.peerId, role: 'member', name: 'bob' }));
		const byAdmin = invitation('member', 1, 10_000_000, bob.peerId);
		const adminInvite = await write(alice, ws, ops, byAdmin.body);
		ops.push(adminInvite);
		ops.push(await admission(aliceKey, ws, ops, byAdmin));
		const own = invitation('member', 1, 10_000_000, bob.peerId);
		ops.push(await write(bob, ws, ops, own.body));
		ops.push(await admission(bobPhone, ws, ops, own));
		const team = foldTeam(ws, ops);
		expect(team.rejected.has(adminInvite.id)).toBe(true);
		expect(team.devices.get(aliceKey.peerId)).toBeUndefined();
		expect(team.devices.get(bobPhone.peerId)).toBe(bob.peerId);
	});
});

/**
 * An `add` or an admission naming a current member's id is refused, even when that id (the
 * member's first device) is no longer one of its devices (found in review: the fold checked
 * only current devices, and adding the owner's removed laptop as a guest replaced the owner's
 * record, leaving the team with no owner).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { foldTeam } from '../../../../src/lib/doc/team/fold.js';
import type { TeamOp } from '../../../../src/lib/doc/team/ops.js';
import { admission, createWorkspace, invitation, newDevice, write, type Device } from './teamKit.js';

let owner: Device, ownerPhone: Device, admin: Device;
beforeAll(async () => {
	[owner, ownerPhone, admin] = await Promise.all([newDevice(), newDevice(), newDevice()]);
});

describe('add over an existing member', () => {
	it("an admin cannot demote the (last) owner by adding the owner's removed first device", async () => {
		const { ws, create } = await createWorkspace(owner);
		const ops: TeamOp[] = [create];
		ops.push(await write(owner, ws, ops, { t: 'add', member: admin.peerId, role: 'admin', name: 'admin' }));
		const phone = invitation('member', 1, 10_000_000, owner.peerId);
		ops.push(await write(owner, ws, ops, phone.body));
		ops.push(await admission(ownerPhone, ws, ops, phone));
		// The laptop (the owner's first device, whose peer id is the member id) is lost: removed from the phone.
		ops.push(await write(ownerPhone, ws, ops, { t: 'remove-device', device: owner.peerId }));
		const before = foldTeam(ws, ops);
		expect(before.members.get(owner.peerId)?.role).toBe('owner');
		expect(before.devices.get(ownerPhone.peerId)).toBe(owner.peerId);
		// The hostile admin.
		ops.push(await write(admin, ws, ops, { t: 'add', member: owner.peerId, role: 'guest', name: 'ex-owner' }));
		const team = foldTeam(ws, ops);
		const owners = [...team.members.values()].filter((m) => m.role === 'owner');
		expect(owners.length, 'the team has no owner left').toBe(1);
		expect(team.members.get(owner.peerId)?.role).toBe('owner');
		expect(team.members.get(team.devices.get(ownerPhone.peerId)!)?.role, "the owner's phone now acts as a guest").toBe('owner');
	});
});

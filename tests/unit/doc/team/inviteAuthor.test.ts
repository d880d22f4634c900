/**
 * An invitation dies with its author's right to make it (fold.ts `closeInvites`): the removal
 * of its author, the demotion of its author below what it invites to, or the removal of the
 * device that wrote it (whose local store keeps the link's seed) revokes it for good. Real
 * Ed25519 device keys and signed operations; the team is folded from them as every replica
 * folds it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { foldTeam } from '../../../../src/lib/doc/team/fold.js';
import type { TeamOp } from '../../../../src/lib/doc/team/ops.js';
import { admission, canonical, createWorkspace, invitation, newDevice, rng, write, type Device } from './teamKit.js';

let owner: Device, alice: Device, alicePhone: Device, bob: Device, carol: Device, dave: Device;

beforeAll(async () => {
	[owner, alice, alicePhone, bob, carol, dave] = await Promise.all([newDevice(), newDevice(), newDevice(), newDevice(), newDevice(), newDevice()]);
});

/** A workspace with `owner` and `alice` (admin); alice's multi-use link for members, which bob used. */
async function withLink(): Promise<{ ws: string; ops: TeamOp[]; link: ReturnType<typeof invitation>; linkOp: TeamOp }> {
	const { ws, create } = await createWorkspace(owner);
	const ops = [create];
	ops.push(await write(owner, ws, ops, { t: 'add', member: alice.peerId, role: 'admin', name: 'alice' }));
	const link = invitation('member', 10);
	const linkOp = await write(alice, ws, ops, link.body);
	ops.push(linkOp);
	ops.push(await admission(bob, ws, ops, link));
	return { ws, ops, link, linkOp };
}

/** Folds `ops` in several arrival orders; all must agree. */
function foldAnyOrder(ws: string, ops: TeamOp[]) {
	const team = foldTeam(ws, ops);
	const random = rng(7);
	for (let i = 0; i < 5; i++) {
		const shuffled = [...ops].sort(() => random() - 0.5);
		expect(canonical(foldTeam(ws, shuffled))).toBe(canonical(team));
	}
	return team;
}

describe("an invitation whose author lost the right to make it (found in review)", () => {
	it('a demoted admin promoted again does not bring back the links it made before its demotion', async () => {
		const { ws, ops, link } = await withLink();
		ops.push(await write(owner, ws, ops, { t: 'role', member: alice.peerId, role: 'member' }, 3_000));
		ops.push(await write(owner, ws, ops, { t: 'role', member: alice.peerId, role: 'admin' }, 4_000));
		const late = await admission(carol, ws, ops, link, 5_000);
		const team = foldAnyOrder(ws, [...ops, late]);
		expect(team.members.has(carol.peerId)).toBe(false);
		expect(team.rejected.get(late.id)).toBe('invitation revoked');
		expect(team.invites.get(link.id)?.revoked).toBe(true);
		// Bob, admitted before the demotion, stays; her links made after it work.
		expect(team.members.get(bob.peerId)?.role).toBe('member');
		const fresh = invitation('member', 2);
		const withFresh = [...ops, late, await write(alice, ws, [...ops, late], fresh.body, 6_000)];
		withFresh.push(await admission(dave, ws, withFresh, fresh, 7_000));
		expect(foldAnyOrder(ws, withFresh).members.has(dave.peerId)).toBe(true);
	});

	it('a removed admin added back does not bring back its old links', async () => {
		const { ws, ops, link } = await withLink();
		ops.push(await write(owner, ws, ops, { t: 'remove', member: alice.peerId }, 3_000));
		ops.push(await write(owner, ws, ops, { t: 'add', member: alice.peerId, role: 'admin', name: 'alice' }, 4_000));
		const late = await admission(carol, ws, ops, link, 5_000);
		const team = foldAnyOrder(ws, [...ops, late]);
		expect(team.members.get(alice.peerId)?.role).toBe('admin');
		expect(team.members.has(carol.peerId)).toBe(false);
		expect(team.invites.get(link.id)).toMatchObject({ revoked: true, used: 1, admitted: [bob.peerId] });
		expect(team.members.has(bob.peerId)).toBe(true);
	});

	it("removing the device that made a link closes it (a stolen device keeps its links' seeds); the member's other links stay open", async () => {
		const { ws, create } = await createWorkspace(owner);
		const ops = [create];
		ops.push(await write(owner, ws, ops, { t: 'add', member: alice.peerId, role: 'admin', name: 'alice' }));
		const phoneLink = invitation('member', 1, 10_000_000, alice.peerId);
		ops.push(await write(alice, ws, ops, phoneLink.body));
		ops.push(await admission(alicePhone, ws, ops, phoneLink));
		// Each of her devices makes a link; bob joins with the phone's before it is lost.
		const fromPhone = invitation('member', 10);
		const fromLaptop = invitation('member', 10);
		ops.push(await write(alicePhone, ws, ops, fromPhone.body));
		ops.push(await write(alice, ws, ops, fromLaptop.body));
		ops.push(await admission(bob, ws, ops, fromPhone));
		ops.push(await write(alice, ws, ops, { t: 'remove-device', device: alicePhone.peerId }, 3_000));
		const thief = await admission(carol, ws, ops, fromPhone, 4_000);
		const honest = await admission(dave, ws, [...ops, thief], fromLaptop, 5_000);
		const team = foldAnyOrder(ws, [...ops, thief, honest]);
		expect(team.members.has(carol.peerId)).toBe(false);
		expect(team.rejected.get(thief.id)).toBe('invitation revoked');
		expect(team.members.has(bob.peerId)).toBe(true);
		expect(team.members.has(dave.peerId)).toBe(true);
		expect(team.invites.get(fromLaptop.id)?.revoked).toBe(false);
	});

	it('an owner stepping down to admin closes its links for owners only; used-up links keep their state', async () => {
		const { ws, create } = await createWorkspace(owner);
		const ops = [create];
		ops.push(await write(owner, ws, ops, { t: 'add', member: alice.peerId, role: 'owner', name: 'alice' }));
		const forOwners = invitation('owner', 3);
		const forAdmins = invitation('admin', 3);
		const spent = invitation('owner', 1);
		for (const link of [forOwners, forAdmins, spent]) ops.push(await write(owner, ws, ops, link.body));
		ops.push(await admission(bob, ws, ops, spent));
		ops.push(await write(alice, ws, ops, { t: 'role', member: owner.peerId, role: 'admin' }, 3_000));
		const asOwner = await admission(carol, ws, ops, forOwners, 4_000);
		const asAdmin = await admission(dave, ws, [...ops, asOwner], forAdmins, 5_000);
		const team = foldAnyOrder(ws, [...ops, asOwner, asAdmin]);
		expect(team.members.has(carol.peerId)).toBe(false);
		expect(team.members.get(dave.peerId)?.role).toBe('admin');
		expect(team.invites.get(forOwners.id)?.revoked).toBe(true);
		expect(team.invites.get(spent.id)).toMatchObject({ revoked: false, used: 1 });
		expect(team.members.get(bob.peerId)?.role).toBe('owner');
	});

	it("when two admins remove each other, the dropped removal closes none of the senior one's links", async () => {
		const { ws, ops, link } = await withLink();
		ops.push(await write(owner, ws, ops, { t: 'add', member: dave.peerId, role: 'admin', name: 'dave' }));
		const davesLink = invitation('member', 10);
		ops.push(await write(dave, ws, ops, davesLink.body));
		const byAlice = await write(alice, ws, ops, { t: 'remove', member: dave.peerId }, 3_000);
		const byDave = await write(dave, ws, ops, { t: 'remove', member: alice.peerId }, 3_000);
		const all = [...ops, byAlice, byDave];
		all.push(await admission(carol, ws, all, link, 4_000));
		const team = foldAnyOrder(ws, all);
		expect(team.members.has(alice.peerId)).toBe(true);
		expect(team.members.has(dave.peerId)).toBe(false);
		expect(team.invites.get(link.id)?.revoked).toBe(false);
		expect(team.invites.get(davesLink.id)?.revoked).toBe(true);
		expect(team.members.has(carol.peerId)).toBe(true);
	});

	it('an admission concurrent with the demotion is dropped; one the demotion had seen stands', async () => {
		const { ws, ops, link, linkOp } = await withLink();
		const demotion = await write(owner, ws, ops, { t: 'role', member: alice.peerId, role: 'member' }, 3_000);
		const concurrent = await admission(carol, ws, [linkOp], link, 3_000);
		const team = foldAnyOrder(ws, [...ops, demotion, concurrent]);
		expect(team.members.has(carol.peerId)).toBe(false);
		expect(team.members.has(bob.peerId)).toBe(true);
	});
});

describe('a hostile bearer of a link (checks of rules already in place)', () => {
	it('a link admits at most its uses, however many keys race it concurrently and in whatever order they arrive', async () => {
		const { ws, create } = await createWorkspace(owner);
		const ops = [create];
		const link = invitation('member', 3);
		const linkOp = await write(owner, ws, ops, link.body);
		ops.push(linkOp);
		const keys = await Promise.all(Array.from({ length: 8 }, () => newDevice()));
		// Each admission names only the invitation (none saw another), and one key tries twice.
		const racing = await Promise.all(keys.map((k, i) => admission(k, ws, [linkOp], link, 2_000 + i)));
		racing.push(await admission(keys[0]!, ws, [linkOp], link, 3_000));
		const team = foldAnyOrder(ws, [...ops, ...racing]);
		expect(team.invites.get(link.id)?.used).toBe(3);
		expect(team.members.size).toBe(4);
	});

	it("a guest's link for a device of its own admits a guest device, whatever role the link claims", async () => {
		const { ws, create } = await createWorkspace(owner);
		const ops = [create];
		ops.push(await write(owner, ws, ops, { t: 'add', member: alice.peerId, role: 'guest', name: 'alice' }));
		const link = invitation('owner', 1, 10_000_000, alice.peerId);
		ops.push(await write(alice, ws, ops, link.body));
		ops.push(await admission(carol, ws, ops, link));
		const team = foldAnyOrder(ws, ops);
		expect(team.devices.get(carol.peerId)).toBe(alice.peerId);
		expect(team.members.get(alice.peerId)?.role).toBe('guest');
		expect(team.members.has(carol.peerId)).toBe(false);
		// A link for a new member by the guest is refused outright.
		const forOthers = invitation('guest', 5);
		const refused = await write(alice, ws, ops, forOthers.body);
		expect(foldTeam(ws, [...ops, refused]).rejected.get(refused.id)).toBe('only admins invite');
	});
});

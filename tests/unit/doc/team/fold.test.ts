/**
 * The team fold against a hostile member with a modified client: each attack from the trust
 * issue is an operation signed with the attacker's real device key, and the fold must give
 * it no effect. Plus the rules honest teams rely on (invites, devices, strong removal).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { foldTeam, type Team } from '../../../../src/lib/doc/team/fold.js';
import { MAX_DEVICES_PER_MEMBER, type TeamOp } from '../../../../src/lib/doc/team/ops.js';
import { admission, createWorkspace, invitation, newDevice, write, type Device } from './teamKit.js';

let owner: Device, alice: Device, bob: Device, carol: Device, mallory: Device;

beforeAll(async () => {
	[owner, alice, bob, carol, mallory] = await Promise.all([newDevice(), newDevice(), newDevice(), newDevice(), newDevice()]);
});

/** A workspace with `owner` (owner), `alice` (admin) and `mallory` (member). */
async function baseTeam(): Promise<{ ws: string; ops: TeamOp[] }> {
	const { ws, create } = await createWorkspace(owner);
	const ops = [create];
	ops.push(await write(owner, ws, ops, { t: 'add', member: alice.peerId, role: 'admin', name: 'alice' }));
	ops.push(await write(owner, ws, ops, { t: 'add', member: mallory.peerId, role: 'member', name: 'mallory' }));
	return { ws, ops };
}

function fold(ws: string, ops: TeamOp[]): Team {
	return foldTeam(ws, ops);
}

describe('team fold', () => {
	it('folds the creator as owner and the members added by an admin', async () => {
		const { ws, ops } = await baseTeam();
		const team = fold(ws, ops);
		expect(team.root).toBe(ops[0].id);
		expect(team.members.get(owner.peerId)?.role).toBe('owner');
		expect(team.members.get(alice.peerId)?.role).toBe('admin');
		expect(team.members.get(mallory.peerId)?.role).toBe('member');
		expect(team.rejected.size).toBe(0);
	});

	it('a member cannot make itself owner', async () => {
		const { ws, ops } = await baseTeam();
		const attack = await write(mallory, ws, ops, { t: 'role', member: mallory.peerId, role: 'owner' });
		const team = fold(ws, [...ops, attack]);
		expect(team.members.get(mallory.peerId)?.role).toBe('member');
		expect(team.rejected.get(attack.id)).toMatch(/admins/);
	});

	it('a member cannot remove the owner, and an admin cannot remove or demote the owner', async () => {
		const { ws, ops } = await baseTeam();
		const a1 = await write(mallory, ws, ops, { t: 'remove', member: owner.peerId });
		const a2 = await write(alice, ws, ops, { t: 'remove', member: owner.peerId });
		const a3 = await write(alice, ws, ops, { t: 'role', member: owner.peerId, role: 'member' });
		const team = fold(ws, [...ops, a1, a2, a3]);
		expect(team.members.get(owner.peerId)?.role).toBe('owner');
		expect(team.rejected.has(a1.id) && team.rejected.has(a2.id) && team.rejected.has(a3.id)).toBe(true);
	});

	it('a removed member cannot un-remove itself, nor act', async () => {
		const { ws, ops } = await baseTeam();
		ops.push(await write(alice, ws, ops, { t: 'remove', member: mallory.peerId }));
		const readd = await write(mallory, ws, ops, { t: 'add', member: mallory.peerId, role: 'member', name: 'm' });
		const invite = await write(mallory, ws, ops, invitation('member').body);
		const team = fold(ws, [...ops, readd, invite]);
		expect(team.members.has(mallory.peerId)).toBe(false);
		expect(team.removed.get(mallory.peerId)?.by).toBe(alice.peerId);
		expect(team.rejected.get(readd.id)).toMatch(/not a current member/);
		expect(team.invites.size).toBe(0);
	});

	it('a forged root (another create for the same id) is not the root', async () => {
		const { ws, ops } = await baseTeam();
		const forged = await write(mallory, ws, [], { t: 'create', nonce: 'x', name: 'mallory' });
		const team = fold(ws, [...ops, forged]);
		expect(team.root).toBe(ops[0].id);
		expect(team.members.get(mallory.peerId)?.role).toBe('member');
		expect(team.waiting).toContain(forged.id);
	});

	it('admits with a valid invitation, once for a single-use one', async () => {
		const { ws, ops } = await baseTeam();
		const inv = invitation('member', 1);
		ops.push(await write(alice, ws, ops, inv.body));
		const first = await admission(bob, ws, ops, inv);
		const second = await admission(carol, ws, [...ops, first], inv);
		const team = fold(ws, [...ops, first, second]);
		expect(team.members.get(bob.peerId)?.role).toBe('member');
		expect(team.members.has(carol.peerId)).toBe(false);
		expect(team.rejected.get(second.id)).toMatch(/used up/);
		expect(team.invites.get(inv.id)?.admitted).toEqual([bob.peerId]);
	});

	it('refuses expired, revoked and forged admissions', async () => {
		const { ws, ops } = await baseTeam();
		const expired = invitation('member', 5, 1_500);
		const revoked = invitation('member', 5);
		ops.push(await write(alice, ws, ops, expired.body));
		ops.push(await write(alice, ws, ops, revoked.body));
		ops.push(await write(alice, ws, ops, { t: 'revoke-invite', invite: revoked.id }));
		const late = await admission(bob, ws, ops, expired, 2_000);
		const afterRevoke = await admission(carol, ws, ops, revoked);
		// A proof made with another seed for the same invitation id.
		const forged = await admission(mallory, ws, ops, { id: revoked.id, seed: invitation('member').seed });
		const team = fold(ws, [...ops, late, afterRevoke, forged]);
		expect(team.rejected.get(late.id)).toMatch(/expired/);
		expect(team.rejected.get(afterRevoke.id)).toMatch(/revoked/);
		expect(team.members.has(bob.peerId) || team.members.has(carol.peerId)).toBe(false);
	});

	it('a member cannot invite, nor grant a role above its own', async () => {
		const { ws, ops } = await baseTeam();
		const byMember = invitation('member');
		const tooHigh = invitation('owner');
		const a1 = await write(mallory, ws, ops, byMember.body);
		const a2 = await write(alice, ws, ops, tooHigh.body);
		const team = fold(ws, [...ops, a1, a2]);
		expect(team.invites.size).toBe(0);
	});

	it('a device invitation adds a second device to the same member', async () => {
		const { ws, ops } = await baseTeam();
		const inv = invitation('member', 1, 10_000_000, mallory.peerId);
		ops.push(await write(mallory, ws, ops, inv.body));
		ops.push(await admission(bob, ws, ops, inv));
		const team = fold(ws, ops);
		expect(team.members.get(mallory.peerId)?.devices).toEqual([mallory.peerId, bob.peerId]);
		expect(team.devices.get(bob.peerId)).toBe(mallory.peerId);
		// Removing the member removes both devices.
		ops.push(await write(alice, ws, ops, { t: 'remove', member: mallory.peerId }));
		const after = fold(ws, ops);
		expect(after.devices.has(bob.peerId) || after.devices.has(mallory.peerId)).toBe(false);
	});

	it('a member has at most MAX_DEVICES_PER_MEMBER devices: past it, its invitation and admissions are refused, and removing one makes room', async () => {
		const { ws, ops } = await baseTeam();
		// Mallory, a plain member, invites devices of her own (any member may) and admits throwaway keys.
		const inv = invitation('member', 40, 10_000_000, mallory.peerId);
		ops.push(await write(mallory, ws, ops, inv.body));
		const extra = await Promise.all(Array.from({ length: MAX_DEVICES_PER_MEMBER }, () => newDevice()));
		for (const device of extra) ops.push(await admission(device, ws, ops, inv));
		const team = fold(ws, ops);
		expect(team.members.get(mallory.peerId)?.devices).toHaveLength(MAX_DEVICES_PER_MEMBER);
		const over = extra.at(-1)!;
		expect(team.devices.has(over.peerId)).toBe(false);
		expect([...team.rejected.values()]).toContain(`the member has ${MAX_DEVICES_PER_MEMBER} devices, the most one may`);
		// A new invitation for her devices is refused while she has as many as one may.
		const again = invitation('member', 1, 10_000_000, mallory.peerId);
		const againOp = await write(mallory, ws, ops, again.body);
		ops.push(againOp);
		expect(fold(ws, ops).rejected.get(againOp.id)).toBe(`the member has ${MAX_DEVICES_PER_MEMBER} devices, the most one may`);
		// She removes one she no longer uses; then the waiting key is admitted with the first invitation.
		ops.push(await write(mallory, ws, ops, { t: 'remove-device', device: extra[0]!.peerId }));
		const late = await newDevice();
		ops.push(await admission(late, ws, ops, inv));
		const after = fold(ws, ops);
		expect(after.devices.get(late.peerId)).toBe(mallory.peerId);
		expect(after.members.get(mallory.peerId)?.devices).toHaveLength(MAX_DEVICES_PER_MEMBER);
	});

	it('strong removal drops what the removed member wrote concurrently', async () => {
		const { ws, ops } = await baseTeam();
		ops.push(await write(owner, ws, ops, { t: 'role', member: mallory.peerId, role: 'admin' }));
		const base = [...ops];
		const removal = await write(owner, ws, base, { t: 'remove', member: mallory.peerId });
		// Mallory, not having seen her removal, invites an accomplice who joins.
		const inv = invitation('admin');
		const invite = await write(mallory, ws, base, inv.body);
		const joined = await admission(carol, ws, [...base, invite], inv);
		const team = fold(ws, [...base, removal, invite, joined]);
		expect(team.members.has(mallory.peerId)).toBe(false);
		expect(team.members.has(carol.peerId)).toBe(false);
		expect(team.rejected.get(invite.id)).toMatch(/removed member/);
	});

	it('a removed member cannot re-admit its device with an invitation made before its removal; one made after can', async () => {
		const { ws, ops } = await baseTeam();
		const inv = invitation('member', 10);
		ops.push(await write(alice, ws, ops, inv.body));
		ops.push(await admission(bob, ws, ops, inv));
		ops.push(await write(owner, ws, ops, { t: 'remove', member: bob.peerId }, 3_000));
		// Bob signs a new admission with the same link, having seen his removal.
		const again = await admission(bob, ws, ops, inv, 4_000);
		const team = fold(ws, [...ops, again]);
		expect(team.devices.has(bob.peerId)).toBe(false);
		expect(team.rejected.get(again.id)).toMatch(/before its removal/);
		expect(team.invites.get(inv.id)?.used).toBe(1);
		// An invitation written concurrently with the removal (not having seen it) does not either.
		const beforeRemoval = ops.slice(0, -1);
		const concurrent = invitation('member', 1);
		const concurrentOp = await write(alice, ws, beforeRemoval, concurrent.body, 3_000);
		const withConcurrent = await admission(bob, ws, [...ops, concurrentOp], concurrent, 4_000);
		expect(fold(ws, [...ops, concurrentOp, withConcurrent]).devices.has(bob.peerId)).toBe(false);
		// An admin's invitation made after the removal re-admits him; a later removal counts again.
		const fresh = invitation('member', 10);
		ops.push(await write(alice, ws, ops, fresh.body, 5_000));
		ops.push(await admission(bob, ws, ops, fresh, 6_000));
		expect(fold(ws, ops).members.get(bob.peerId)?.role).toBe('member');
		ops.push(await write(owner, ws, ops, { t: 'remove', member: bob.peerId }, 7_000));
		const third = await admission(bob, ws, ops, fresh, 8_000);
		expect(fold(ws, [...ops, third]).devices.has(bob.peerId)).toBe(false);
	});

	it('a device removed on its own cannot rejoin its member with a device invitation made before', async () => {
		const { ws, ops } = await baseTeam();
		const inv = invitation('member', 5, 10_000_000, mallory.peerId);
		ops.push(await write(mallory, ws, ops, inv.body));
		ops.push(await admission(bob, ws, ops, inv));
		ops.push(await write(alice, ws, ops, { t: 'remove-device', device: bob.peerId }, 3_000));
		const again = await admission(bob, ws, ops, inv, 4_000);
		const team = fold(ws, [...ops, again]);
		expect(team.devices.has(bob.peerId)).toBe(false);
		expect(team.members.get(mallory.peerId)?.devices).toEqual([mallory.peerId]);
	});

	it('a demoted admin cannot backdate admin acts past its demotion (found in review)', async () => {
		const { ws, ops } = await baseTeam();
		ops.push(await write(owner, ws, ops, { t: 'add', member: bob.peerId, role: 'member', name: 'bob' }));
		ops.push(await write(owner, ws, ops, { t: 'role', member: mallory.peerId, role: 'admin' }));
		const base = [...ops];
		ops.push(await write(owner, ws, ops, { t: 'role', member: mallory.peerId, role: 'member' }));
		// Mallory signs, as if she had not seen her demotion, a promotion of an accomplice and an addition.
		for (let at = 1_001; at < 1_021; at++) {
			const promote = await write(mallory, ws, base, { t: 'role', member: bob.peerId, role: 'admin' }, at);
			const add = await write(mallory, ws, base, { t: 'add', member: carol.peerId, role: 'admin', name: 'carol' }, at);
			const team = fold(ws, [...ops, promote, add]);
			expect(team.members.get(mallory.peerId)?.role).toBe('member');
			expect(team.members.get(bob.peerId)?.role).toBe('member');
			expect(team.members.has(carol.peerId)).toBe(false);
			expect(team.rejected.get(promote.id)).toMatch(/removed member|only admins/);
		}
		// What she did as an admin before the demotion stands.
		const before = await write(mallory, ws, base, { t: 'add', member: carol.peerId, role: 'member', name: 'carol' });
		const demote = await write(owner, ws, [...base, before], { t: 'role', member: mallory.peerId, role: 'member' });
		expect(fold(ws, [...base, before, demote]).members.has(carol.peerId)).toBe(true);
	});

	it("a removed or demoted admin's invitation admits no one the removal had not seen; nor does a revoked one (found in review)", async () => {
		for (const takeAway of ['remove', 'demote'] as const) {
			const { ws, ops } = await baseTeam();
			ops.push(await write(owner, ws, ops, { t: 'role', member: mallory.peerId, role: 'admin' }));
			const link = invitation('admin', 5);
			const inviteOp = await write(mallory, ws, ops, link.body);
			ops.push(inviteOp);
			const joinedBefore = await admission(bob, ws, ops, link); // seen by the owner below: stands
			ops.push(joinedBefore);
			ops.push(await write(owner, ws, ops, takeAway === 'remove' ? { t: 'remove', member: mallory.peerId } : { t: 'role', member: mallory.peerId, role: 'member' }));
			// An admission through her link that names only the invitation (as the app writes it), whatever its id.
			for (let at = 2_001; at < 2_011; at++) {
				const late = await admission(carol, ws, [inviteOp], link, at);
				const team = fold(ws, [...ops, late]);
				expect(team.members.has(carol.peerId), `${takeAway} at ${at}`).toBe(false);
				expect(team.members.has(bob.peerId)).toBe(true);
			}
		}
		const { ws, ops } = await baseTeam();
		const link = invitation('member', 1);
		const inviteOp = await write(owner, ws, ops, link.body);
		ops.push(inviteOp);
		ops.push(await write(owner, ws, ops, { t: 'revoke-invite', invite: link.id }));
		for (let at = 2_001; at < 2_011; at++) expect(fold(ws, [...ops, await admission(carol, ws, [inviteOp], link, at)]).members.has(carol.peerId)).toBe(false);
	});

	it("an invitation's id derives from its author: nobody takes an admin's invitation id with one of its own (found in review)", async () => {
		const { ws, ops } = await baseTeam();
		const base = [...ops];
		const link = invitation('admin', 3);
		const real = await write(alice, ws, ops, link.body);
		ops.push(real);
		// Mallory copies the id and the public key into a device invitation of her own, ordered first.
		const p = real.payload;
		if (p.t !== 'invite') throw new Error('an invitation');
		for (let at = 1_001; at < 1_011; at++) {
			const squat = await write(mallory, ws, base, { t: 'invite', invite: p.invite, key: p.key, role: 'member', uses: 3, expires: p.expires, member: mallory.peerId }, at);
			const team = fold(ws, [...ops, squat, await admission(carol, ws, [real], link)]);
			expect(team.rejected.get(squat.id)).toMatch(/not its author's/);
			expect(team.members.get(carol.peerId)?.role).toBe('admin');
		}
	});

	it("a removal dropped itself erases nothing of its target's (found in review)", async () => {
		const { ws, ops } = await baseTeam();
		ops.push(await write(owner, ws, ops, { t: 'role', member: mallory.peerId, role: 'admin' }));
		ops.push(await write(owner, ws, ops, { t: 'add', member: bob.peerId, role: 'admin', name: 'bob' }));
		const base = [...ops];
		ops.push(await write(bob, ws, ops, { t: 'add', member: carol.peerId, role: 'member', name: 'carol' }));
		ops.push(await write(owner, ws, ops, { t: 'remove', member: mallory.peerId }));
		// Mallory, being removed, signs a removal of bob backdated to before anything bob did.
		for (let at = 1_001; at < 1_011; at++) {
			const evil = await write(mallory, ws, base, { t: 'remove', member: bob.peerId }, at);
			const team = fold(ws, [...ops, evil]);
			expect(team.members.get(bob.peerId)?.role).toBe('admin');
			expect(team.members.has(carol.peerId), `at ${at}`).toBe(true);
			expect(team.members.has(mallory.peerId)).toBe(false);
		}
	});

	it('a junior admin cannot keep its seat by demoting the senior admin that removes it (found in review)', async () => {
		const { ws, ops } = await baseTeam();
		ops.push(await write(owner, ws, ops, { t: 'role', member: mallory.peerId, role: 'admin' }));
		const removal = await write(alice, ws, ops, { t: 'remove', member: mallory.peerId }, 5_000);
		for (let at = 5_000; at < 5_020; at++) {
			const demote = await write(mallory, ws, ops, { t: 'role', member: alice.peerId, role: 'member' }, at);
			const team = fold(ws, [...ops, removal, demote]);
			expect(team.members.has(mallory.peerId), `at ${at}`).toBe(false);
			expect(team.members.get(alice.peerId)?.role).toBe('admin');
		}
	});

	it('two admins removing each other: the senior one stays, whichever the fold meets first', async () => {
		const { ws, ops } = await baseTeam();
		ops.push(await write(owner, ws, ops, { t: 'add', member: bob.peerId, role: 'admin', name: 'bob' }));
		const seen = { juniorFirst: 0, seniorFirst: 0 };
		for (let at = 5_000; at < 5_040 && (seen.juniorFirst === 0 || seen.seniorFirst === 0); at++) {
			const aRemovesB = await write(alice, ws, ops, { t: 'remove', member: bob.peerId }, at);
			const bRemovesA = await write(bob, ws, ops, { t: 'remove', member: alice.peerId }, at);
			// Both name the same heads, so the fold orders them by id.
			if (bRemovesA.id < aRemovesB.id) seen.juniorFirst++;
			else seen.seniorFirst++;
			const team = fold(ws, [...ops, aRemovesB, bRemovesA]);
			expect(team.members.has(alice.peerId)).toBe(true); // added first: senior
			expect(team.members.has(bob.peerId)).toBe(false);
			expect(team.rejected.has(bRemovesA.id)).toBe(true);
		}
		expect(seen.juniorFirst).toBeGreaterThan(0);
		expect(seen.seniorFirst).toBeGreaterThan(0);
	});

	it('the last owner cannot step down or be removed', async () => {
		const { ws, ops } = await baseTeam();
		const stepDown = await write(owner, ws, ops, { t: 'role', member: owner.peerId, role: 'admin' });
		const leave = await write(owner, ws, ops, { t: 'remove', member: owner.peerId });
		const team = fold(ws, [...ops, stepDown, leave]);
		expect(team.members.get(owner.peerId)?.role).toBe('owner');
	});

	it('ignores operations of another workspace and waits for missing ancestors', async () => {
		const { ws, ops } = await baseTeam();
		const other = await createWorkspace(alice);
		const orphan = await write(owner, ws, [...ops, other.create], { t: 'name', name: 'x' });
		const team = fold(ws, [...ops, orphan]);
		expect(team.waiting).toContain(orphan.id);
		expect(team.members.get(owner.peerId)?.name).toBe('owner');
	});

	it('key generations: only admins rotate; members share a generation they hold', async () => {
		const { ws, ops } = await baseTeam();
		ops.push(await write(owner, ws, ops, { t: 'keys', gen: 'aaaaaaaaaaaaaaaaaaaaaaaaaa', boxes: { [owner.peerId]: 'b1', [mallory.peerId]: 'b2' } }));
		const rotateByMember = await write(mallory, ws, ops, { t: 'keys', gen: 'bbbbbbbbbbbbbbbbbbbbbbbbbb', boxes: { [mallory.peerId]: 'x' } });
		const share = await write(mallory, ws, ops, { t: 'keys', gen: 'aaaaaaaaaaaaaaaaaaaaaaaaaa', boxes: { [alice.peerId]: 'b3' } });
		const team = fold(ws, [...ops, rotateByMember, share]);
		expect(team.currentKey).toBe('aaaaaaaaaaaaaaaaaaaaaaaaaa');
		expect(team.keyGenerations.get('aaaaaaaaaaaaaaaaaaaaaaaaaa')?.boxes.get(alice.peerId)).toBe('b3');
		expect(team.rejected.get(rotateByMember.id)).toMatch(/admins/);
	});
});

/**
 * A key holder's useless box for a new device (the trust issue's "a key holder can give a new
 * device a garbage box first, which keeps it from that generation until the next rotation"):
 * with real device keys and real boxes. A generation carries its key's check, so the device
 * finds a box of another key out and does not use it; the fold lets the generation's maker or
 * a keeper (an admin, or the space's key maker) put a box in place of one a mere key holder
 * sealed, and nobody else; and the keepers' devices are told which devices to seal it to.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { devicesToBox, keyCompromised } from '../../../../src/lib/core/keyKeeper.js';
import { openSpaceKeys, spaceGenerationsToShare, spaceNeedsKey } from '../../../../src/lib/core/spaceKeys.js';
import { makesSpaceKeys, spaceKeyMaker } from '../../../../src/lib/doc/team/spaces.js';
import { foldTeam, type Team } from '../../../../src/lib/doc/team/fold.js';
import {
	KeyBoxError,
	keyCheck,
	newKeyGeneration,
	newSpaceKeyGeneration,
	newWorkspaceKey,
	openCheckedKeyBox,
	sealForDevices,
	sealKeyBox,
	spaceKeyScope
} from '../../../../src/lib/doc/team/keyBox.js';
import { decodeOp, type TeamOp } from '../../../../src/lib/doc/team/ops.js';
import { newSpaceId } from '../../../../src/lib/doc/team/teamId.js';
import { BoxRank } from '../../../../src/lib/doc/team/teamTypes.js';
import { createWorkspace, newDevice, write, type Device } from './teamKit.js';

let owner: Device, alice: Device, mallory: Device, dana: Device, bob: Device;

beforeAll(async () => {
	[owner, alice, mallory, dana, bob] = await Promise.all([newDevice(), newDevice(), newDevice(), newDevice(), newDevice()]);
});

/** `owner` (owner), `alice` (admin), `mallory` and `bob` (members); a generation sealed to them, then `dana` added. */
async function teamWithNewcomer() {
	const { ws, create } = await createWorkspace(owner);
	const ops: TeamOp[] = [create];
	ops.push(await write(owner, ws, ops, { t: 'add', member: alice.peerId, role: 'admin', name: 'alice' }));
	ops.push(await write(owner, ws, ops, { t: 'add', member: mallory.peerId, role: 'member', name: 'mallory' }));
	ops.push(await write(owner, ws, ops, { t: 'add', member: bob.peerId, role: 'member', name: 'bob' }));
	const { body, key } = newKeyGeneration(ws, [owner.peerId, alice.peerId, mallory.peerId, bob.peerId]);
	ops.push(await write(owner, ws, ops, body));
	ops.push(await write(owner, ws, ops, { t: 'add', member: dana.peerId, role: 'member', name: 'dana' }));
	return { ws, ops, gen: body.gen, key };
}

const boxOf = (team: Team, gen: string, device: Device) => team.keyGenerations.get(gen)!.boxes.get(device.peerId);

describe('key checks', () => {
	it('a box of the generation’s key opens; a box of another key (sealed right, to the right device) is refused; without a check both open', () => {
		const ws = 'w'.repeat(26);
		const gen = 'g'.repeat(26);
		const key = newWorkspaceKey();
		const other = newWorkspaceKey();
		const check = keyCheck(key, ws, gen);
		expect(check).toMatch(/^[A-Za-z0-9_-]{22}$/);
		expect(keyCheck(key, ws, 'h'.repeat(26))).not.toBe(check); // bound to the generation
		expect(keyCheck(key, spaceKeyScope(ws, 's'.repeat(26)), gen)).not.toBe(check); // and to the scope
		expect(openCheckedKeyBox(dana.key, sealKeyBox(key, dana.peerId, ws, gen), ws, gen, check)).toEqual(key);
		const forged = sealKeyBox(other, dana.peerId, ws, gen);
		expect(() => openCheckedKeyBox(dana.key, forged, ws, gen, check)).toThrow(KeyBoxError);
		expect(openCheckedKeyBox(dana.key, forged, ws, gen, undefined)).toEqual(other);
	});

	it('the first operation of a generation sets its check; a later one cannot change it; a malformed check is refused', async () => {
		const { ws, ops, gen, key } = await teamWithNewcomer();
		const check = foldTeam(ws, ops).keyGenerations.get(gen)!.check;
		expect(check).toBe(keyCheck(key, ws, gen));
		const other = newWorkspaceKey();
		ops.push(await write(mallory, ws, ops, { t: 'keys', gen, boxes: sealForDevices(other, [dana.peerId], ws, gen), check: keyCheck(other, ws, gen) }));
		expect(foldTeam(ws, ops).keyGenerations.get(gen)!.check).toBe(check);
		// The payload check every signer and every decoder runs (decodeOp) refuses it.
		await expect(write(owner, ws, ops, { t: 'keys', gen: 'x'.repeat(26), boxes: {}, check: 'not a check' })).rejects.toThrow(/bad key check/);
		const good = await write(owner, ws, ops, { t: 'keys', gen: 'x'.repeat(26), boxes: {}, check: keyCheck(key, ws, 'x'.repeat(26)) });
		expect(decodeOp(good.bytes).payload).toMatchObject({ t: 'keys', check: keyCheck(key, ws, 'x'.repeat(26)) });
	});
});

describe('box ranks', () => {
	it('a member’s box of another key for a new device is found out, and an admin’s box takes its place', async () => {
		const { ws, ops, gen, key } = await teamWithNewcomer();
		// Mallory (a member holding the key) seals some other key to Dana first.
		const forged = sealForDevices(newWorkspaceKey(), [dana.peerId], ws, gen);
		ops.push(await write(mallory, ws, ops, { t: 'keys', gen, boxes: forged }));
		let team = foldTeam(ws, ops);
		const generation = team.keyGenerations.get(gen)!;
		expect(generation.boxBy.get(dana.peerId)).toBe(BoxRank.holder);
		expect(() => openCheckedKeyBox(dana.key, boxOf(team, gen, dana)!, ws, gen, generation.check)).toThrow(KeyBoxError);
		// Bob (another member) sees Dana holds a box: he has nothing to do; Alice (an admin) and the owner (its maker) do.
		expect(devicesToBox(team, bob.peerId)).toEqual([]);
		expect(devicesToBox(team, alice.peerId)).toEqual([dana.peerId]);
		expect(devicesToBox(team, owner.peerId)).toEqual([dana.peerId]);
		// A second member's box does not take the place of the first.
		ops.push(await write(bob, ws, ops, { t: 'keys', gen, boxes: sealForDevices(key, [dana.peerId], ws, gen) }));
		expect(boxOf(foldTeam(ws, ops), gen, dana)).toBe(forged[dana.peerId]);
		// Alice's does; then no member's box replaces hers, and no keeper has anything left to do.
		ops.push(await write(alice, ws, ops, { t: 'keys', gen, boxes: sealForDevices(key, [dana.peerId], ws, gen) }));
		team = foldTeam(ws, ops);
		expect(team.keyGenerations.get(gen)!.boxBy.get(dana.peerId)).toBe(BoxRank.keeper);
		expect(openCheckedKeyBox(dana.key, boxOf(team, gen, dana)!, ws, gen, team.keyGenerations.get(gen)!.check)).toEqual(key);
		expect(devicesToBox(team, owner.peerId)).toEqual([]);
		const aliceBox = boxOf(team, gen, dana);
		ops.push(await write(mallory, ws, ops, { t: 'keys', gen, boxes: forged }));
		expect(boxOf(foldTeam(ws, ops), gen, dana)).toBe(aliceBox);
		// The maker's box outranks a keeper's (both hold the one key; this is the last a device's box can change).
		ops.push(await write(owner, ws, ops, { t: 'keys', gen, boxes: sealForDevices(key, [dana.peerId], ws, gen) }));
		team = foldTeam(ws, ops);
		expect(team.keyGenerations.get(gen)!.boxBy.get(dana.peerId)).toBe(BoxRank.maker);
		expect(boxOf(team, gen, dana)).not.toBe(aliceBox);
	});

	it('in a private space, the member who makes its keys overrules another member’s box, which the others cannot, nor make a generation', async () => {
		const { ws, create } = await createWorkspace(owner);
		const ops: TeamOp[] = [create];
		for (const [device, name] of [[alice, 'alice'], [mallory, 'mallory'], [bob, 'bob']] as const) {
			ops.push(await write(owner, ws, ops, { t: 'add', member: device.peerId, role: 'member', name }));
		}
		const { space, nonce } = newSpaceId(ws, alice.peerId);
		ops.push(await write(alice, ws, ops, { t: 'space', space, nonce, kind: 'private', members: [alice.peerId, mallory.peerId] }));
		const { body, key } = newSpaceKeyGeneration(ws, space, [alice.peerId, mallory.peerId]);
		ops.push(await write(alice, ws, ops, body));
		// Bob joins the space; Mallory boxes him another key before Alice is online.
		ops.push(await write(alice, ws, ops, { t: 'space-members', space, add: [bob.peerId], remove: [] }));
		const scope = spaceKeyScope(ws, space);
		ops.push(await write(mallory, ws, ops, { t: 'keys', gen: body.gen, boxes: sealForDevices(newWorkspaceKey(), [bob.peerId], scope, body.gen), space }));
		// Nor can Mallory make a generation of her own (sealing what she likes to the others): only Alice makes the space's keys.
		const own = await write(mallory, ws, ops, newSpaceKeyGeneration(ws, space, [alice.peerId, mallory.peerId, bob.peerId]).body);
		expect(foldTeam(ws, [...ops, own]).rejected.get(own.id)).toMatch(/key maker/);
		expect(foldTeam(ws, [...ops, own]).spaces.get(space)!.currentKey).toBe(body.gen);
		let team = foldTeam(ws, ops);
		const errors: Error[] = [];
		expect(openSpaceKeys(team, bob.key, bob.peerId, (e) => errors.push(e)).has(space)).toBe(false);
		expect(errors).toHaveLength(1);
		expect(spaceGenerationsToShare(team, team.spaces.get(space)!, mallory.peerId)).toEqual([]);
		expect(spaceGenerationsToShare(team, team.spaces.get(space)!, alice.peerId)).toEqual([{ gen: body.gen, lacking: [bob.peerId] }]);
		ops.push(await write(alice, ws, ops, { t: 'keys', gen: body.gen, boxes: sealForDevices(key, [bob.peerId], scope, body.gen), space }));
		team = foldTeam(ws, ops);
		expect(openSpaceKeys(team, bob.key, bob.peerId).get(space)?.keys.get(body.gen)).toEqual(key);
		expect(spaceGenerationsToShare(team, team.spaces.get(space)!, alice.peerId)).toEqual([]);
	});

	it('a maker demoted since outranks nobody: its box does not take an admin’s place, and an admin makes a new generation', async () => {
		const { ws, create } = await createWorkspace(owner);
		const ops: TeamOp[] = [create];
		ops.push(await write(owner, ws, ops, { t: 'add', member: alice.peerId, role: 'admin', name: 'alice' }));
		const { body, key } = newKeyGeneration(ws, [owner.peerId, alice.peerId]);
		ops.push(await write(alice, ws, ops, body)); // Alice, an admin, makes the generation
		ops.push(await write(owner, ws, ops, { t: 'add', member: dana.peerId, role: 'member', name: 'dana' }));
		ops.push(await write(owner, ws, ops, { t: 'keys', gen: body.gen, boxes: sealForDevices(key, [dana.peerId], ws, body.gen) }));
		expect(keyCompromised(foldTeam(ws, ops))).toBe(false);
		ops.push(await write(owner, ws, ops, { t: 'role', member: alice.peerId, role: 'member' }));
		const ownersBox = boxOf(foldTeam(ws, ops), body.gen, dana);
		ops.push(await write(alice, ws, ops, { t: 'keys', gen: body.gen, boxes: sealForDevices(newWorkspaceKey(), [dana.peerId], ws, body.gen) }));
		const team = foldTeam(ws, ops);
		expect(boxOf(team, body.gen, dana)).toBe(ownersBox);
		expect(openCheckedKeyBox(dana.key, ownersBox!, ws, body.gen, team.keyGenerations.get(body.gen)!.check)).toEqual(key);
		// What Alice sealed while she outranked others ends with a new generation, which the owner's key keeper makes.
		expect(keyCompromised(team)).toBe(true);
	});

	it('a space’s former key maker outranks nobody once another makes its keys, and the new key maker makes a new generation', async () => {
		// mal sorts before bo: with the creator (ann) out of the space, mal makes its keys.
		const [mal, bo] = [await newDevice(), await newDevice()].sort((a, b) => (a.peerId < b.peerId ? -1 : 1)) as [Device, Device];
		const ann = alice;
		const { ws, create } = await createWorkspace(owner);
		const ops: TeamOp[] = [create];
		for (const [d, name] of [[ann, 'ann'], [mal, 'mal'], [bo, 'bo']] as const) ops.push(await write(owner, ws, ops, { t: 'add', member: d.peerId, role: 'member', name }));
		const { space, nonce } = newSpaceId(ws, ann.peerId);
		ops.push(await write(ann, ws, ops, { t: 'space', space, nonce, kind: 'private', members: [ann.peerId, mal.peerId, bo.peerId] }));
		ops.push(await write(ann, ws, ops, newSpaceKeyGeneration(ws, space, [ann.peerId, mal.peerId, bo.peerId]).body));
		ops.push(await write(ann, ws, ops, { t: 'space-members', space, add: [], remove: [ann.peerId] }));
		const g1 = newSpaceKeyGeneration(ws, space, [mal.peerId, bo.peerId]);
		ops.push(await write(mal, ws, ops, g1.body));
		expect(spaceNeedsKey(foldTeam(ws, ops), foldTeam(ws, ops).spaces.get(space)!)).toBe(false);
		// An admin adds Ann back: she makes the space's keys again. Bo shares g1 with her; Mal boxes her another key.
		ops.push(await write(owner, ws, ops, { t: 'space-members', space, add: [ann.peerId], remove: [] }));
		const scope = spaceKeyScope(ws, space);
		ops.push(await write(bo, ws, ops, { t: 'keys', gen: g1.body.gen, space, boxes: sealForDevices(g1.key, [ann.peerId], scope, g1.body.gen) }));
		ops.push(await write(mal, ws, ops, { t: 'keys', gen: g1.body.gen, space, boxes: sealForDevices(newWorkspaceKey(), [ann.peerId], scope, g1.body.gen) }));
		const team = foldTeam(ws, ops);
		const s = team.spaces.get(space)!;
		expect(makesSpaceKeys(team, s, ann.peerId)).toBe(true);
		expect(openSpaceKeys(team, ann.key, ann.peerId).get(space)?.keys.get(g1.body.gen)).toEqual(g1.key);
		expect(spaceNeedsKey(team, s)).toBe(true); // Ann's key keeper makes the next one
	});

	it('a key maker’s generation stands when a member who would make the keys was added concurrently; that member then makes the next', async () => {
		// xia < pat < quin: once the creator (ann) is out, pat makes the keys, and xia would once added.
		const [xia, pat, quin] = (await Promise.all([newDevice(), newDevice(), newDevice()])).sort((a, b) => (a.peerId < b.peerId ? -1 : 1)) as [Device, Device, Device];
		const ann = alice;
		const { ws, create } = await createWorkspace(owner);
		const ops: TeamOp[] = [create];
		for (const [d, name] of [[ann, 'ann'], [xia, 'xia'], [pat, 'pat'], [quin, 'quin']] as const) ops.push(await write(owner, ws, ops, { t: 'add', member: d.peerId, role: 'member', name }));
		const { space, nonce } = newSpaceId(ws, ann.peerId);
		ops.push(await write(ann, ws, ops, { t: 'space', space, nonce, kind: 'private', members: [ann.peerId, pat.peerId, quin.peerId] }));
		ops.push(await write(ann, ws, ops, newSpaceKeyGeneration(ws, space, [ann.peerId, pat.peerId, quin.peerId]).body));
		ops.push(await write(ann, ws, ops, { t: 'space-members', space, add: [], remove: [ann.peerId] }));
		const g1 = newSpaceKeyGeneration(ws, space, [pat.peerId, quin.peerId]);
		const rotation = await write(pat, ws, ops, g1.body);
		// Concurrently (not having seen the rotation), the owner adds xia, ordered first (ties between concurrent operations go by id).
		let add: TeamOp | undefined;
		for (let at = 1_000; add === undefined && at < 1_400; at++) {
			const candidate = await write(owner, ws, ops, { t: 'space-members', space, add: [xia.peerId], remove: [] }, at);
			if (candidate.id < rotation.id) add = candidate;
		}
		const team = foldTeam(ws, [...ops, rotation, add!]);
		expect(team.rejected.get(rotation.id)).toBeUndefined();
		const s = team.spaces.get(space)!;
		expect(s.currentKey).toBe(g1.body.gen);
		expect(openSpaceKeys(team, quin.key, quin.peerId).get(space)?.keys.get(g1.body.gen)).toEqual(g1.key);
		expect(spaceKeyMaker(team, s)).toBe(xia.peerId);
		expect(spaceNeedsKey(team, s)).toBe(true);
		// A generation pat writes after seeing xia's addition is refused: xia makes the keys now.
		const late = await write(pat, ws, [...ops, rotation, add!], newSpaceKeyGeneration(ws, space, [pat.peerId, quin.peerId, xia.peerId]).body);
		expect(foldTeam(ws, [...ops, rotation, add!, late]).rejected.get(late.id)).toMatch(/key maker/);
	});

	it('a space whose creator lost her last device gets its keys from the next member, and from nobody else', async () => {
		const [ann, bo, cal] = [alice, ...([await newDevice(), await newDevice()].sort((a, b) => (a.peerId < b.peerId ? -1 : 1)) as [Device, Device])] as const;
		const { ws, create } = await createWorkspace(owner);
		const ops: TeamOp[] = [create];
		for (const [d, name] of [[ann, 'ann'], [bo, 'bo'], [cal, 'cal']] as const) ops.push(await write(owner, ws, ops, { t: 'add', member: d.peerId, role: 'member', name }));
		const { space, nonce } = newSpaceId(ws, ann.peerId);
		ops.push(await write(ann, ws, ops, { t: 'space', space, nonce, kind: 'private', members: [ann.peerId, bo.peerId, cal.peerId] }));
		ops.push(await write(ann, ws, ops, newSpaceKeyGeneration(ws, space, [ann.peerId, bo.peerId, cal.peerId]).body));
		// Ann's phone is lost: an admin removes it. She stays a member, in the space, with no device.
		ops.push(await write(owner, ws, ops, { t: 'remove-device', device: ann.peerId }));
		const team = foldTeam(ws, ops);
		const s = team.spaces.get(space)!;
		expect(spaceNeedsKey(team, s)).toBe(true);
		expect(spaceKeyMaker(team, s)).toBe(bo.peerId);
		const byCal = await write(cal, ws, ops, newSpaceKeyGeneration(ws, space, [bo.peerId, cal.peerId]).body);
		const byBo = await write(bo, ws, ops, newSpaceKeyGeneration(ws, space, [bo.peerId, cal.peerId]).body);
		const after = foldTeam(ws, [...ops, byCal, byBo]);
		expect(after.rejected.get(byCal.id)).toMatch(/key maker/);
		expect(after.rejected.get(byBo.id)).toBeUndefined();
		expect(spaceNeedsKey(after, after.spaces.get(space)!)).toBe(false);
	});
});

/**
 * Private spaces' own keys in the team fold, with real device keys: a member of the space makes
 * a generation sealed to the space's members' devices only, every one of them opens it and
 * nobody else can; outsiders' operations on it have no effect; a generation that reached a
 * device that left the space is flagged for a new one, made by one member.
 */
import { newSpaceId } from '../../../../src/lib/doc/team/teamId.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { openSpaceKeys, spaceDevices, spaceDevicesWithoutKey, spaceKeyCompromised, spaceNeedsKey } from '../../../../src/lib/core/spaceKeys.js';
import { makesSpaceKeys } from '../../../../src/lib/doc/team/spaces.js';
import { newId } from '../../../../src/lib/doc/ids.js';
import { foldTeam } from '../../../../src/lib/doc/team/fold.js';
import { KeyBoxError, newSpaceKeyGeneration, openKeyBox, sealForDevices, spaceKeyScope } from '../../../../src/lib/doc/team/keyBox.js';
import type { TeamOp } from '../../../../src/lib/doc/team/ops.js';
import { createWorkspace, newDevice, write, type Device } from './teamKit.js';

let owner: Device, ann: Device, bob: Device, eve: Device;

beforeAll(async () => {
	[owner, ann, bob, eve] = await Promise.all([newDevice(), newDevice(), newDevice(), newDevice()]);
});

async function teamWithSpace(): Promise<{ ws: string; ops: TeamOp[]; space: string }> {
	const { ws, create } = await createWorkspace(owner);
	const ops = [create];
	for (const [device, name] of [[ann, 'ann'], [bob, 'bob'], [eve, 'eve']] as const) {
		ops.push(await write(owner, ws, ops, { t: 'add', member: device.peerId, role: 'member', name }));
	}
	const { space, nonce } = newSpaceId(ws, ann.peerId);
	ops.push(await write(ann, ws, ops, { t: 'space', space, nonce, kind: 'private', members: [ann.peerId, bob.peerId] }));
	return { ws, ops, space };
}

describe("private spaces' own keys", () => {
	it('are sealed to the space members’ devices only, and open for each of them alone', async () => {
		const { ws, ops, space } = await teamWithSpace();
		let team = foldTeam(ws, ops);
		expect(spaceNeedsKey(team, team.spaces.get(space)!)).toBe(true);
		expect(makesSpaceKeys(team, team.spaces.get(space)!, ann.peerId)).toBe(true);
		expect(makesSpaceKeys(team, team.spaces.get(space)!, bob.peerId)).toBe(false);
		// A modified client seals it to an outsider too: that box is left out.
		const { body, key } = newSpaceKeyGeneration(ws, space, [ann.peerId, bob.peerId, eve.peerId]);
		ops.push(await write(ann, ws, ops, body));
		team = foldTeam(ws, ops);
		const s = team.spaces.get(space)!;
		expect(s.currentKey).toBe(body.gen);
		expect([...s.keyGenerations.get(body.gen)!.boxes.keys()].sort()).toEqual([ann.peerId, bob.peerId].sort());
		expect(team.currentKey).toBeUndefined(); // not a workspace generation
		expect(spaceNeedsKey(team, s)).toBe(false);
		for (const device of [ann, bob]) expect(openSpaceKeys(team, device.key, device.peerId).get(space)?.keys.get(body.gen)).toEqual(key);
		expect(openSpaceKeys(team, eve.key, eve.peerId).has(space)).toBe(false);
		// Eve's box, had it been kept, would not open as the workspace's key or another space's.
		const box = body.boxes[eve.peerId]!;
		expect(openKeyBox(eve.key, box, spaceKeyScope(ws, space), body.gen)).toEqual(key);
		expect(() => openKeyBox(eve.key, box, ws, body.gen)).toThrow(KeyBoxError);
		expect(() => openKeyBox(eve.key, box, spaceKeyScope(ws, newId()), body.gen)).toThrow(KeyBoxError);
	});

	it('an outsider can neither make a generation nor add boxes to one', async () => {
		const { ws, ops, space } = await teamWithSpace();
		const real = newSpaceKeyGeneration(ws, space, [ann.peerId, bob.peerId]);
		ops.push(await write(ann, ws, ops, real.body));
		const forged = await write(eve, ws, ops, newSpaceKeyGeneration(ws, space, [eve.peerId, ann.peerId, bob.peerId]).body);
		const share = await write(eve, ws, ops, { t: 'keys', gen: real.body.gen, space, boxes: sealForDevices(real.key, [eve.peerId], spaceKeyScope(ws, space), real.body.gen) });
		const team = foldTeam(ws, [...ops, forged, share]);
		expect(team.rejected.get(forged.id)).toMatch(/not a member of the space/);
		expect(team.rejected.get(share.id)).toMatch(/not a member of the space/);
		expect(team.spaces.get(space)!.currentKey).toBe(real.body.gen);
		expect(openSpaceKeys(team, eve.key, eve.peerId).has(space)).toBe(false);
	});

	it('a member added later lacks a box until a holder shares it; one who left makes the key due for a new generation', async () => {
		const { ws, ops, space } = await teamWithSpace();
		const first = newSpaceKeyGeneration(ws, space, [ann.peerId, bob.peerId]);
		ops.push(await write(ann, ws, ops, first.body));
		ops.push(await write(ann, ws, ops, { t: 'space-members', space, add: [eve.peerId], remove: [] }));
		let team = foldTeam(ws, ops);
		expect(spaceDevicesWithoutKey(team, team.spaces.get(space)!)).toEqual([eve.peerId]);
		// A member that does not hold the generation cannot share it (eve), one that does can (bob).
		const byEve = await write(eve, ws, ops, { t: 'keys', gen: first.body.gen, space, boxes: sealForDevices(first.key, [eve.peerId], spaceKeyScope(ws, space), first.body.gen) });
		expect(foldTeam(ws, [...ops, byEve]).rejected.get(byEve.id)).toMatch(/does not hold/);
		ops.push(await write(bob, ws, ops, { t: 'keys', gen: first.body.gen, space, boxes: sealForDevices(first.key, [eve.peerId], spaceKeyScope(ws, space), first.body.gen) }));
		team = foldTeam(ws, ops);
		expect(openSpaceKeys(team, eve.key, eve.peerId).get(space)?.keys.get(first.body.gen)).toEqual(first.key);

		// Bob leaves: the current key reached his device, so a new one is due; ann, the creator, makes it.
		ops.push(await write(bob, ws, ops, { t: 'space-members', space, add: [], remove: [bob.peerId] }));
		team = foldTeam(ws, ops);
		const s = team.spaces.get(space)!;
		expect(spaceKeyCompromised(team, s)).toBe(true);
		expect(spaceNeedsKey(team, s)).toBe(true);
		expect(spaceDevices(team, s).sort()).toEqual([ann.peerId, eve.peerId].sort());
		// When the creator itself has left, the member with the smallest id makes it.
		ops.push(await write(ann, ws, ops, { t: 'space-members', space, add: [], remove: [ann.peerId] }));
		team = foldTeam(ws, ops);
		expect(makesSpaceKeys(team, team.spaces.get(space)!, eve.peerId)).toBe(true);
	});
});

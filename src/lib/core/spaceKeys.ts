/**
 * Private spaces' own keys (the `keys` operation with `space`, fold.ts): who holds them, who
 * makes a new generation and when, and opening this device's boxes. A generation is sealed to
 * the devices of the space's members only; it is made new when the space has none yet, or when
 * the current one was sealed to a device whose member has left the space or the team (what a
 * removed device holds then opens nothing written later). Pure functions of the folded team.
 */
import { KeyBoxError, openCheckedKeyBox, spaceKeyScope } from '../doc/team/keyBox.js';
import { makesSpaceKeys, spaceKeyMaker } from '../doc/team/spaces.js';
import type { DeviceKey } from '../doc/deviceKey.js';
import { sealsTo, type Team, type TeamSpace } from '../doc/team/fold.js';

/** The current devices of the space's members. */
export function spaceDevices(team: Team, space: TeamSpace): string[] {
	return [...team.devices].filter(([, member]) => space.members.has(member)).map(([device]) => device);
}

/**
 * Whether the space's current generation was sealed to a device that is no longer one of its
 * members' devices, or was made by a device of a member that no longer makes the space's keys
 * (its boxes outranked others' while it did: the key maker's new generation ends that).
 */
export function spaceKeyCompromised(team: Team, space: TeamSpace): boolean {
	const gen = space.currentKey === undefined ? undefined : space.keyGenerations.get(space.currentKey);
	if (!gen) return false;
	const devices = new Set(spaceDevices(team, space));
	for (const device of gen.boxes.keys()) if (!devices.has(device)) return true;
	const maker = spaceKeyMaker(team, space);
	return maker !== undefined && team.devices.get(gen.maker) !== maker;
}

/** Devices of the space's members without a box of its current generation. */
export function spaceDevicesWithoutKey(team: Team, space: TeamSpace): string[] {
	const gen = space.currentKey === undefined ? undefined : space.keyGenerations.get(space.currentKey);
	if (!gen) return [];
	return spaceDevices(team, space).filter((device) => !gen.boxes.has(device));
}

/**
 * The generations of the space `device` holds a box of, each with the devices of the space's
 * members that lack one, oldest first (only those some device lacks). A member added to a space
 * gets the history, which older generations seal (on a relay outside the space too). When
 * `device`'s member makes the space's keys, devices whose box only a key holder sealed count
 * as lacking: the fold puts `device`'s box in place of one that may hold no key, or another
 * than the generation's.
 */
export function spaceGenerationsToShare(team: Team, space: TeamSpace, device: string): { gen: string; lacking: string[] }[] {
	const devices = spaceDevices(team, space);
	const keeper = makesSpaceKeys(team, space, team.devices.get(device) ?? '');
	const out: { gen: string; lacking: string[] }[] = [];
	for (const gen of [...space.keyGenerations.values()].sort((a, b) => a.seq - b.seq)) {
		if (!gen.boxes.has(device)) continue;
		const lacking = devices.filter((d) => d !== device && sealsTo(gen, d, keeper));
		if (lacking.length > 0) out.push({ gen: gen.id, lacking });
	}
	return out;
}


/** Whether the space needs a new generation: none yet, or the current one reached a device that left. */
export function spaceNeedsKey(team: Team, space: TeamSpace): boolean {
	return space.currentKey === undefined || spaceKeyCompromised(team, space);
}

/** The keys of one space this device could open, by generation, and the current generation's id. */
export interface OpenedSpaceKeys {
	current: string | undefined;
	keys: Map<string, Uint8Array>;
}

/**
 * Opens this device's boxes of every space's generations. A box that does not open (damaged,
 * or sealed to another device), or holds a key that fails the generation's check, is left out
 * and reported to `onError`.
 */
export function openSpaceKeys(team: Team, privateKey: DeviceKey, device: string, onError: (error: Error) => void = () => {}): Map<string, OpenedSpaceKeys> {
	const out = new Map<string, OpenedSpaceKeys>();
	for (const space of team.spaces.values()) {
		const keys = new Map<string, Uint8Array>();
		for (const gen of space.keyGenerations.values()) {
			const box = gen.boxes.get(device);
			if (box === undefined) continue;
			try {
				keys.set(gen.id, openCheckedKeyBox(privateKey, box, spaceKeyScope(team.workspaceId, space.id), gen.id, gen.check));
			} catch (error) {
				onError(error instanceof KeyBoxError ? error : new KeyBoxError(String(error)));
			}
		}
		if (keys.size > 0) out.set(space.id, { current: space.currentKey, keys });
	}
	return out;
}

/**
 * Keeps a workspace's gossip keys in step with its team, on every replica that holds a
 * device key (browser and relay alike):
 *
 * - after every change of the team, this device opens its boxes of every key generation;
 * - an admin rotates the key (a new generation sealed to the current devices only) when
 *   the team has none yet, or when the current one was sealed to a device that is no
 *   longer a member (a removal): what a removed device holds opens nothing sent after that;
 * - a device that holds the current key seals it to member devices that lack it (a device
 *   admitted after the rotation), after a short random wait so that members online at once
 *   rarely all write the same share; an admin also seals it to
 *   devices whose box only another key holder sealed, which the fold then replaces, so a
 *   modified client that boxes a useless key for a new device first keeps it out only until
 *   an admin is online (devicesToBox);
 * - the same for each private space this device's member is in (spaceKeys.ts): the space's
 *   key maker seals a new generation to its members' devices when it has none or one reached a
 *   device that left, and a holder shares it with members' devices that lack it.
 */
import { ROLE_RANK } from '../doc/team/ops.js';
import { KeyBoxError, newKeyGeneration, newSpaceKeyGeneration, openCheckedKeyBox, sealForDevices, spaceKeyScope } from '../doc/team/keyBox.js';
import { sealsTo, type Team } from '../doc/team/fold.js';
import { makesSpaceKeys } from '../doc/team/spaces.js';
import type { GossipKeyring } from '../mesh/keyring.js';
import type { TeamAuthority, TeamDevice } from './TeamAuthority.js';
import { spaceDevices, spaceGenerationsToShare, spaceNeedsKey } from './spaceKeys.js';

/** Options of {@link keepKeys}. */
export interface KeyKeeperInit {
	authority: TeamAuthority;
	keyring: GossipKeyring;
	device: TeamDevice;
	onError: (error: Error) => void;
	/** Longest random wait before sharing the key with a new device, in ms; default 400. */
	shareJitterMs?: number;
}

/** Whether device `device` keeps the workspace key: its member is an admin or the owner. */
function keepsWorkspaceKey(team: Team, device: string): boolean {
	const member = team.members.get(team.devices.get(device) ?? '');
	return member !== undefined && ROLE_RANK[member.role] >= ROLE_RANK.admin;
}

/**
 * Whether the current generation was sealed to a device the team no longer counts, or was made
 * by one whose member is no longer an admin or the owner (its boxes outranked others' while it
 * was one: a new generation ends what it sealed then).
 */
export function keyCompromised(team: Team): boolean {
	const gen = team.currentKey === undefined ? undefined : team.keyGenerations.get(team.currentKey);
	if (!gen) return false;
	for (const device of gen.boxes.keys()) if (!team.devices.has(device)) return true;
	return !keepsWorkspaceKey(team, gen.maker);
}

/**
 * Current member devices that device `me` seals the current generation to: those without a
 * box of it and, when `me` outranks a mere key holder (its member is an admin or the owner),
 * those whose box only a key holder sealed. That box may hold no key, or another than the
 * generation's (a modified client's), and the fold puts `me`'s in its place.
 */
export function devicesToBox(team: Team, me: string): string[] {
	const gen = team.currentKey === undefined ? undefined : team.keyGenerations.get(team.currentKey);
	if (!gen) return [];
	const keeper = keepsWorkspaceKey(team, me);
	return [...team.devices.keys()].filter((d) => d !== me && sealsTo(gen, d, keeper));
}

/** Starts keeping the keys; returns a function that stops it. */
export function keepKeys(init: KeyKeeperInit): () => void {
	const { authority, keyring, device, onError } = init;
	let stopped = false;
	let running: Promise<void> = Promise.resolve();
	let shareTimer: ReturnType<typeof setTimeout> | undefined;
	let spaceShareTimer: ReturnType<typeof setTimeout> | undefined;

	const rotate = async (): Promise<void> => {
		const team = authority.team;
		const { body } = newKeyGeneration(team.workspaceId, team.devices.keys());
		await authority.write(body);
		await keyring.update(authority.team, device.privateKey, device.peerId);
	};

	const share = async (): Promise<void> => {
		if (stopped) return;
		const lacking = devicesToBox(authority.team, device.peerId);
		if (lacking.length === 0 || keyring.currentId !== authority.team.currentKey) return;
		const body = keyring.sealCurrentTo(lacking);
		if (body) await authority.write(body);
	};

	/**
	 * Spaces of this device's member with a generation it holds that some member device lacks
	 * (the current one, and older ones: a member added later gets the history they seal).
	 */
	const spacesToShare = (team: Team) => {
		const mine = team.devices.get(device.peerId);
		return [...team.spaces.values()].filter(
			(space) => mine !== undefined && space.members.has(mine) && !spaceNeedsKey(team, space) && spaceGenerationsToShare(team, space, device.peerId).length > 0
		);
	};

	const shareSpaces = async (): Promise<void> => {
		for (const space of spacesToShare(authority.team)) {
			for (const { gen, lacking } of spaceGenerationsToShare(authority.team, space, device.peerId)) {
				if (stopped) return;
				const generation = space.keyGenerations.get(gen);
				const box = generation?.boxes.get(device.peerId);
				if (box === undefined) continue;
				const scope = spaceKeyScope(authority.team.workspaceId, space.id);
				let key: Uint8Array;
				try {
					key = openCheckedKeyBox(device.privateKey, box, scope, gen, generation?.check);
				} catch (error) {
					if (error instanceof KeyBoxError) continue; // this device holds no key of it to give (openSpaceKeys reports it)
					throw error;
				}
				await authority.write({ t: 'keys', gen, boxes: sealForDevices(key, lacking, scope, gen), space: space.id });
			}
		}
	};

	const keepSpaces = async (team: Team): Promise<void> => {
		const mine = team.devices.get(device.peerId);
		if (mine === undefined) return;
		for (const space of team.spaces.values()) {
			if (stopped) return;
			if (spaceNeedsKey(team, space) && makesSpaceKeys(team, space, mine)) {
				await authority.write(newSpaceKeyGeneration(team.workspaceId, space.id, spaceDevices(team, space)).body);
			}
		}
		if (spacesToShare(authority.team).length > 0 && spaceShareTimer === undefined) {
			spaceShareTimer = setTimeout(() => {
				spaceShareTimer = undefined;
				running = running.then(shareSpaces).catch((error: unknown) => onError(asError(error)));
			}, Math.random() * (init.shareJitterMs ?? 400));
		}
	};

	const step = async (): Promise<void> => {
		if (stopped) return;
		await keyring.update(authority.team, device.privateKey, device.peerId);
		const team = authority.team;
		if (!team.devices.has(device.peerId)) return;
		await keepSpaces(team);
		if (keepsWorkspaceKey(team, device.peerId) && (team.currentKey === undefined || keyCompromised(team))) {
			await rotate();
			return;
		}
		if (devicesToBox(team, device.peerId).length > 0 && keyring.currentId === team.currentKey && shareTimer === undefined) {
			shareTimer = setTimeout(() => {
				shareTimer = undefined;
				running = running.then(share).catch((error: unknown) => onError(asError(error)));
			}, Math.random() * (init.shareJitterMs ?? 400));
		}
	};

	const schedule = () => {
		running = running.then(step).catch((error: unknown) => onError(asError(error)));
	};
	const off = authority.onChange(schedule);
	schedule();
	return () => {
		stopped = true;
		clearTimeout(shareTimer);
		clearTimeout(spaceShareTimer);
		off();
	};
}

function asError(error: unknown): Error {
	return error instanceof Error ? error : new Error(String(error));
}

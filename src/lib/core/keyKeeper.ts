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
 *   rarely all write the same share.
 */
import { ROLE_RANK } from '../doc/team/ops.js';
import { newKeyGeneration } from '../doc/team/keyBox.js';
import type { Team } from '../doc/team/fold.js';
import type { GossipKeyring } from '../mesh/keyring.js';
import type { TeamAuthority, TeamDevice } from './TeamAuthority.js';

/** Options of {@link keepKeys}. */
export interface KeyKeeperInit {
	authority: TeamAuthority;
	keyring: GossipKeyring;
	device: TeamDevice;
	onError: (error: Error) => void;
	/** Longest random wait before sharing the key with a new device, in ms; default 400. */
	shareJitterMs?: number;
}

/** Whether the current generation was sealed to a device the team no longer counts. */
export function keyCompromised(team: Team): boolean {
	const gen = team.currentKey === undefined ? undefined : team.keyGenerations.get(team.currentKey);
	if (!gen) return false;
	for (const device of gen.boxes.keys()) if (!team.devices.has(device)) return true;
	return false;
}

/** Current member devices without a box of the current generation. */
export function devicesWithoutKey(team: Team): string[] {
	const gen = team.currentKey === undefined ? undefined : team.keyGenerations.get(team.currentKey);
	if (!gen) return [];
	return [...team.devices.keys()].filter((d) => !gen.boxes.has(d));
}

/** Starts keeping the keys; returns a function that stops it. */
export function keepKeys(init: KeyKeeperInit): () => void {
	const { authority, keyring, device, onError } = init;
	let stopped = false;
	let running: Promise<void> = Promise.resolve();
	let shareTimer: ReturnType<typeof setTimeout> | undefined;

	const isAdmin = (team: Team) => {
		const member = team.members.get(team.devices.get(device.peerId) ?? '');
		return member !== undefined && ROLE_RANK[member.role] >= ROLE_RANK.admin;
	};

	const rotate = async (): Promise<void> => {
		const team = authority.team;
		const { body } = newKeyGeneration(team.workspaceId, team.devices.keys());
		await authority.write(body);
		await keyring.update(authority.team, device.privateKey, device.peerId);
	};

	const share = async (): Promise<void> => {
		if (stopped) return;
		const lacking = devicesWithoutKey(authority.team);
		if (lacking.length === 0 || keyring.currentId !== authority.team.currentKey) return;
		const body = keyring.sealCurrentTo(lacking);
		if (body) await authority.write(body);
	};

	const step = async (): Promise<void> => {
		if (stopped) return;
		await keyring.update(authority.team, device.privateKey, device.peerId);
		const team = authority.team;
		if (!team.devices.has(device.peerId)) return;
		if (isAdmin(team) && (team.currentKey === undefined || keyCompromised(team))) {
			await rotate();
			return;
		}
		if (devicesWithoutKey(team).length > 0 && keyring.currentId === team.currentKey && shareTimer === undefined) {
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
		off();
	};
}

function asError(error: unknown): Error {
	return error instanceof Error ? error : new Error(String(error));
}

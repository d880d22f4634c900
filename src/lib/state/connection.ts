/**
 * What the mesh looks like to the UI, as pure functions: the "Connection" element's state
 * for a workspace, and a remote presence (awareness) state read defensively.
 */
import { WorkspaceSyncState, type WorkspaceStatus } from '../mesh/workspaceStatus.js';

/** What the "Connection" status element shows for a workspace. */
export const ConnectionState = {
	/** The mesh has not started yet (first moments after opening). */
	starting: 'starting',
	/** Neither a relay nor another member's device reachable: changes wait on this device. */
	offline: 'offline',
	/** Catching up with a peer (a member's device or a relay's archive). */
	syncing: 'syncing',
	/** A relay is reachable, but no other member's device is in sync with this one. */
	connected: 'connected',
	/** In sync with at least one other member's device. */
	online: 'online'
} as const;
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

/** The "Connection" element's content for one workspace. */
export interface ConnectionInfo {
	state: ConnectionState;
	/** Other members' devices in sync with this one; relays (and their archives) are not counted. */
	peers: number;
	/** Catch-up progress in [0, 1], while syncing with a known amount. */
	progress?: number;
	/** Of `peers`, those reached only through a relay (slower; no link if the relay goes). */
	relayed?: number;
	/** Whether a relay's archive of this workspace is in sync with this device too. */
	archived?: boolean;
}

/** What this device knows of the relays it keeps connected, for {@link connectionInfo}. */
export interface RelayLinks {
	/** Whether a connection to at least one relay is open. */
	reachable: boolean;
	/** Whether `peerId` is one of those relays (a relay that archives a workspace syncs as a member). */
	isRelay(peerId: string): boolean;
}

const NO_RELAYS: RelayLinks = { reachable: false, isRelay: () => false };

/** Someone else present in a workspace. */
export interface Presence {
	peerId: string;
	name: string;
	/** The channel they are looking at. */
	channelId?: string;
	/** The channel they are typing in. */
	typingIn?: string;
}

/**
 * The "Connection" element's content: `starting` until the mesh runs (offline if it could
 * not start), `syncing` with progress while a session catches up, `online` with the number
 * of other members' devices in sync, `connected` when only a relay is reachable (its archive
 * of the workspace may be in sync, but nobody else is online), else `offline`.
 */
export function connectionInfo(started: boolean, failed: boolean, status: WorkspaceStatus | undefined, relays: RelayLinks = NO_RELAYS): ConnectionInfo {
	if (!started) return { state: failed ? ConnectionState.offline : ConnectionState.starting, peers: 0 };
	const live = status?.livePeerIds ?? [];
	const peers = live.filter((id) => !relays.isRelay(id)).length;
	if (status?.state === WorkspaceSyncState.syncing) {
		const progress = status.total > 0 ? (status.total - status.pending) / status.total : undefined;
		return { state: ConnectionState.syncing, peers, ...(progress !== undefined ? { progress } : {}) };
	}
	const archived = peers < live.length;
	const also = archived ? { archived } : {};
	// A relay is never reached through another relay: the relayed peers are all members' devices.
	const relayed = status?.relayedPeers ?? 0;
	if (peers > 0) return { state: ConnectionState.online, peers, ...(relayed > 0 ? { relayed } : {}), ...also };
	if (relays.reachable || archived) return { state: ConnectionState.connected, peers: 0, ...also };
	return { state: ConnectionState.offline, peers: 0 };
}

/** Reads a remote awareness state defensively (anyone in the workspace can write it). */
export function readPresence(state: unknown): Presence | undefined {
	if (typeof state !== 'object' || state === null) return undefined;
	const { peer, name, channel, typing } = state as Record<string, unknown>;
	if (typeof peer !== 'string' || peer.length > 100) return undefined;
	return {
		peerId: peer,
		name: typeof name === 'string' ? name.slice(0, 80) : '',
		...(typeof channel === 'string' && channel.length <= 64 ? { channelId: channel } : {}),
		...(typeof typing === 'string' && typing.length <= 64 ? { typingIn: typing } : {})
	};
}

/**
 * Who is present, from a workspace's awareness `states` (client id → state): one entry per
 * member device, a tab's state counted as its device's (`deviceOf`: the device a peer is or is
 * a tab of, undefined for anyone else), leaving out this tab (`ownClientId`) and this device
 * (`me`, its other tabs). A state naming a peer that is no member device nor a tab of one is
 * left out, and an entry is named by the roster, never by the state's own `name` (found in
 * review: a guest's tab naming itself "owner" showed to others as the owner, typing).
 */
export function presentPeople(states: ReadonlyMap<number, unknown>, ownClientId: number, me: string, deviceOf: (peerId: string) => string | undefined): Presence[] {
	const byDevice = new Map<string, Presence>();
	for (const [clientId, state] of states) {
		if (clientId === ownClientId) continue;
		const presence = readPresence(state);
		const device = presence && deviceOf(presence.peerId);
		if (!presence || device === undefined || device === me) continue;
		const seen = byDevice.get(device);
		byDevice.set(device, seen ? { ...seen, typingIn: seen.typingIn ?? presence.typingIn } : { ...presence, peerId: device });
	}
	return [...byDevice.values()];
}

/**
 * What the mesh looks like to the UI, as pure functions: the "Connection" element's state
 * for a workspace, and a remote presence (awareness) state read defensively.
 */
import { WorkspaceSyncState, type WorkspaceStatus } from '../mesh/workspaceStatus.js';

/** What the "Connection" status element shows for a workspace. */
export const ConnectionState = {
	/** The mesh has not started yet (first moments after opening). */
	starting: 'starting',
	/** No peer of this workspace (and no relay) reachable. */
	offline: 'offline',
	/** Catching up with a peer. */
	syncing: 'syncing',
	/** Connected and in sync with at least one peer (or the relay). */
	online: 'online'
} as const;
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

/** The "Connection" element's content for one workspace. */
export interface ConnectionInfo {
	state: ConnectionState;
	/** Member peers in sync with this device (the relay's archive counts as one). */
	peers: number;
	/** Catch-up progress in [0, 1], while syncing with a known amount. */
	progress?: number;
	/** Of `peers`, those reached only through a relay (slower; no link if the relay goes). */
	relayed?: number;
}

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
 * of member peers in sync, else `offline`.
 */
export function connectionInfo(started: boolean, failed: boolean, status: WorkspaceStatus | undefined): ConnectionInfo {
	if (!started) return { state: failed ? ConnectionState.offline : ConnectionState.starting, peers: 0 };
	const peers = status?.livePeers ?? 0;
	if (status?.state === WorkspaceSyncState.syncing) {
		const progress = status.total > 0 ? (status.total - status.pending) / status.total : undefined;
		return { state: ConnectionState.syncing, peers, ...(progress !== undefined ? { progress } : {}) };
	}
	const relayed = status?.relayedPeers ?? 0;
	if (peers > 0) return { state: ConnectionState.online, peers, ...(relayed > 0 ? { relayed } : {}) };
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

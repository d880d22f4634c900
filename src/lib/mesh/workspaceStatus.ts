/**
 * The sync state of one workspace on this peer, summed over its running sessions, for the
 * "Connection" status element: whether it is catching up (with progress), live with at
 * least one member peer, or idle (no session; gossip may still bring updates).
 */
import type { SyncSession } from './SyncSession.js';
import { SessionState } from './sessionState.js';

/** States of a workspace, from the sessions it runs. */
export const WorkspaceSyncState = { idle: 'idle', syncing: 'syncing', live: 'live' } as const;

/** One of {@link WorkspaceSyncState}'s values. */
export type WorkspaceSyncState = (typeof WorkspaceSyncState)[keyof typeof WorkspaceSyncState];

/** A workspace's sync state and catch-up progress. */
export interface WorkspaceStatus {
	workspaceId: string;
	/**
	 * `syncing` while a session still waits for documents (or no session is live yet and one
	 * is proving membership or comparing digests), `live` when at least one member peer is
	 * synced, `idle` with no session.
	 */
	state: WorkspaceSyncState;
	/** Documents asked for and not received yet, over all catching-up sessions. */
	pending: number;
	/** Documents asked for by those sessions. */
	total: number;
	/** Member peers with a synced (live) session. */
	livePeers: number;
	/**
	 * Their peer ids, sorted: a relay archiving the workspace is a member too, and the UI
	 * tells it apart from other members' devices by id.
	 */
	livePeerIds: string[];
	/** Of those, the ones reached only through a relay (a limited, relayed connection). */
	relayedPeers: number;
}

/** Sums the sessions of a workspace into its {@link WorkspaceStatus}. */
export function summarize(workspaceId: string, sessions: Array<{ session: SyncSession; peerId: string; limited?: boolean }>): WorkspaceStatus {
	let pending = 0;
	let total = 0;
	let starting = false;
	const live = new Set<string>();
	const direct = new Set<string>();
	for (const { session, peerId, limited } of sessions) {
		if (session.state === SessionState.live) {
			live.add(peerId);
			if (limited !== true) direct.add(peerId);
		}
		else if (session.state === SessionState.syncing || session.state === SessionState.membership) {
			const progress = session.progress;
			if (progress.pending > 0) {
				pending += progress.pending;
				total += progress.total;
			} else starting = true;
		}
	}
	const state =
		pending > 0 ? WorkspaceSyncState.syncing : live.size > 0 ? WorkspaceSyncState.live : starting ? WorkspaceSyncState.syncing : WorkspaceSyncState.idle;
	return { workspaceId, state, pending, total, livePeers: live.size, livePeerIds: [...live].sort(), relayedPeers: live.size - direct.size };
}

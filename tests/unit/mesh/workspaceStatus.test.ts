/** Summing a workspace's sessions for the "Connection" status: live peers, and those reached only through a relay. */
import { describe, expect, it } from 'vitest';
import { SessionState, type SyncSession } from '../../../src/lib/mesh/SyncSession.js';
import { summarize } from '../../../src/lib/mesh/workspaceStatus.js';

/** The two fields summarize reads of a session. */
const session = (state: SessionState, pending = 0, total = 0) => ({ state, progress: { pending, total } }) as unknown as SyncSession;

describe('summarize', () => {
	it('counts a peer as relayed only when none of its live sessions is direct', () => {
		const status = summarize('w', [
			{ session: session(SessionState.live), peerId: 'relay', limited: false },
			{ session: session(SessionState.live), peerId: 'bea', limited: true },
			{ session: session(SessionState.live), peerId: 'cy', limited: true },
			{ session: session(SessionState.live), peerId: 'cy', limited: false },
			{ session: session(SessionState.syncing, 3, 4), peerId: 'dee', limited: true }
		]);
		expect(status).toEqual({ workspaceId: 'w', state: 'syncing', pending: 3, total: 4, livePeers: 3, livePeerIds: ['bea', 'cy', 'relay'], relayedPeers: 1 });
	});
});

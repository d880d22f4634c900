/** The "Connection" element's states and reading remote presence defensively. */
import { describe, expect, it } from 'vitest';
import { ConnectionState, connectionInfo, readPresence } from '../../../src/lib/state/connection';
import { WorkspaceSyncState } from '../../../src/lib/mesh/workspaceStatus';

const status = (state: WorkspaceSyncState, livePeers: number, pending = 0, total = 0, relayedPeers = 0) => ({ workspaceId: 'w', state, livePeers, pending, total, relayedPeers });

describe('connectionInfo', () => {
	it('says starting until the mesh runs, and offline when it could not start', () => {
		expect(connectionInfo(false, false, undefined)).toEqual({ state: ConnectionState.starting, peers: 0 });
		expect(connectionInfo(false, true, undefined)).toEqual({ state: ConnectionState.offline, peers: 0 });
	});

	it('is offline with no peer in sync, online with the number of live peers', () => {
		expect(connectionInfo(true, false, undefined).state).toBe(ConnectionState.offline);
		expect(connectionInfo(true, false, status(WorkspaceSyncState.idle, 0)).state).toBe(ConnectionState.offline);
		expect(connectionInfo(true, false, status(WorkspaceSyncState.live, 3))).toEqual({ state: ConnectionState.online, peers: 3 });
	});

	it('says how many of the live peers are reached only through a relay', () => {
		expect(connectionInfo(true, false, status(WorkspaceSyncState.live, 2, 0, 0, 1))).toEqual({ state: ConnectionState.online, peers: 2, relayed: 1 });
		expect(connectionInfo(true, false, status(WorkspaceSyncState.live, 2, 0, 0, 0))).toEqual({ state: ConnectionState.online, peers: 2 });
	});

	it('reports catch-up progress while syncing, and none before the amount is known', () => {
		expect(connectionInfo(true, false, status(WorkspaceSyncState.syncing, 1, 30, 120))).toEqual({
			state: ConnectionState.syncing,
			peers: 1,
			progress: 0.75
		});
		expect(connectionInfo(true, false, status(WorkspaceSyncState.syncing, 0))).toEqual({ state: ConnectionState.syncing, peers: 0 });
	});
});

describe('readPresence', () => {
	it('reads a well-formed state', () => {
		expect(readPresence({ peer: 'p1', name: 'Ada', channel: 'c1', typing: 'c1' })).toEqual({
			peerId: 'p1',
			name: 'Ada',
			channelId: 'c1',
			typingIn: 'c1'
		});
	});

	it('refuses or trims what another member could send to break the UI', () => {
		for (const bad of [null, 7, 'x', {}, { peer: 3 }, { peer: 'x'.repeat(101) }]) expect(readPresence(bad)).toBeUndefined();
		const odd = readPresence({ peer: 'p', name: 'n'.repeat(500), channel: { x: 1 }, typing: 'c'.repeat(65) });
		expect(odd).toEqual({ peerId: 'p', name: 'n'.repeat(80) });
	});
});

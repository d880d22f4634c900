/** The "Connection" element's states and reading remote presence defensively. */
import { describe, expect, it } from 'vitest';
import { ConnectionState, connectionInfo, presentPeople, readPresence } from '../../../src/lib/state/connection';
import { WorkspaceSyncState } from '../../../src/lib/mesh/workspaceStatus';

/** A workspace status with these live peers (ids), of which `relayedPeers` are reached through a relay. */
const status = (state: WorkspaceSyncState, livePeerIds: string[], pending = 0, total = 0, relayedPeers = 0) => ({
	workspaceId: 'w',
	state,
	livePeers: livePeerIds.length,
	livePeerIds,
	pending,
	total,
	relayedPeers
});
/** Relays this device keeps: `relay` is one, connected or not. */
const relayUp = { reachable: true, isRelay: (id: string) => id === 'relay' };
const relayDown = { reachable: false, isRelay: (id: string) => id === 'relay' };

describe('connectionInfo', () => {
	it('says starting until the mesh runs, and offline when it could not start', () => {
		expect(connectionInfo(false, false, undefined)).toEqual({ state: ConnectionState.starting, peers: 0 });
		expect(connectionInfo(false, true, undefined)).toEqual({ state: ConnectionState.offline, peers: 0 });
		expect(connectionInfo(false, false, undefined, relayUp)).toEqual({ state: ConnectionState.starting, peers: 0 });
	});

	it('is offline with neither a relay nor a member device reachable', () => {
		expect(connectionInfo(true, false, undefined)).toEqual({ state: ConnectionState.offline, peers: 0 });
		expect(connectionInfo(true, false, status(WorkspaceSyncState.idle, []), relayDown)).toEqual({ state: ConnectionState.offline, peers: 0 });
	});

	it('is connected, not offline, when a relay is reachable and nobody else is online', () => {
		expect(connectionInfo(true, false, undefined, relayUp)).toEqual({ state: ConnectionState.connected, peers: 0 });
		expect(connectionInfo(true, false, status(WorkspaceSyncState.idle, []), relayUp)).toEqual({ state: ConnectionState.connected, peers: 0 });
	});

	it('does not count a relay archiving the workspace as a peer, and says its copy is in sync', () => {
		expect(connectionInfo(true, false, status(WorkspaceSyncState.live, ['relay']), relayUp)).toEqual({
			state: ConnectionState.connected,
			peers: 0,
			archived: true
		});
		// A live session with the relay's archive means the relay is reachable, whatever the link count says.
		expect(connectionInfo(true, false, status(WorkspaceSyncState.live, ['relay']), relayDown).state).toBe(ConnectionState.connected);
	});

	it('is online with the number of other members\' devices in sync', () => {
		expect(connectionInfo(true, false, status(WorkspaceSyncState.live, ['ada', 'bea', 'cy']))).toEqual({ state: ConnectionState.online, peers: 3 });
		expect(connectionInfo(true, false, status(WorkspaceSyncState.live, ['bea', 'cy']), relayDown)).toEqual({ state: ConnectionState.online, peers: 2 });
		expect(connectionInfo(true, false, status(WorkspaceSyncState.live, ['bea', 'relay']), relayUp)).toEqual({
			state: ConnectionState.online,
			peers: 1,
			archived: true
		});
	});

	it('says how many of the member devices are reached only through a relay', () => {
		expect(connectionInfo(true, false, status(WorkspaceSyncState.live, ['bea', 'cy'], 0, 0, 1), relayUp)).toEqual({ state: ConnectionState.online, peers: 2, relayed: 1 });
		expect(connectionInfo(true, false, status(WorkspaceSyncState.live, ['bea', 'cy', 'relay'], 0, 0, 1), relayUp)).toEqual({
			state: ConnectionState.online,
			peers: 2,
			relayed: 1,
			archived: true
		});
		expect(connectionInfo(true, false, status(WorkspaceSyncState.live, ['bea', 'cy'], 0, 0, 0), relayUp)).toEqual({ state: ConnectionState.online, peers: 2 });
	});

	it('reports catch-up progress while syncing, and none before the amount is known', () => {
		expect(connectionInfo(true, false, status(WorkspaceSyncState.syncing, ['bea'], 30, 120), relayUp)).toEqual({
			state: ConnectionState.syncing,
			peers: 1,
			progress: 0.75
		});
		expect(connectionInfo(true, false, status(WorkspaceSyncState.syncing, []), relayUp)).toEqual({ state: ConnectionState.syncing, peers: 0 });
		// Catching up with the relay's archive alone: no member device counted.
		expect(connectionInfo(true, false, status(WorkspaceSyncState.syncing, ['relay'], 1, 4), relayUp)).toEqual({
			state: ConnectionState.syncing,
			peers: 0,
			progress: 0.75
		});
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

describe('presentPeople', () => {
	const devices: Record<string, string> = { ann: 'ann', 'ann-tab': 'ann', bob: 'bob', 'bob-tab': 'bob', me: 'me', 'me-tab': 'me' };
	const deviceOf = (peerId: string) => devices[peerId];

	it('shows each member device once, a tab as its device, never this device, and by no name of its own choosing', () => {
		const states = new Map<number, unknown>([
			[1, { peer: 'me', name: 'Me' }], // this tab
			[2, { peer: 'me-tab', name: 'Me, elsewhere' }], // this device's other tab
			[3, { peer: 'ann', name: 'Ann', channel: 'c1' }],
			[4, { peer: 'ann-tab', name: 'owner', typing: 'c1' }], // Ann's tab, naming itself
			[5, { peer: 'stranger', name: 'owner', typing: 'c1' }], // no member device nor tab
			[6, { peer: 'bob-tab', name: 'owner', typing: 'c2' }],
			[7, { name: 'no peer' }]
		]);
		expect(presentPeople(states, 1, 'me', deviceOf)).toEqual([
			{ peerId: 'ann', name: 'Ann', channelId: 'c1', typingIn: 'c1' },
			{ peerId: 'bob', name: 'owner', typingIn: 'c2' }
		]);
	});
});

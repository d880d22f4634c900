/**
 * The huddle bar lists who awareness says is in a channel's huddle, less anyone the team keeps
 * out of the channel (found in review: a member removed from a private channel who kept listing
 * herself in its huddle still showed there, though she got no audio).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { Awareness } from 'y-protocols/awareness';
import type { HuddleSignalling } from '../../../src/lib/huddle/HuddleSignalling.js';
import { HuddleState } from '../../../src/lib/state/HuddleState.svelte.js';

const saved = (globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection;

beforeAll(() => {
	// HuddleState takes a signalling service only where the browser has WebRTC.
	(globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection = class {};
});

afterAll(() => {
	(globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection = saved;
});

/** Another device's awareness state, as it arrives. */
function publish(into: Awareness, peer: string, channel: string): void {
	const other = new Awareness(new Y.Doc());
	other.setLocalState({ peer, huddle: { channel, muted: false } });
	into.getStates().set(other.clientID, other.getLocalState()!);
	into.meta.set(other.clientID, { clock: 1, lastUpdated: Date.now() });
	other.destroy();
}

describe('HuddleState.people', () => {
	it('lists the people awareness names in the huddle, less those the team keeps out of the channel', async () => {
		const awareness = new Awareness(new Y.Doc());
		const state = new HuddleState({ me: 'me', awareness: () => awareness });
		// The team rule: `gone` was taken out of the private channel.
		const signalling = { setHandler: () => {}, allows: (_ws: string, _ch: string, peer: string) => peer !== 'gone' };
		await state.attach(signalling as unknown as HuddleSignalling); // only what HuddleState and CallMesh's constructor use
		publish(awareness, 'ada', 'ch');
		publish(awareness, 'gone', 'ch');
		publish(awareness, 'bea', 'other');
		expect(state.people('ws', 'ch').map((p) => p.peerId)).toEqual(['ada']);
	});
});

/**
 * The huddle JOIN rate (joinBucket.ts) counts a member device's tabs as that device. Found in
 * review: the bucket was per peer id, and a tab's peer id is a throwaway key its device
 * delegates to at will, so a modified client calling from fresh tab keys had a full burst of
 * calls taken for each (every one a new peer connection on the other side), and past 256 keys
 * pushed its own spent buckets out of the table. Real libp2p nodes and tabs with their
 * device's delegation, the team's rule as app.ts wires it.
 */
import '../../src/lib/mesh/polyfills.node.js';
import { peerIdFromString } from '@libp2p/peer-id';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeHuddleMessage, HuddleMessageType, HUDDLE_PROTOCOL_ID, MAX_SIGNAL_FRAME_BYTES } from '../../src/lib/huddle/huddleMessages.js';
import { HuddleSignalling } from '../../src/lib/huddle/HuddleSignalling.js';
import { JOIN_BURST } from '../../src/lib/huddle/joinBucket.js';
import { huddleDevice, mayHuddle } from '../../src/lib/huddle/huddleRule.js';
import { frameStream } from '../../src/lib/mesh/frameStream.js';
import { waitFor } from './helpers.js';
import { connect, stopPeers } from './peers.js';
import { listedDoc, startTeamPeer, stopTeamPeers, teamOfThree, type TeamPeer } from './teamPeers.js';

const services: HuddleSignalling[] = [];

afterEach(async () => {
	for (const s of services.splice(0)) await s.stop().catch(() => undefined);
	await stopTeamPeers();
	await stopPeers();
});

/** A modified client's JOIN from `from` to `to`: whether it was accepted. */
async function join(from: TeamPeer, to: TeamPeer, workspaceId: string, channelId: string): Promise<boolean> {
	const stream = await from.node.dialProtocol(peerIdFromString(to.peerId), HUDDLE_PROTOCOL_ID);
	const frames = frameStream(stream, { maxFrameBytes: MAX_SIGNAL_FRAME_BYTES });
	await frames.write(encodeHuddleMessage({ type: HuddleMessageType.join, workspaceId, channelId }));
	return (await frames.read())?.[0] === HuddleMessageType.accept;
}

describe('the huddle JOIN rate', () => {
	it("counts a member's tabs as its device: fresh tab keys get no fresh burst", async () => {
		const { ws, owner, bob } = await teamOfThree();
		const channel = listedDoc(owner, ws.id);
		const workspace = { authority: owner.authority, docs: owner.docs };
		// The owner's signalling as app.ts starts it; its side of the huddle takes every call.
		const signalling = new HuddleSignalling({
			node: owner.node,
			mayJoin: (id, channelId, peerId) => id === ws.id && mayHuddle(workspace, channelId, peerId),
			deviceOf: (id, peerId) => (id === ws.id ? huddleDevice(workspace, peerId) : undefined)
		});
		services.push(signalling);
		await signalling.start();
		let taken = 0;
		signalling.setHandler(() => ++taken > 0);

		const tabs: TeamPeer[] = [];
		for (let i = 0; i < 3; i++) {
			const tab = await startTeamPeer(ws, bob.key, `bob-tab-${i}`, [], true);
			await connect(tab, owner);
			await waitFor(() => tab.docs.isListed(channel), `tab ${i} admitted and given the channel`);
			tabs.push(tab);
		}
		for (const tab of tabs) for (let i = 0; i < JOIN_BURST; i++) await join(tab, owner, ws.id, channel);
		expect(taken).toBe(JOIN_BURST);
	}, 60_000);
});

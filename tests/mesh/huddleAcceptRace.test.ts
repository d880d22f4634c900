/**
 * Found in review. The opener checked the team's rule once, before it dials (HuddleSignalling.call), and tracks
 * the call only once the peer has answered ACCEPT. A team change meanwhile runs revisit(),
 * which ends only tracked calls: a peer removed (from the workspace, or the private channel)
 * while its ACCEPT is outstanding (it may hold it up to 10 s) still gets a live call, and
 * CallMesh.open then sends it the offer with this device's microphone track, with no second
 * check. The removed member stays in the call until some later awareness change.
 */
import '../../src/lib/mesh/polyfills.node.js';
import { afterEach, describe, expect, it } from 'vitest';
import { newId } from '../../src/lib/doc/ids';
import { decodeHuddleMessage, encodeHuddleMessage, HuddleMessageType, HUDDLE_PROTOCOL_ID, MAX_SIGNAL_FRAME_BYTES } from '../../src/lib/huddle/huddleMessages';
import { HuddleSignalling } from '../../src/lib/huddle/HuddleSignalling';
import { handleFrames } from '../../src/lib/mesh/frameStream';
import { addressOf, startNode, stopAll } from './helpers';

afterEach(async () => {
	await stopAll();
});

describe('a peer removed while its ACCEPT is outstanding', () => {
	it('gets no call', async () => {
		const owner = await startNode();
		const removed = await startNode();
		await owner.dial(addressOf(removed));
		const workspaceId = newId();
		const channelId = newId();

		let allowed = true; // the team's rule on the owner's side
		const signalling = new HuddleSignalling({ node: owner, mayJoin: (_ws, _ch, peer) => peer !== removed.peerId.toString() || allowed });
		await signalling.start();

		// The removed member's modified client: reads JOIN, waits for its removal to fold, then ACCEPTs.
		let release!: () => void;
		const removalFolded = new Promise<void>((r) => (release = r));
		let joined!: () => void;
		const gotJoin = new Promise<void>((r) => (joined = r));
		await handleFrames(
			removed,
			HUDDLE_PROTOCOL_ID,
			async (frames) => {
				const join = await frames.read();
				expect(decodeHuddleMessage(join!).type).toBe(HuddleMessageType.join);
				joined();
				await removalFolded;
				await frames.write(encodeHuddleMessage({ type: HuddleMessageType.accept }));
				await new Promise((r) => setTimeout(r, 2000)); // keeps the stream, reads the offer
			},
			{ maxFrameBytes: MAX_SIGNAL_FRAME_BYTES, onError: () => undefined }
		);

		const calling = signalling.call(removed.peerId.toString(), workspaceId, channelId);
		await gotJoin;
		// The team removes the member; the app ends calls the rule no longer allows.
		allowed = false;
		signalling.revisit();
		release();

		const outcome = await calling.then(
			(call) => (call.done ? 'ended' : 'live call to a removed member'),
			() => 'refused'
		);
		expect(outcome).not.toBe('live call to a removed member');
		expect(signalling.active).toBe(0);
		await signalling.stop();
	});
});
